"""What the webhooks context does, each use case taking its ports: ``accept`` (the front door),
``process`` (a stored event to its effects), ``apply`` (events to order aggregates), ``replay``
and ``views`` (what operators ask of ingestion)."""
