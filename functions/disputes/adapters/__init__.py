"""The chargeback desk's adapters: the only modules of the context that talk to AWS or Stripe."""
