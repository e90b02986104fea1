"""Balance transactions (fee, ``net``, ``reporting_category``, ``available_on``) and the
balance."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import DAY, Account, Ctx
from local.sandboxes.stripe_sandbox.errors import JSON, invalid


class BalanceTransactions(Account):
    """Every money movement's balance transaction, and which payout swept it."""

    _payout_of: dict[str, str]

    def balance_transactions(self, payout: str | None = None) -> list[JSON]:
        """Balance transactions oldest first, optionally only those ``payout`` swept (as
        ``GET /v1/balance_transactions?payout=`` would list them, without pagination)."""
        with self._lock:
            return [
                self._render(self._objects[t])
                for t in self._order.get("balance_transaction", [])
                if payout is None or self._payout_of.get(t) == payout
            ]

    @staticmethod
    def _fee_detail(amount: int, currency: str, description: str) -> JSON:
        return {
            "amount": amount,
            "application": None,
            "currency": currency,
            "description": description,
            "type": "stripe_fee",
        }

    def _txn(
        self,
        *,
        amount: int,
        fee: int,
        fee_details: list[JSON],
        type_: str,
        category: str,
        source: str,
        currency: str,
        description: str | None,
        available_on: int | None = None,
    ) -> JSON:
        now = self.now()
        available = (
            available_on
            if available_on is not None
            else ((now // DAY) + self.availability_days) * DAY
        )
        txn = {
            "id": self._id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": available,
            "balance_type": "payments",
            "created": now,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details,
            "net": amount - fee,
            "reporting_category": category,
            "source": source,
            "status": "available" if available <= now else "pending",
            "type": type_,
        }
        return self._store("balance_transaction", txn)

    def _txn_retrieve(self, ctx: Ctx, p: JSON, txn_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("balance_transaction", txn_id)

    def _txn_list(self, ctx: Ctx, p: JSON) -> JSON:
        payout_id = self._text(p, "payout")
        if payout_id:
            payout = self._fetch("payout", payout_id, param="payout")
            if not payout["automatic"]:
                raise invalid(
                    "Balance transaction history can only be filtered on automatic transfers, "
                    "not manual.",
                    param="payout",
                )

        def extra(txn: JSON) -> bool:
            return payout_id is None or self._payout_of.get(txn["id"]) == payout_id

        return self._list(
            "balance_transaction",
            "/v1/balance_transactions",
            p,
            {"type": "type", "source": "source", "currency": "currency"},
            accepted=frozenset({"payout"}),
            predicate=extra,
        )

    def _balance(self, ctx: Ctx, p: JSON) -> JSON:
        self._allow(p, frozenset())
        now = self.now()
        available: dict[str, int] = {}
        pending: dict[str, int] = {}
        for txn_id in self._order.get("balance_transaction", []):
            txn = self._objects[txn_id]
            bucket = available if txn["available_on"] <= now else pending
            bucket[txn["currency"]] = bucket.get(txn["currency"], 0) + txn["net"]
        return {
            "object": "balance",
            "available": [
                {"amount": a, "currency": c, "source_types": {"card": a}}
                for c, a in sorted(available.items())
            ],
            "pending": [
                {"amount": a, "currency": c, "source_types": {"card": a}}
                for c, a in sorted(pending.items())
            ],
            "livemode": False,
        }
