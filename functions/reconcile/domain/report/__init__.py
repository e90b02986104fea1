"""The daily reconciliation report: what one tenant's day matched, what broke, what was done.

Built from the engine's ``ReconResult`` (never from the raw records again), the carry-forward of
yesterday's open breaks, and the refunds the daily run attempted:

- ``context.report_context``: every figure the report shows, as plain JSON-ready values
  (money as ``{"amount": minor units, "currency": ISO code}``, dates as ISO strings), so that
  the same dict feeds the templates and ``summary.json``;
- ``rendering.render_report``: the e-mail to the tenant's finance list (subject, HTML, text);
- ``csv_export.report_csv``: every line, for the spreadsheet;
- ``context.report_summary``: the headline part of the context, for ``summary.json``;
- ``location.report_key``: where each of the three lands in S3.

An e-mail with ten thousand breaks is read by nobody, so ``render_report`` shows the first
``max_breaks`` breaks (P1 first) and ``max_payouts`` payouts (the troubled first) and says how
many more the CSV holds. The CSV always holds everything.

What the daily run did (``ActionTaken``) is in ``functions.reconcile.domain.actions``; the
report's labels are in ``words``.
"""
