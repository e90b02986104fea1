"""Reconciliation's rules, pure: records and breaks (``model``), the engine that matches a day
three ways (``engine``), payout explanations (``explain``), the report's context and CSV
(``report``) and the bank-file parsers (``bank``: bytes in, lines out).

Nothing here talks to AWS, reads the environment or the clock: the use cases hand in what was
loaded and take back what to store, mail and alert.
"""
