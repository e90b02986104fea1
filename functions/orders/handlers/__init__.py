"""The orders context's Lambda entry points."""
