"""The queries' ports over the table (the only query modules that talk to AWS)."""
