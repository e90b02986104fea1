"""Payment and customer queries answered from our records (issue #16, items 6 and 7): finding a
customer's orders, "charged twice?", "where is my refund?", "failed but charged?", how a payout
came to its net, whether days were paid, and query cases for what the records cannot answer."""
