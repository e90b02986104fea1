"""The payouts context's domain: the vendor ledger, what facts post to it, vendors and cycles."""
