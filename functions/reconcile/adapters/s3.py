"""S3: the reports bucket the daily run writes to, and the bank-statement files it reads."""

from __future__ import annotations

from shared import aws


class S3Reports:
    """``ReportSink``: the day's report, CSV and summary in the reports bucket."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
        )


class S3Objects:
    """``ObjectPort``: a dropped bank file, whole."""

    def read(self, bucket: str, key: str) -> bytes:
        body: bytes = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
