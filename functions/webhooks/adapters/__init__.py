"""The webhooks context's own adapters (most of its stores live in ``shared/``: raw events,
orders, settlements, tenant secrets, the gateway)."""
