"""Council policy as governed data: proposed changes, their checks, and published versions.

Above both the rulebook (which turns files into bundles) and the store (which keeps versions):
a change is checked against the rules in force, published only with a second approver, and then
kept as an immutable version that every service process layers over the shipped rules.
"""
