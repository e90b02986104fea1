"""The payouts context's Lambda entry points."""
