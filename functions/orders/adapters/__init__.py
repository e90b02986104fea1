"""The orders context's adapters: the only orders modules that talk to AWS or Stripe."""
