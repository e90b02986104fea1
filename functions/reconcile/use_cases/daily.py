"""One tenant's daily reconciliation: load, reconcile, carry breaks, act, report.

Re-running a day is safe: breaks keep their ids (updated, not duplicated), a refund is claimed
once per idempotency key before the refund workflow is started (whose execution name and
gateway idempotency key come from the same key), and the report is overwritten in place.

Refunds are taken only for breaks the engine says to refund (duplicate payments, payments for
cancelled or failed orders), and only when the tenant switched them on; in dry run they are
listed, above the tenant's maximum they are left to an operator.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from functions.reconcile.domain.actions import ActionTaken, refund_cause, refund_id_for
from functions.reconcile.domain.engine import (
    ReconConfig,
    ReconResult,
    carry_forward,
    reconcile,
    split_by_scope,
)
from functions.reconcile.domain.model import Break, Priority
from functions.reconcile.domain.report.csv_export import report_csv
from functions.reconcile.domain.report.location import report_key
from functions.reconcile.domain.report.rendering import render_report
from functions.reconcile.ports import (
    Alerts,
    BreakLedger,
    CaseOpener,
    DayLoader,
    LoadWindow,
    RefundStarter,
    ReportMailer,
    ReportSink,
)
from shared.notices.reconcile import BreakLine, ReconciliationBreaks
from shared.observability import logger
from shared.refund_causes import RefundCause
from shared.tenants import TenantSettings


@dataclass
class DailyReconciliation:
    loader: DayLoader
    breaks: BreakLedger
    start_refund: RefundStarter
    reports: ReportSink
    notifier: ReportMailer
    alerts: Alerts
    engine: Callable[..., ReconResult] = reconcile
    # "Chase the settlement" opens a query case when wired (none: the action is only listed).
    open_case: CaseOpener | None = None

    def run(self, tenant: TenantSettings, day: date) -> dict[str, Any]:
        settings = tenant.reconciliation
        previous = self.breaks.open_breaks(tenant.id)
        inputs = self.loader.load(
            tenant.id,
            day,
            tenant.timezone,
            LoadWindow(
                settings.grace_days, settings.date_window_days, settings.cancellation_window_days
            ),
            previous,
        )
        result = self.engine(
            inputs,
            config=ReconConfig(
                grace_days=settings.grace_days,
                date_window_days=settings.date_window_days,
                settlement_patterns=settings.settlement_patterns,
            ),
        )
        in_scope, out_of_scope = split_by_scope(previous, inputs)
        untouched = [replace(b, age_days=max(0, (day - b.first_seen).days)) for b in out_of_scope]
        carried = carry_forward(in_scope, result.breaks, day)
        open_now = carried.opened + carried.still_open
        actions = self._act(tenant, open_now)
        self.breaks.save(tenant.id, day, open_now + untouched, carried.closed)

        subject, html, text = render_report(result, carried, actions, tenant)
        csv_text = report_csv(result, actions, carried=carried)
        keys = {
            "html": report_key(tenant.id, day, "report.html"),
            "csv": report_key(tenant.id, day, "report.csv"),
            "json": report_key(tenant.id, day, "summary.json"),
        }
        summary = self._summary(result, carried, actions, untouched, keys)
        summary["query_cases"] = self._chase(tenant, open_now)
        self.reports.put(keys["html"], html.encode(), "text/html; charset=utf-8")
        self.reports.put(keys["csv"], csv_text.encode(), "text/csv; charset=utf-8")
        self.reports.put(
            keys["json"], json.dumps(summary, indent=1, default=str).encode(), "application/json"
        )
        summary["email_message_id"] = self.notifier.email(
            tenant, subject, html, text, f"{tenant.id}:reconciliation:{day.isoformat()}"
        )
        urgent = [b for b in carried.opened if b.priority == Priority.P1]
        if urgent:
            self.alerts.send(
                ReconciliationBreaks(
                    tenant=tenant.id,
                    day=day.isoformat(),
                    report=keys["html"],
                    breaks=tuple(
                        BreakLine(
                            break_id=b.break_id,
                            break_class=b.break_class.value,
                            amount=b.amount,
                            currency=b.currency,
                            explanation=b.explanation,
                        )
                        for b in urgent
                    ),
                )
            )
        self.breaks.save_run(tenant.id, day, summary)
        logger.info("reconciled", extra={"day": day.isoformat(), **summary["counts"]})
        return summary

    def _act(self, tenant: TenantSettings, breaks: Sequence[Break]) -> list[ActionTaken]:
        settings = tenant.reconciliation
        actions: list[ActionTaken] = []
        for brk in breaks:
            action = brk.suggested_action
            if action is None or action.kind != "refund":
                continue
            order_id = brk.key("order_id")
            for instruction in action.refunds:
                planned = ActionTaken(
                    break_id=brk.break_id,
                    kind="refund",
                    payment_id=instruction.payment_id,
                    charge_id=instruction.charge_id,
                    amount=instruction.amount,
                    currency=instruction.currency,
                    status="dry_run",
                )
                if not settings.auto_refund:
                    actions.append(replace(planned, status="skipped_switch_off"))
                elif settings.max_refund is not None and instruction.amount > settings.max_refund:
                    actions.append(
                        replace(
                            planned,
                            status="skipped_over_max",
                            detail=f"over the automatic maximum {settings.max_refund}",
                        )
                    )
                elif settings.dry_run:
                    actions.append(replace(planned, detail="dry run: nothing refunded"))
                elif order_id is None:
                    actions.append(
                        replace(planned, status="failed", detail="no order holds this payment")
                    )
                else:
                    actions.append(
                        self._refund(
                            tenant,
                            order_id,
                            instruction.idempotency_key,
                            planned,
                            refund_cause(brk.break_class),
                        )
                    )
        return actions

    def _refund(
        self,
        tenant: TenantSettings,
        order_id: str,
        key: str,
        planned: ActionTaken,
        cause: RefundCause,
    ) -> ActionTaken:
        refund_id = refund_id_for(key)
        record: dict[str, Any] = {
            "break_id": planned.break_id,
            "order_id": order_id,
            "payment_id": planned.payment_id,
            "amount": planned.amount,
            "currency": planned.currency,
            "refund_id": refund_id,
            "status": "claimed",
        }
        earlier = self.breaks.claim_action(tenant.id, key, record)
        if earlier is not None and earlier.get("status") != "failed":
            return replace(planned, status="already_done", detail=f"refund {refund_id}")
        try:
            started = self.start_refund(
                tenant.id,
                order_id,
                amount=planned.amount,
                payment_id=planned.payment_id,
                refund_id=refund_id,
                cause=cause,
            )
        except Exception as error:  # recorded; the next run tries again under the same key
            logger.exception("reconciliation refund failed", extra={"order_id": order_id})
            self.breaks.update_action(
                tenant.id, key, {**record, "status": "failed", "error": str(error)[:300]}
            )
            return replace(planned, status="failed", detail=str(error)[:200])
        self.breaks.update_action(tenant.id, key, {**record, "status": "requested"})
        note = "started" if started.get("started") else "already running"
        return replace(planned, status="requested", detail=f"refund {refund_id} {note}")

    def _chase(self, tenant: TenantSettings, breaks: Sequence[Break]) -> dict[str, str]:
        """A query case per break whose action is to chase the settlement: break id → case."""
        if self.open_case is None:
            return {}
        cases = {}
        for brk in breaks:
            action = brk.suggested_action
            if action is None or action.kind != "chase_settlement":
                continue
            payout_id = brk.key("payout_id")
            cases[brk.break_id] = self.open_case(
                tenant.id,
                f"Where is payout {payout_id}? {brk.explanation}",
                break_id=brk.break_id,
                payout_id=payout_id,
                bank_line_id=brk.key("line_id"),
            )
        return cases

    @staticmethod
    def _summary(
        result: ReconResult,
        carried: Any,
        actions: list[ActionTaken],
        untouched: list[Break],
        keys: dict[str, str],
    ) -> dict[str, Any]:
        open_now = carried.opened + carried.still_open
        return {
            "tenant": result.tenant,
            "day": result.day.isoformat(),
            "counts": {
                "breaks_open": len(open_now) + len(untouched),
                "breaks_opened": len(carried.opened),
                "breaks_closed": len(carried.closed),
                "settlements_matched": len(result.settlements),
                "payouts": len(result.payouts),
                "actions": len(actions),
            },
            "by_class": dict(Counter(b.break_class.value for b in open_now)),
            "by_priority": dict(Counter(b.priority.value for b in open_now)),
            "actions": dict(Counter(a.status for a in actions)),
            "totals": {
                currency: {name: [t.count, t.amount] for name, t in rows.items()}
                for currency, rows in result.totals.items()
            },
            "report": keys,
        }
