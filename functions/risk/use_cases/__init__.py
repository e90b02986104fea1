"""What the risk context does, each use case taking its ports: ``screening`` (an order's
signals and rules), ``customer_history`` (fraud decisions, refunds and chargebacks filed for
later screenings), ``management`` (rules, lists, audit), ``review_queue`` and
``stored_history`` (a backtest over a tenant's stored orders)."""
