"""A cycle's large files streamed to the reports bucket on moto: written in parts (a multipart
upload, never the whole file held), stored whole when the block ends, and not at all when it
raised."""

from __future__ import annotations

from typing import Any

import pytest

from functions.payouts.adapters.report_files import S3ReportFiles

BUCKET = "reports-test"
PART = 5 * 1024 * 1024  # S3's smallest part


def _rows(count: int) -> list[str]:
    return [f"2026-11-02,v{n:05d},EUR,é{n},{n * 7}.00\n" for n in range(count)]


def test_a_file_larger_than_a_part_is_uploaded_in_parts_and_read_back_whole(
    aws_env: Any,
) -> None:
    aws_env["s3"].create_bucket(Bucket=BUCKET)
    files = S3ReportFiles(BUCKET, part_bytes=PART)
    rows = _rows(400_000)  # ~12 MB: more than two parts' worth
    with files.stream("reports/acme/payouts/c/detail.csv", "text/csv") as out:
        for n in range(0, len(rows), 1000):
            out.write("".join(rows[n : n + 1000]))
    assert out.name == f"s3://{BUCKET}/reports/acme/payouts/c/detail.csv"
    stored = aws_env["s3"].get_object(Bucket=BUCKET, Key="reports/acme/payouts/c/detail.csv")
    assert stored["ContentType"] == "text/csv"
    body = stored["Body"].read()
    assert body == "".join(rows).encode()
    assert len(body) > 2 * PART
    head = aws_env["s3"].head_object(
        Bucket=BUCKET, Key="reports/acme/payouts/c/detail.csv", PartNumber=1
    )
    assert head["PartsCount"] >= 2


def test_a_small_file_is_one_put(aws_env: Any) -> None:
    aws_env["s3"].create_bucket(Bucket=BUCKET)
    with S3ReportFiles(BUCKET).stream("small.csv", "text/csv") as out:
        out.write("a,b\n1,2\n")
    assert aws_env["s3"].get_object(Bucket=BUCKET, Key="small.csv")["Body"].read() == (
        b"a,b\n1,2\n"
    )
    assert aws_env["s3"].list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_a_stream_interrupted_stores_nothing_and_leaves_no_upload(aws_env: Any) -> None:
    aws_env["s3"].create_bucket(Bucket=BUCKET)
    files = S3ReportFiles(BUCKET, part_bytes=PART)
    rows = _rows(300_000)
    with (
        pytest.raises(ConnectionError),
        files.stream("reports/acme/payouts/c/detail.csv", "text/csv") as out,
    ):
        out.write("".join(rows))  # a part is uploaded already
        raise ConnectionError("the store went away half way")
    assert aws_env["s3"].list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert aws_env["s3"].list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
