"""The risk context's adapters on the single table: customer history, velocity counters and
the stored orders a backtest reads (rules and lists versions: ``shared/risk_store.py``)."""
