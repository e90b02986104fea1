"""Lambda entry points of the webhooks context: ``ingress`` (the front door) and ``processor``
(the table stream's consumer)."""
