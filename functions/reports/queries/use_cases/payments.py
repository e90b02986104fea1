"""Finance's queries: a payout's explanation, and whether days were paid."""

from __future__ import annotations

from datetime import date, timedelta

from functions.reports.queries.domain.payments import (
    PaidAnswer,
    PayoutAnswer,
    explain_payout,
    paid_for_days,
)
from functions.reports.queries.ports import OrderIndex, SettledPayouts, Settlements
from shared.order_lookup import Unsearchable
from shared.settlements import PayoutState, SettledPayout
from shared.tenants import TenantSettings

# How long after a day its money may still arrive in a payout (Stripe's schedules are 2 to 14
# days): payouts arriving this long after the range are read too.
PAYOUT_LAG_DAYS = 14
# The longest range one question covers (a month): every order changed in it is read.
LONGEST_RANGE_DAYS = 31


def _as_of(tenant: TenantSettings, payout: PayoutState, today: date) -> date:
    """The day whose reconciliation judges the payout: once past the grace days (so a payout
    that never arrived is missing), never after today."""
    arrival = payout.arrival_date.date() if payout.arrival_date else today
    return min(today, arrival + timedelta(days=tenant.reconciliation.grace_days + 1))


def _settled(
    reconciled: SettledPayouts, tenant: TenantSettings, payouts: list[PayoutState], today: date
) -> dict[str, SettledPayout]:
    """Each payout as the reconciliation of its own judging day sees it (one run per distinct
    day: payouts arriving the same day share it)."""
    by_day: dict[date, set[str]] = {}
    for payout in payouts:
        by_day.setdefault(_as_of(tenant, payout, today), set()).add(payout.payout_id)
    found: dict[str, SettledPayout] = {}
    for day, wanted in sorted(by_day.items()):
        for settled in reconciled(tenant, day):
            if settled.payout_id in wanted:
                found[settled.payout_id] = settled
    return found


def explain_payout_query(
    settlements: Settlements,
    reconciled: SettledPayouts,
    tenant: TenantSettings,
    payout_id: str,
    today: date,
) -> PayoutAnswer | None:
    """The payout's explanation, or ``None`` when the tenant has no such payout."""
    payout = settlements.payout(tenant.id, payout_id.strip())
    if payout is None:
        return None
    transactions = settlements.transactions(tenant.id, payout.payout_id)
    settled = _settled(reconciled, tenant, [payout], today).get(payout.payout_id)
    return explain_payout(tenant.id, payout, transactions, settled)


def kept_from(tenant: TenantSettings, today: date) -> date:
    years = tenant.retention.financial_years
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def paid_for_days_query(
    settlements: Settlements,
    reconciled: SettledPayouts,
    orders: OrderIndex,
    tenant: TenantSettings,
    first: date,
    last: date,
    today: date,
) -> PaidAnswer:
    reasons = []
    if last < first:
        reasons.append(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days + 1 > LONGEST_RANGE_DAYS:
        reasons.append(f"a range covers at most {LONGEST_RANGE_DAYS} days; ask in parts")
    if first > today:
        reasons.append(f"{first} has not begun")
    if reasons:
        raise Unsearchable("; ".join(reasons))
    start = max(first, kept_from(tenant, today))
    payouts = settlements.arriving(tenant.id, start, last + timedelta(days=PAYOUT_LAG_DAYS))
    with_transactions = [(p, settlements.transactions(tenant.id, p.payout_id)) for p in payouts]
    # A local day touches the UTC day before or after it.
    utc_days = [
        date.fromordinal(n) for n in range(start.toordinal() - 1, min(last, today).toordinal() + 2)
    ]
    return paid_for_days(
        tenant.id,
        first,
        last,
        timezone=tenant.timezone,
        today=today,
        kept_from=kept_from(tenant, today),
        orders=orders.changed_on(tenant.id, utc_days),
        payouts=with_transactions,
        settled=_settled(reconciled, tenant, payouts, today),
    )
