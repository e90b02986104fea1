"""Powertools logger, tracer and metrics, configured from the environment the stack sets.

``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` come from the function's
environment; the local stack disables tracing (no X-Ray daemon) and metrics flushing.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
