"""A cycle's files in the reports bucket (``ports.ReportFiles``), under ``reports/``, whose
lifecycle rule keeps them the deployment's financial retention.

A large file (a cycle's detailed report: 1.4 million rows, 220 MB for a month of a large
marketplace) is streamed: written in parts of ``PART_BYTES`` as an S3 multipart upload, so the
function holds one part, never the file. A file smaller than one part is one ``put_object``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from shared import aws

# S3's smallest part is 5 MiB (but the last); 8 MiB parts keep a 220 MB report at 27 requests.
PART_BYTES = 8 * 1024 * 1024


class S3ReportFiles:
    def __init__(self, bucket: str, part_bytes: int = PART_BYTES) -> None:
        self.bucket = bucket
        self.part_bytes = part_bytes

    def put(self, key: str, body: bytes, content_type: str) -> str:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
        )
        return f"s3://{self.bucket}/{key}"

    @contextmanager
    def stream(self, key: str, content_type: str) -> Iterator[TextIO]:
        upload = _MultipartUpload(self, key, content_type)
        text = io.TextIOWrapper(
            io.BufferedWriter(upload, buffer_size=self.part_bytes),
            encoding="utf-8",
            newline="",
            write_through=False,
        )
        try:
            yield text
            text.flush()
            upload.finish()
        except BaseException:
            upload.abort()
            raise
        finally:
            upload.closing = True
            text.close()


class _MultipartUpload(io.RawIOBase):
    """Bytes gathered into parts of at least ``part_bytes``, each uploaded as it fills; the
    upload is begun with the first full part (a smaller file is one put)."""

    def __init__(self, files: S3ReportFiles, key: str, content_type: str) -> None:
        self.files = files
        self.key = key
        self.content_type = content_type
        self.pending = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.closing = False
        # What the stream's ``name`` tells: where the file is.
        self.name = f"s3://{files.bucket}/{key}"

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closing:  # the stream's close flushes into a finished or aborted upload
            return len(data)
        self.pending += data
        if len(self.pending) >= self.files.part_bytes:
            self._upload_part()
        return len(data)

    def _upload_part(self) -> None:
        client = aws.client("s3")
        if self.upload_id is None:
            self.upload_id = client.create_multipart_upload(
                Bucket=self.files.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
        number = len(self.parts) + 1
        sent = client.upload_part(
            Bucket=self.files.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=bytes(self.pending),
        )
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})
        self.pending.clear()

    def finish(self) -> None:
        if self.upload_id is None:
            self.files.put(self.key, bytes(self.pending), self.content_type)
            self.pending.clear()
            return
        if self.pending:
            self._upload_part()
        aws.client("s3").complete_multipart_upload(
            Bucket=self.files.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def abort(self) -> None:
        if self.upload_id is not None:
            aws.client("s3").abort_multipart_upload(
                Bucket=self.files.bucket, Key=self.key, UploadId=self.upload_id
            )
        self.pending.clear()
