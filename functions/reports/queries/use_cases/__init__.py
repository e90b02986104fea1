"""What the queries do, over their ports."""
