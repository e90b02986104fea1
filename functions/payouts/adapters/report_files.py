"""A cycle's files in the reports bucket (``ports.ReportFiles``), under ``reports/``, whose
lifecycle rule keeps them the deployment's financial retention."""

from __future__ import annotations

from shared import aws


class S3ReportFiles:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> str:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
        )
        return f"s3://{self.bucket}/{key}"
