"""What the operator API itself writes: the self-check's proof."""
