"""Powertools logger, configured from the environment the stack sets.

No handler imports Powertools' Tracer: the X-Ray SDK costs more than ``import boto3`` on a
cold start (measured by bench/cold_start.py), and Lambda's active tracing already records every
invocation.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger()
