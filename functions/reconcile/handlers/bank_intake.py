"""The bank-file function: S3 notifications of files dropped at ``bank-statements/{tenant}/…``,
each parsed and stored by the intake (``use_cases.bank_intake``).

Settings: ``functions.reconcile.composition.ReconcileSettings``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.reconcile.composition import ReconcileSettings, bank_intake
    from shared.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    intake = bank_intake(ReconcileSettings.from_env())
    results = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        logger.append_keys(key=key)
        results.append({"key": key, **intake.receive(bucket, key)})
    return {"files": results}
