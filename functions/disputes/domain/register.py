"""What operators read: a case as JSON (with its evidence, suggestion and timeline), the list
(open first, by deadline), and the dispute register as CSV for audits."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from functions.disputes.domain.case import DisputeCase
from functions.disputes.domain.evidence import EvidenceDraft
from functions.disputes.domain.ratios import RatioLine
from functions.disputes.domain.representment import suggest
from shared.money import Money

REGISTER_COLUMNS = (
    "dispute_id",
    "kind",
    "state",
    "stripe_status",
    "opened_at",
    "evidence_due_by",
    "submitted_at",
    "closed_at",
    "order_id",
    "charge_id",
    "card_brand",
    "network_reason_code",
    "reason",
    "amount",
    "fee",
    "currency",
    "partial",
    "assignee",
    "flags",
    "refusal",
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def case_summary(case: DisputeCase) -> dict[str, Any]:
    return {
        "dispute_id": case.dispute_id,
        "kind": str(case.kind),
        "state": str(case.state),
        "stripe_status": case.stripe_status,
        "order_id": case.order_id,
        "charge_id": case.charge_id,
        "card_brand": case.card_brand,
        "network_reason_code": case.network_reason_code,
        "reason": case.reason,
        "amount": case.amount,
        "currency": case.currency,
        "amount_text": case.money.format(grouping=True),
        "fee": case.fee,
        "partial": case.partial,
        "evidence_due_by": _iso(case.evidence_due_by),
        "assignee": case.assignee,
        "flags": [str(f) for f in case.flags],
        "refusal": case.refusal,
        "version": case.version,
    }


def case_view(case: DisputeCase) -> dict[str, Any]:
    draft = EvidenceDraft.model_validate(case.evidence) if case.evidence else EvidenceDraft()
    suggestion = suggest(case, draft)
    return {
        **case_summary(case),
        "opened_at": _iso(case.opened_at),
        "submitted_at": _iso(case.submitted_at),
        "closed_at": _iso(case.closed_at),
        "charge_amount": case.charge_amount,
        "funds_withdrawn": case.funds_withdrawn,
        "funds_reinstated": case.funds_reinstated,
        "suggestion": {"action": suggestion.action, "reason": suggestion.reason},
        "evidence": {
            "fields": draft.fields,
            "enhanced": draft.enhanced,
            "files": {f: r.model_dump() for f, r in draft.rendered.items()},
            "ce3_qualifying": [p.model_dump(mode="json") for p in draft.ce3_qualifying],
            "missing": draft.missing,
            "edited_fields": case.edited_fields,
        },
        "reminders_sent": case.reminders_sent,
        "timeline": [e.model_dump(mode="json") for e in case.timeline],
    }


def ordered(open_cases: Iterable[DisputeCase], closed: Iterable[DisputeCase]) -> list[DisputeCase]:
    """Open cases first, the nearest deadline first (none last); then closed ones, the latest
    closed first."""
    first = sorted(
        open_cases,
        key=lambda c: (c.evidence_due_by is None, _iso(c.evidence_due_by) or "", c.dispute_id),
    )
    later = sorted(closed, key=lambda c: (_iso(c.closed_at) or "", c.dispute_id), reverse=True)
    return [*first, *later]


def register_csv(cases: Iterable[DisputeCase]) -> str:
    """Every case, one row each: amounts as decimal text of their currency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REGISTER_COLUMNS)
    for case in cases:
        writer.writerow(
            [
                case.dispute_id,
                case.kind,
                case.state,
                case.stripe_status,
                _iso(case.opened_at),
                _iso(case.evidence_due_by) or "",
                _iso(case.submitted_at) or "",
                _iso(case.closed_at) or "",
                case.order_id or "",
                case.charge_id,
                case.card_brand or "",
                case.network_reason_code or "",
                case.reason or "",
                case.money.decimal_text(),
                Money.of(case.fee, case.currency).decimal_text(),
                case.currency,
                "yes" if case.partial else "no",
                case.assignee or "",
                " ".join(str(f) for f in case.flags),
                case.refusal or "",
            ]
        )
    return out.getvalue()


def ratio_json(line: RatioLine) -> dict[str, Any]:
    return {
        "programme": line.programme,
        "title": line.title,
        "brand": line.brand,
        "month": line.month.strftime("%Y-%m"),
        "count": line.count,
        "denominator": line.denominator,
        "rate": line.rate_percent,
        "projected_count": line.projected_count,
        "projected_denominator": line.projected_denominator,
        "projected_rate": line.projected_rate_percent,
        "thresholds_from": _iso(line.effective_from),
        "levels": [
            {
                "level": s.level,
                "min_rate_bp": s.min_ratio_bp,
                "min_count": s.min_count,
                "reached": s.reached,
                "projected_reached": s.projected_reached,
                "projected_share_percent": s.projected_share,
            }
            for s in line.levels
        ],
        "warnings": list(line.warnings),
    }


def ratio_report_text(tenant: str, month: str, lines: Iterable[dict[str, Any]]) -> list[str]:
    """The monthly ratio report as the CLI prints it (``ratio_json`` lines)."""
    out = [f"{tenant} {month}"]
    for line in lines:
        out.append(
            f"  {line['title']} ({line['brand']}): {line['count']:,} of "
            f"{line['denominator']:,} = {line['rate']}; month's end projected "
            f"{line['projected_count']:,} of {line['projected_denominator']:,} = "
            f"{line['projected_rate']} (thresholds from {line['thresholds_from']})"
        )
        for level in line["levels"]:
            out.append(
                f"    {level['level']:15} {level['min_rate_bp'] / 100:.2f} % and "
                f"{level['min_count']:,}: {'REACHED' if level['reached'] else 'not reached'}, "
                f"projected at {level['projected_share_percent']} %"
            )
        out += [f"    warning: {warning}" for warning in line["warnings"]]
    return out
