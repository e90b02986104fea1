"""What operators see and do in a vendor's ledger: balances, entries, adjustments."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from functions.payouts.domain.ledger import Entry
from functions.payouts.domain.postings import Refused, adjustment
from functions.payouts.ports import Ports
from functions.payouts.use_cases.vendors import vendor as vendor_of
from shared.money import Money


def balances(ports: Ports, tenant: str, vendor_id: str) -> dict[str, dict[str, str]]:
    """currency → book → amount as text (``Money.decimal_text``), per currency, never netted."""
    vendor_of(ports, tenant, vendor_id)
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for (currency, book), amount in sorted(ports.ledger.balances(tenant, vendor_id).items()):
        found[currency][book.value] = Money.of(amount, currency).decimal_text()
    return dict(found)


def entry_view(item: Entry, vendor_id: str) -> dict[str, Any]:
    return {
        "entry": item.key,
        "kind": item.kind.value,
        "occurred_at": item.occurred_at.isoformat(),
        "currency": item.currency,
        "order_id": item.order_id,
        "line": item.line,
        "event": item.event_id,
        "amount": Money.of(
            sum(p.amount for p in item.postings if p.account.holder == vendor_id), item.currency
        ).decimal_text(),
        "postings": [
            {
                "account": str(p.account),
                "amount": Money.of(p.amount, item.currency).decimal_text(),
            }
            for p in item.postings
        ],
        "refs": dict(item.refs),
        **({"reason": item.reason} if item.reason else {}),
        **({"actor": item.actor} if item.actor else {}),
    }


def entries(
    ports: Ports, tenant: str, vendor_id: str, since: datetime | None = None
) -> list[dict[str, Any]]:
    return [entry_view(e, vendor_id) for e in ports.ledger.entries(tenant, vendor_id, since=since)]


def adjust(
    ports: Ports,
    tenant: str,
    vendor_id: str,
    *,
    adjustment_id: str,
    amount: int,
    currency: str,
    reason: str,
    who: str,
) -> dict[str, Any]:
    """An operator's adjustment of a vendor's available balance (reason and who required; the
    id makes a retry add nothing). Refused with every reason, nothing posted."""
    vendor = vendor_of(ports, tenant, vendor_id).vendor
    problems = []
    if currency not in vendor.currencies:
        problems.append(f"{vendor_id} is not paid in {currency} ({', '.join(vendor.currencies)})")
    try:
        made = adjustment(
            tenant,
            currency,
            adjustment_id,
            vendor_id,
            amount,
            ports.clock.now(),
            reason=reason,
            actor=who,
        )
    except Refused as refused:
        raise Refused([*refused.reasons, *problems]) from None
    if problems:
        raise Refused(problems)
    added = ports.ledger.post(tenant, [made])
    return {"posted": bool(added), **entry_view(made, vendor_id)}
