"""Powertools logger, configured from the environment the stack sets.

Tracer and Metrics live in ``shared.tracing`` and ``shared.metrics``: the X-Ray SDK alone adds
about 70 ms (and botocore) to an import path, so only handlers that make AWS calls worth tracing
pay for it. Lambda's active tracing still records every invocation.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger()
