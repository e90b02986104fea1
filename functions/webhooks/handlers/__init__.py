"""Lambda entry points of the webhooks context: ``ingress`` (the front door), ``processor``
(the table stream's consumer) and ``archiver`` (hourly: raw webhooks to the archive bucket)."""
