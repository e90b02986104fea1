"""Connect transfers and their reversals: ``POST/GET /v1/transfers``, ``GET /v1/transfers/{id}``,
``POST/GET /v1/transfers/{id}/reversals``.

A transfer moves money from the platform's balance to a connected account's; without a
``source_transaction`` it needs the platform's *available* balance, with one it draws on that
charge's funds (up to the charge's amount, less what was transferred from it before) and is
available when the charge is. A reversal moves money back, and only while the connected
account's balance covers it: otherwise Stripe answers ``balance_insufficient``. Connected
accounts exist only once a test opens them (``connect_account``); their balance is a number per
currency a test can set (``set_connected_balance``) — e.g. to zero, as when the vendor has paid
the money out to its bank already.
"""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import Ctx, money_text
from local.sandboxes.stripe_sandbox.balance import BalanceTransactions
from local.sandboxes.stripe_sandbox.errors import JSON, invalid

_TRANSFER_PARAMS = frozenset(
    {
        "amount",
        "currency",
        "destination",
        "description",
        "metadata",
        "source_transaction",
        "source_type",
        "transfer_group",
        "expand",
    }
)
_REVERSAL_PARAMS = frozenset(
    {"amount", "description", "metadata", "refund_application_fee", "expand"}
)


class Transfers(BalanceTransactions):
    """Transfers to connected accounts and their reversals."""

    # connected account id → currency → its balance (minor units)
    _connected: dict[str, dict[str, int]]

    # -- sandbox-only controls ------------------------------------------------------------------

    def connect_account(self, account_id: str | None = None) -> str:
        """Open a connected account (an id of the ``acct_`` form, made up when None)."""
        with self._lock:
            account = account_id or self._id("acct", 16)
            if not account.startswith("acct_"):
                raise ValueError(f"a connected account id starts with acct_, not {account!r}")
            self._connected.setdefault(account, {})
            return account

    def set_connected_balance(self, account_id: str, currency: str, amount: int) -> None:
        """What the connected account holds in ``currency`` (the vendor paid itself out, say)."""
        with self._lock:
            self._connected[account_id][currency.lower()] = amount

    def connected_balance(self, account_id: str, currency: str) -> int:
        with self._lock:
            return self._connected[account_id].get(currency.lower(), 0)

    def transfers(self) -> list[JSON]:
        """Every transfer, oldest first, as the API renders it."""
        with self._lock:
            return [self._render(self._objects[t]) for t in self._order.get("transfer", [])]

    # -- the API ----------------------------------------------------------------------------------

    def _transfer_create(self, ctx: Ctx, p: JSON) -> JSON:
        self._allow(p, _TRANSFER_PARAMS)
        amount = self._int(p, "amount", required=True)
        assert amount is not None
        currency = self._currency(p)
        destination = self._text(p, "destination", required=True)
        assert destination is not None
        if destination not in self._connected:
            raise invalid(
                f"No such destination: '{destination}'",
                code="resource_missing",
                param="destination",
            )
        source_id = self._text(p, "source_transaction")
        available_on = self.now()
        source_type = self._enum(p, "source_type", ("card", "bank_account", "fpx"), "card")
        if source_id:
            available_on = self._check_source(source_id, amount, currency)
        else:
            have = next(
                (
                    b["amount"]
                    for b in self._balance(ctx, {})["available"]
                    if b["currency"] == currency
                ),
                0,
            )
            if amount > have:
                raise invalid(
                    "You have insufficient available funds in your Stripe account. Try adding "
                    "funds directly to your available balance by creating Charges using the "
                    "4000000000000077 test card. See: https://stripe.com/docs/testing#available-"
                    f"balance (available: {money_text(have, currency)}).",
                    code="balance_insufficient",
                    param="amount",
                )
        transfer_id = self._id("tr")
        txn = self._feeless(-amount, "transfer", "transfer", transfer_id, currency, p, available_on)
        transfer: JSON = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "amount_reversed": 0,
            "balance_transaction": txn["id"],
            "created": self.now(),
            "currency": currency,
            "description": self._text(p, "description"),
            "destination": destination,
            "destination_payment": self._id("py"),
            "livemode": False,
            "metadata": self._metadata(p),
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/transfers/{transfer_id}/reversals",
            },
            "reversed": False,
            "source_transaction": source_id,
            "source_type": source_type,
            "transfer_group": self._text(p, "transfer_group"),
        }
        self._store("transfer", transfer)
        held = self._connected[destination]
        held[currency] = held.get(currency, 0) + amount
        self._emit(ctx, "transfer.created", transfer)
        return transfer

    def _feeless(
        self,
        amount: int,
        type_: str,
        category: str,
        source: str,
        currency: str,
        p: JSON,
        available_on: int,
    ) -> JSON:
        """A transfer's or reversal's balance transaction: Stripe takes no fee on either."""
        return self._txn(
            amount=amount,
            fee=0,
            fee_details=[],
            type_=type_,
            category=category,
            source=source,
            currency=currency,
            description=self._text(p, "description"),
            available_on=available_on,
        )

    def _check_source(self, charge_id: str, amount: int, currency: str) -> int:
        """The charge a transfer draws on: same currency, enough of it left; returns when its
        funds are available (the transfer's ``available_on``)."""
        charge = self._fetch("charge", charge_id, param="source_transaction")
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise invalid(
                f"The source_transaction {charge_id} has not succeeded; only a captured charge "
                "can fund a transfer.",
                param="source_transaction",
            )
        if charge["currency"] != currency:
            raise invalid(
                f"The currency of source_transaction's balance transaction ({charge['currency']}) "
                f"must be the same as the transfer currency ({currency})",
                param="currency",
            )
        used = sum(
            self._objects[t]["amount"]
            for t in self._order.get("transfer", [])
            if self._objects[t]["source_transaction"] == charge_id
        )
        left = charge["amount_captured"] - used
        if amount > left:
            raise invalid(
                f"Transfer amount ({money_text(amount, currency)}) exceeds what is left of the "
                f"source_transaction ({money_text(left, currency)}).",
                param="amount",
            )
        txn = self._objects.get(charge["balance_transaction"] or "")
        return int(txn["available_on"]) if txn else self.now()

    def _transfer_retrieve(self, ctx: Ctx, p: JSON, transfer_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("transfer", transfer_id)

    def _transfer_list(self, ctx: Ctx, p: JSON) -> JSON:
        return self._list(
            "transfer",
            "/v1/transfers",
            p,
            {"destination": "destination", "transfer_group": "transfer_group"},
        )

    def _reversal_create(self, ctx: Ctx, p: JSON, transfer_id: str) -> JSON:
        self._allow(p, _REVERSAL_PARAMS)
        transfer = self._fetch("transfer", transfer_id)
        left = transfer["amount"] - transfer["amount_reversed"]
        amount = self._int(p, "amount") or left
        currency = transfer["currency"]
        if left <= 0:
            raise invalid(
                f"Transfer {transfer_id} has already been fully reversed.",
                param="amount",
            )
        if amount > left:
            raise invalid(
                f"Reversal amount ({money_text(amount, currency)}) is greater than the amount "
                f"left on the transfer ({money_text(left, currency)}).",
                code="amount_too_large",
                param="amount",
            )
        held = self._connected.get(transfer["destination"], {})
        if held.get(currency, 0) < amount:
            raise invalid(
                "Insufficient funds in the destination account to reverse this transfer: its "
                f"balance ({money_text(held.get(currency, 0), currency)}) does not cover "
                f"{money_text(amount, currency)}.",
                code="balance_insufficient",
                param="amount",
            )
        reversal_id = self._id("trr")
        txn = self._feeless(
            amount, "transfer_refund", "transfer_reversal", reversal_id, currency, p, self.now()
        )
        reversal: JSON = {
            "id": reversal_id,
            "object": "transfer_reversal",
            "amount": amount,
            "balance_transaction": txn["id"],
            "created": self.now(),
            "currency": currency,
            "destination_payment_refund": self._id("pyr"),
            "metadata": self._metadata(p),
            "source_refund": None,
            "transfer": transfer_id,
        }
        self._store("transfer_reversal", reversal)
        held[currency] -= amount
        previous = {
            "amount_reversed": transfer["amount_reversed"],
            "reversed": transfer["reversed"],
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
        reversals = transfer["reversals"]
        reversals["data"].insert(0, reversal)
        reversals["total_count"] = len(reversals["data"])
        self._emit(ctx, "transfer.reversed", transfer, previous)
        return reversal

    def _reversal_list(self, ctx: Ctx, p: JSON, transfer_id: str) -> JSON:
        self._fetch("transfer", transfer_id)
        return self._list(
            "transfer_reversal",
            f"/v1/transfers/{transfer_id}/reversals",
            p,
            {},
            predicate=lambda reversal: reversal["transfer"] == transfer_id,
        )
