"""The risk context's adapters on the single table: customer history, velocity counters and
the stored orders a backtest reads, and the rules and lists versions (``risk_store``)."""
