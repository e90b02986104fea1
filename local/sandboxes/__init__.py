"""Sandboxes that play Stripe, the carriers and the shop, on loopback only.

``stripe_sandbox`` serves the part of Stripe's REST API the product calls; ``shop`` and ``carriers``
build real-shaped webhook payloads; ``stripe_events`` turns the Stripe sandbox's outbox into
signed webhooks; ``delivery`` sends any of them to 127.0.0.1 with duplicates, reordering, delays
and retries; ``scenario`` builds a whole business day for one tenant. See docs/sandboxes.md.
"""
