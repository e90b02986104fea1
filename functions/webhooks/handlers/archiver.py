"""Hourly: every tenant's raw webhooks of the hours that ended, to the archive bucket
(``use_cases.archive``). Fails the invocation when a tenant could not be archived, after trying
every tenant: the alarm on this function's errors tells operations, and the next run catches up
from each tenant's checkpoint."""

from __future__ import annotations

from typing import Any

from functions.webhooks.composition import archive_raw_events
from shared.observability import logger


class ArchiveIncomplete(RuntimeError):
    """Some tenants' hours are not archived yet; the next run goes on from their checkpoint."""


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = archive_raw_events()
    summary = {
        "tenants": report.tenants,
        "objects_written": report.objects_written,
        "objects_found": report.objects_found,
        "events": report.events,
        "failed": [tenant for tenant, _ in report.failures],
    }
    logger.info("raw events archived", extra=summary)
    if report.failures:
        raise ArchiveIncomplete(f"not archived: {report.failures}")
    return summary
