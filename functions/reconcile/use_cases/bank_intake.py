"""Bank statement files dropped at ``bank-statements/{tenant}/…``: parsed and stored on arrival.

The same file twice (by content) adds nothing. A file that cannot be read at all, or whose
tenant is unknown, is recorded as rejected; bad lines are quarantined with their line numbers
and reasons while the good lines land; either way the operators get an alert naming the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from functions.reconcile.domain.bank.file_record import file_summary
from functions.reconcile.ports import Alerts, BankFiles, ObjectPort, TenantLookup
from shared.notices.reconcile import BankFileProblem
from shared.observability import logger

PREFIX = "bank-statements/"


@dataclass(frozen=True)
class Intake:
    store: BankFiles
    tenants: TenantLookup
    objects: ObjectPort
    # The operations topic (the operators see every tenant's files).
    alerts: Alerts

    def receive(self, bucket: str, key: str) -> dict[str, Any]:
        from functions.reconcile.domain.bank import BankFileError, CsvMapping, parse, preset

        parts = key.split("/")
        tenant = parts[1] if len(parts) > 2 and key.startswith(PREFIX) else ""
        data = self.objects.read(bucket, key)
        sha = hashlib.sha256(data).hexdigest()
        settings = self.tenants.get(tenant) if tenant else None
        if settings is None:
            unknown = {"status": "rejected", "reason": f"no tenant {tenant!r} for {key}"}
            self.alerts.send(
                BankFileProblem(
                    tenant=None, file=key, rejected=True, reason=f"no tenant {tenant!r}"
                )
            )
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
            self.alerts.send(
                BankFileProblem(tenant=tenant, file=key, rejected=True, reason=str(error))
            )
            logger.error("bank file rejected", extra={"key": key, "reason": str(error)})
            return record
        # Lines first, then the record: a crash between the two is retried (S3 redelivers),
        # and rewriting the same line ids changes nothing.
        self.store.put_lines(parsed.lines)
        summary = file_summary(parsed)
        self.store.put_file_record(tenant, sha, key, summary)
        if summary["status"] != "stored":
            self.alerts.send(
                BankFileProblem(
                    tenant=tenant,
                    file=key,
                    lines_stored=summary["lines"],
                    quarantined=summary["quarantined_count"],
                    failed_controls=summary["failed_controls"],
                    examples=tuple(
                        f"line {q['line_no']}: {q['reason']}" for q in summary["quarantined"][:5]
                    ),
                )
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
