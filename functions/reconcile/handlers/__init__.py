"""Reconciliation's Lambda entry points, one module each with a ``handler``: ``daily`` (the
hourly tick and on-demand runs) and ``bank_intake`` (bank files dropped in S3)."""
