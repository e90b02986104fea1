"""What the orders context does, as functions over its ports (``functions/orders/ports.py``)."""
