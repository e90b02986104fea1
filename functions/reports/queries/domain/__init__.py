"""The queries' rules over plain values: no I/O, no clock reads."""
