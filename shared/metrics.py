"""Powertools metrics (CloudWatch EMF); namespace from ``POWERTOOLS_METRICS_NAMESPACE``.

Every metric carries the tenant as a dimension: ``metrics.add_dimension("tenant", tenant)``.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics()

__all__ = ["MetricUnit", "metrics"]
