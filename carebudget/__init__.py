"""carebudget: Care Act 2014 personal budgets as durable workflows over versioned council rules."""
