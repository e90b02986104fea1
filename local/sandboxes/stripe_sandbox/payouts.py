"""Payouts: automatic ones that sweep the available balance transactions (a sandbox-only control),
manual ones through the API, each arriving or failing with a ``payout_reversal``."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import DAY, Ctx, money_text
from local.sandboxes.stripe_sandbox.balance import BalanceTransactions
from local.sandboxes.stripe_sandbox.errors import JSON, invalid

_PAYOUT_FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "invalid_account_number": "The bank account number is invalid.",
    "no_account": "The bank account details on file are probably incorrect.",
    "could_not_process": "The bank could not process this payout.",
}


class Payouts(BalanceTransactions):
    """Payouts to the account's one bank account."""

    _bank_account: str

    def pay_out(
        self,
        currency: str,
        arrival_date: int | None = None,
        *,
        as_of: float | None = None,
        fail: str | None = None,
    ) -> JSON | None:
        """An automatic payout: sweeps every balance transaction in ``currency`` that is available
        by ``as_of`` (default now) and not yet paid out. Returns None when nothing is owed.

        ``fail`` (a failure code such as ``account_closed``) makes the bank return it."""
        with self._lock:
            currency = currency.lower()
            cutoff = self.now() if as_of is None else int(as_of)
            swept = [
                self._objects[t]
                for t in self._order.get("balance_transaction", [])
                if t not in self._payout_of
                and self._objects[t]["currency"] == currency
                and self._objects[t]["available_on"] <= cutoff
                and self._objects[t]["type"] != "payout"
            ]
            amount = sum(t["net"] for t in swept)
            if amount <= 0:
                return None
            payout = self._new_payout(amount, currency, automatic=True, arrival_date=arrival_date)
            for txn in swept:
                self._payout_of[txn["id"]] = payout["id"]
            self._payout_of[payout["balance_transaction"]] = payout["id"]
            ctx = Ctx(None, None)
            self._emit(ctx, "payout.created", payout)
            self._settle(ctx, payout, fail)
            return self._render(payout)

    def settle_payout(self, payout_id: str, *, fail: str | None = None) -> JSON:
        """A pending payout (one created through the API) arrives, or comes back failed."""
        with self._lock:
            payout = self._fetch("payout", payout_id)
            if payout["status"] not in ("pending", "in_transit"):
                raise ValueError(f"payout {payout_id} is already {payout['status']}")
            self._settle(Ctx(None, None), payout, fail)
            return self._render(payout)

    def _new_payout(
        self, amount: int, currency: str, *, automatic: bool, arrival_date: int | None
    ) -> JSON:
        payout_id = self._id("po")
        now = self.now()
        txn = self._txn(
            amount=-amount,
            fee=0,
            fee_details=[],
            type_="payout",
            category="payout",
            source=payout_id,
            currency=currency,
            description="STRIPE PAYOUT",
            available_on=now,
        )
        payout = {
            "id": payout_id,
            "object": "payout",
            "amount": amount,
            "application_fee": None,
            "application_fee_amount": None,
            "arrival_date": arrival_date if arrival_date is not None else ((now // DAY) + 2) * DAY,
            "automatic": automatic,
            "balance_transaction": txn["id"],
            "created": now,
            "currency": currency,
            "description": "STRIPE PAYOUT",
            "destination": self._bank_account,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": {},
            "method": "standard",
            "original_payout": None,
            "reconciliation_status": "in_progress" if automatic else "not_applicable",
            "reversed_by": None,
            "source_type": "card",
            "statement_descriptor": None,
            "status": "pending",
            "trace_id": {"status": "pending", "value": None},
            "type": "bank_account",
        }
        return self._store("payout", payout)

    def _settle(self, ctx: Ctx, payout: JSON, fail: str | None) -> None:
        previous = {"status": payout["status"]}
        if fail is None:
            payout["status"] = "paid"
            payout["trace_id"] = {
                "status": "supported",
                "value": f"TRACE{self._rng.randrange(10**10):010d}",
            }
            self._emit(ctx, "payout.paid", payout, previous)
            if payout["automatic"]:
                payout["reconciliation_status"] = "completed"
                self._emit(
                    ctx,
                    "payout.reconciliation_completed",
                    payout,
                    {"reconciliation_status": "in_progress"},
                )
            return
        failure = self._txn(
            amount=payout["amount"],
            fee=0,
            fee_details=[],
            type_="payout_failure",
            category="payout_reversal",
            source=payout["id"],
            currency=payout["currency"],
            description="STRIPE PAYOUT FAILURE",
            available_on=self.now(),
        )
        payout.update(
            status="failed",
            failure_code=fail,
            failure_message=_PAYOUT_FAILURES.get(fail, "The payout could not be completed."),
            failure_balance_transaction=failure["id"],
            reconciliation_status="not_applicable",
        )
        self._emit(ctx, "payout.failed", payout, previous)

    def _payout_create(self, ctx: Ctx, p: JSON) -> JSON:
        self._allow(
            p,
            frozenset(
                {
                    "amount",
                    "currency",
                    "description",
                    "metadata",
                    "method",
                    "statement_descriptor",
                    "destination",
                    "source_type",
                    "expand",
                }
            ),
        )
        amount = self._int(p, "amount", required=True)
        assert amount is not None
        currency = self._currency(p)
        available = self._balance(ctx, {})["available"]
        have = next((b["amount"] for b in available if b["currency"] == currency), 0)
        if amount > have:
            raise invalid(
                "You have insufficient funds in your Stripe account for this transfer. Your card "
                f"balance is too low. You can use the /v1/balance endpoint to view your Stripe "
                f"balance (available: {money_text(have, currency)}).",
                code="balance_insufficient",
                param="amount",
            )
        payout = self._new_payout(amount, currency, automatic=False, arrival_date=None)
        payout["metadata"] = self._metadata(p)
        payout["description"] = self._text(p, "description") or payout["description"]
        payout["statement_descriptor"] = self._text(p, "statement_descriptor")
        payout["method"] = self._enum(p, "method", ("standard", "instant"), "standard")
        self._emit(ctx, "payout.created", payout)
        return payout

    def _payout_retrieve(self, ctx: Ctx, p: JSON, payout_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("payout", payout_id)

    def _payout_list(self, ctx: Ctx, p: JSON) -> JSON:
        return self._list("payout", "/v1/payouts", p, {"status": "status"})
