"""Powertools tracer (X-Ray), for handlers whose AWS calls are worth a subsegment each."""

from __future__ import annotations

from aws_lambda_powertools import Tracer

tracer = Tracer()
