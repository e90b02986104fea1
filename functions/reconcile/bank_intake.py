"""Bank statement files dropped at ``bank-statements/{tenant}/…``: parsed and stored on arrival.

The same file twice (by content) adds nothing. A file that cannot be read at all, or whose
tenant is unknown, is recorded as rejected; bad lines are quarantined with their line numbers
and reasons while the good lines land; either way the operators get an alert naming the file.

Environment: ``TABLE_NAME``, ``OPS_ALERTS_TOPIC``.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

from functions.reconcile.bank_store import BankStore, file_summary
from shared import aws
from shared.observability import logger
from shared.tenants import TenantDirectory

PREFIX = "bank-statements/"


class ObjectPort(Protocol):
    def read(self, bucket: str, key: str) -> bytes: ...


class AlertPort(Protocol):
    def alert(self, subject: str, message: dict[str, Any]) -> None: ...


class S3Objects:
    def read(self, bucket: str, key: str) -> bytes:
        body: bytes = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return body


class OpsAlerts:
    def __init__(self, topic: str | None) -> None:
        self.topic = topic

    def alert(self, subject: str, message: dict[str, Any]) -> None:
        if not self.topic:
            logger.warning("no ops topic for the alert", extra={"subject": subject})
            return
        aws.client("sns").publish(
            TopicArn=self.topic,
            Subject=subject[:100],
            Message=json.dumps(message, default=str, indent=1),
        )


@dataclass(frozen=True)
class Intake:
    store: BankStore
    tenants: TenantDirectory
    objects: ObjectPort
    alerts: AlertPort

    def receive(self, bucket: str, key: str) -> dict[str, Any]:
        from functions.reconcile.bank import BankFileError, CsvMapping, parse, preset

        parts = key.split("/")
        tenant = parts[1] if len(parts) > 2 and key.startswith(PREFIX) else ""
        data = self.objects.read(bucket, key)
        sha = hashlib.sha256(data).hexdigest()
        settings = self.tenants.get(tenant) if tenant else None
        if settings is None:
            unknown = {"status": "rejected", "reason": f"no tenant {tenant!r} for {key}"}
            self.alerts.alert(f"Bank file rejected: {key}", unknown)
            logger.error("bank file rejected", extra={"key": key, **unknown})
            return unknown
        previous = self.store.file_record(tenant, sha)
        if previous is not None and previous.get("status") != "rejected":
            logger.info("bank file already stored", extra={"key": key, "first": previous["key"]})
            self.store.note_duplicate(tenant, sha, key, previous["key"])
            return {"status": "duplicate", "first_key": previous["key"], "lines": 0}
        configured = settings.reconciliation.bank_csv
        try:
            mapping = (
                preset(configured)
                if isinstance(configured, str)
                else CsvMapping.model_validate(configured)
                if configured
                else None
            )
            parsed = parse(data, tenant=tenant, file=key, format="auto", csv_mapping=mapping)
        except (BankFileError, ValueError) as error:
            record: dict[str, Any] = {
                "status": "rejected",
                "reason": str(error),
                "bytes": len(data),
            }
            self.store.put_file_record(tenant, sha, key, record)
            self.alerts.alert(f"Bank file rejected: {key}", {"tenant": tenant, **record})
            logger.error("bank file rejected", extra={"key": key, "reason": str(error)})
            return record
        # Lines first, then the record: a crash between the two is retried (S3 redelivers),
        # and rewriting the same line ids changes nothing.
        self.store.put_lines(parsed.lines)
        summary = file_summary(parsed)
        self.store.put_file_record(tenant, sha, key, summary)
        if summary["status"] != "stored":
            self.alerts.alert(
                f"Bank file {key}: {summary['quarantined_count']} lines quarantined, "
                f"{summary['failed_controls']} control checks failed",
                {
                    "tenant": tenant,
                    "key": key,
                    "lines_stored": summary["lines"],
                    "quarantined": summary["quarantined"][:50],
                    "statements": summary["statements"],
                },
            )
        logger.info(
            "bank file stored",
            extra={
                "key": key,
                "lines": summary["lines"],
                "quarantined": summary["quarantined_count"],
            },
        )
        return {k: summary[k] for k in ("status", "format", "lines", "quarantined_count")}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = os.environ["TABLE_NAME"]
    intake = Intake(
        BankStore(table),
        TenantDirectory(table),
        S3Objects(),
        OpsAlerts(os.environ.get("OPS_ALERTS_TOPIC")),
    )
    results = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        logger.append_keys(key=key)
        results.append({"key": key, **intake.receive(bucket, key)})
    return {"files": results}
