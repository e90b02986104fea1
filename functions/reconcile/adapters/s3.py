"""S3: the reports bucket the daily run writes to (``shared.team_reports.S3Reports``, the
``ReportSink``), and the bank-statement files it reads."""

from __future__ import annotations

from shared import aws
from shared.team_reports import S3Reports

__all__ = ["S3Objects", "S3Reports"]


class S3Objects:
    """``ObjectPort``: a dropped bank file, whole."""

    def read(self, bucket: str, key: str) -> bytes:
        body: bytes = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
