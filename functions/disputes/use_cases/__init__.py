"""What the chargeback desk does, over its ports."""
