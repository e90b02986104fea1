"""Stripe Connect mode (docs/payouts.md, "Stripe Connect"): the cycle's transfers, and the
reversals of what a vendor was paid and then lost to a refund, a return or a chargeback.

Nothing is asked twice: a line's transfer id is written as soon as Stripe gives it (a resumed
run skips the line, or first looks for the transfer by its group and key), every request carries
a key made of its whole identity, and a reversal's entry is keyed by the event and the vendor.
"""

from __future__ import annotations

from collections.abc import Sequence

from functions.payouts.domain.connect import (
    SOURCE_LOOKBACK,
    STRIPE_CONNECT,
    ReversalOrder,
    TransferRefused,
    pays_by_transfer,
    reversal_key,
    reversed_from,
    shortfall,
    source_charge,
    taken_from,
    transfer_order,
    transfer_reversed,
)
from functions.payouts.domain.cycles import Cycle, CycleLine, LineStatus
from functions.payouts.domain.ledger import Entry, EntryKind
from functions.payouts.domain.settlement import payout_failed
from functions.payouts.domain.vendors import StripeConnect
from functions.payouts.ports import Ports
from shared.notices.payouts import ConnectReversalFailed
from shared.observability import logger
from shared.tenants import TenantSettings


def connect_mode(ports: Ports, tenant: TenantSettings) -> bool:
    return ports.transfers is not None and tenant.payouts.connect_transfers


def pay_by_transfers(
    ports: Ports, tenant: TenantSettings, cycle: Cycle, lines: list[CycleLine], resumed: bool
) -> list[CycleLine]:
    """Each payable line to a connected account paid by one transfer, its id recorded on the
    line at once. A refused transfer fails the line: its money returns to the vendor's balance
    (``payout_failed``). Any other error propagates: the cycle stays a draft and the next run
    resumes it, asking Stripe the same under the same key."""
    transfers = ports.transfers
    if transfers is None or not connect_mode(ports, tenant):
        return lines
    done: list[CycleLine] = []
    for line in lines:
        if not pays_by_transfer(line):
            done.append(line)
            continue
        entries = ports.ledger.entries(
            tenant.id, line.vendor_id, since=cycle.cutoff - SOURCE_LOOKBACK
        )
        source = source_charge(entries, line.vendor_id, line.currency, cycle.cycle_id, line.amount)
        order = transfer_order(tenant.id, cycle.cycle_id, line, source)
        try:
            transfer_id = (transfers.find(tenant.id, order) if resumed else None) or (
                transfers.transfer(tenant.id, order)
            )
        except TransferRefused as refused:
            logger.warning(
                "Connect transfer refused",
                extra={"vendor": line.vendor_id, "code": refused.code, "cycle": cycle.cycle_id},
            )
            back = payout_failed(
                tenant.id,
                line.currency,
                cycle.cycle_id,
                line.vendor_id,
                line.amount,
                ports.clock.now(),
            )
            ports.ledger.post(tenant.id, [back] if back else [])
            paid = line.model_copy(
                update={
                    "status": LineStatus.FAILED,
                    "reason": f"Stripe transfer refused: {refused}",
                }
            )
        else:
            paid = line.model_copy(
                update={
                    "status": LineStatus.PAID,
                    "transfer_id": transfer_id,
                    "source_transaction": source or "",
                }
            )
        ports.cycles.put_lines(tenant.id, cycle.cycle_id, [paid])
        done.append(paid)
    return done


def _latest_transfer(
    ports: Ports, tenant: str, vendor_id: str, currency: str
) -> tuple[Cycle, CycleLine] | None:
    """The vendor's newest cycle line paid by a transfer in the currency, with its cycle."""
    for cycle in ports.cycles.recent(tenant):
        for line in ports.cycles.lines(tenant, cycle.cycle_id):
            if (line.vendor_id, line.currency) == (vendor_id, currency) and line.transfer_id:
                return cycle, line
    return None


def reverse_after_payout(
    ports: Ports,
    tenant: TenantSettings,
    order_id: str,
    event_id: str,
    currency: str,
    posted: Sequence[Entry],
) -> int:
    """After a refund, a return or a chargeback a vendor bears was posted (``posted``: the
    event's entries): for each Connect vendor whose unpaid money no longer covers what the
    event took, that shortfall is reversed from its newest transfer (at most what is left of
    it). When Stripe refuses (the connected account's balance is too low), the negative
    balance stays for the next cycles to carry and recover, and the team is told. Returns how
    much was reversed."""
    if not connect_mode(ports, tenant) or ports.transfers is None:
        return 0
    reversed_total = 0
    for vendor_id in sorted({e.ref("vendor") for e in posted if e.ref("vendor")}):
        taken = taken_from([e for e in posted if e.ref("vendor") == vendor_id], vendor_id, currency)
        if taken == 0 or ports.ledger.posted(
            tenant.id, vendor_id, currency, order_id, event_id, EntryKind.TRANSFER_REVERSAL
        ):
            continue
        version = ports.vendors.latest(tenant.id, vendor_id)
        if version is None or not isinstance(version.vendor.payout, StripeConnect):
            continue
        short = shortfall(ports.ledger.balances(tenant.id, vendor_id), currency, taken)
        found = _latest_transfer(ports, tenant.id, vendor_id, currency) if short else None
        if found is None or found[1].method != STRIPE_CONNECT:
            continue
        cycle, paid_by = found
        # Reversals of a transfer come after it: the entries since its cycle's cut-off hold them.
        history = ports.ledger.entries(tenant.id, vendor_id, since=cycle.cutoff)
        amount = min(short, paid_by.amount - reversed_from(history, paid_by.transfer_id))
        if amount <= 0:
            continue
        reversed_total += _reverse(
            ports, tenant, order_id, event_id, currency, vendor_id, paid_by, amount
        )
    return reversed_total


def _reverse(
    ports: Ports,
    tenant: TenantSettings,
    order_id: str,
    event_id: str,
    currency: str,
    vendor_id: str,
    paid_by: CycleLine,
    amount: int,
) -> int:
    assert ports.transfers is not None
    order = ReversalOrder(
        key=reversal_key(tenant.id, currency, order_id, event_id, vendor_id, paid_by.transfer_id),
        transfer_id=paid_by.transfer_id,
        amount=amount,
        metadata={"tenant": tenant.id, "order": order_id, "event": event_id, "vendor": vendor_id},
    )
    try:
        reversal_id = ports.transfers.reverse(tenant.id, order)
    except TransferRefused as refused:
        logger.warning(
            "Connect transfer reversal refused: the negative balance is carried",
            extra={"vendor": vendor_id, "code": refused.code, "transfer": paid_by.transfer_id},
        )
        ports.alerts.send(
            ConnectReversalFailed(
                tenant=tenant.id,
                order_id=order_id,
                event_id=event_id,
                vendor_id=vendor_id,
                transfer_id=paid_by.transfer_id,
                amount=amount,
                currency=currency,
                reason=str(refused),
            )
        )
        return 0
    made = transfer_reversed(
        tenant.id,
        currency,
        order_id,
        event_id,
        vendor_id,
        amount,
        paid_by.transfer_id,
        reversal_id,
        ports.clock.now(),
    )
    ports.ledger.post(tenant.id, [made] if made else [])
    return amount
