"""Payouts explained and paired with the bank, on their own: the daily run's payout stages
(composition, payouts ↔ bank) over the payouts arriving around a day, with nothing stored or
acted on. Finance's queries read this (``shared.settlements.SettledPayout``) through a port, so
"how did the bank arrive at this amount?" is answered by the reconciliation itself."""

from __future__ import annotations

from datetime import date

from functions.reconcile.domain.engine import ReconConfig, reconcile
from functions.reconcile.domain.model import BreakClass
from functions.reconcile.ports import LoadWindow, PayoutSideLoader
from shared.settlements import SettledPayout
from shared.tenants import TenantSettings


def settled_payouts(
    loader: PayoutSideLoader, tenant: TenantSettings, day: date
) -> list[SettledPayout]:
    """Every payout the daily run of ``day`` would read, explained, with its bank line (or
    missing, once past the grace days as of ``day``)."""
    settings = tenant.reconciliation
    # Only the payout side: the day's orders and payments are not asked about (nor read).
    inputs = loader.load_payout_side(
        tenant.id, day, LoadWindow(settings.grace_days, settings.date_window_days)
    )
    result = reconcile(
        inputs,
        config=ReconConfig(
            grace_days=settings.grace_days,
            date_window_days=settings.date_window_days,
            settlement_patterns=settings.settlement_patterns,
        ),
    )
    missing = {
        b.key("payout_id") for b in result.breaks if b.break_class is BreakClass.MISSING_SETTLEMENT
    }
    settled = {s.payout_id: s for s in result.settlements}
    answers = []
    for explanation in result.payouts:
        match = settled.get(explanation.payout_id)
        answers.append(
            SettledPayout(
                payout_id=explanation.payout_id,
                components=explanation.components,
                explanation=explanation.text(),
                bank_line_id=match.line_id if match else None,
                bank_booking_date=match.booking_date if match else None,
                bank_amount=match.bank_amount if match else None,
                matched_by=match.method if match else None,
                missing=explanation.payout_id in missing,
            )
        )
    return answers
