"""Reconciliation's ports, implemented: the single table (``bank_store``, ``break_store``,
``loader``), S3 (``s3``) and the team's e-mail (``team_notifier``). The only reconcile modules
that talk to AWS (through ``shared.aws``)."""
