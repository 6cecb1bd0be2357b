"""Notices to the person and staff (Care Act 2014 s4: information people can act on in time).

`outbox` says who is told what (letter ready, counter-proposal made, review due, case overdue)
and sends the outbox by SMTP (CAREBUDGET_SMTP_*): each row is claimed, sent, then marked sent, so
a crash never loses one, and two senders never send the same one. `sink` is the development
SMTP server `carebudget serve` starts, keeping each message as a file staff can read in the web.
"""
