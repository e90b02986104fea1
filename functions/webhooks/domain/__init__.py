"""The webhooks context's domain: what each source sends and how it is verified and
identified (``sources``), provider payloads turned into domain events (``normalise``), what the
front door decides (``intake``) and the pure parts of applying events to orders (``applying``).

No I/O here: no boto3, stripe, ``shared.aws``, environment or clock reads.
"""
