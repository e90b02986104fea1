"""Vendor payouts' notices."""

from typing import Literal

from shared.notices import Action, Notice, money_line


class UnknownVendor(Notice):
    """An order line names a vendor the tenant has not set up: its money waits in the ledger's
    suspense account until an operator sets the vendor up or assigns the line."""

    kind: Literal["unknown_vendor"] = "unknown_vendor"
    order_id: str
    line_id: str
    vendor_id: str | None = None
    amount: int | None = None
    currency: str | None = None

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.line_id}"

    @property
    def headline(self) -> str:
        who = f"vendor {self.vendor_id!r}" if self.vendor_id else "no vendor"
        return f"Order {self.order_id} line {self.line_id}: {who} unknown, held in suspense"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Line", self.line_id), ("Held", money_line(self.amount, self.currency))]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Set the vendor up",
                method="PUT",
                path=f"/ops/tenants/{self.tenant}/payouts/vendors/{self.vendor_id or 'VENDOR'}",
                command=f"ecomops payouts vendor-save --tenant {self.tenant} VENDOR.json",
            ),
        ]


class VendorNotTold(Notice):
    """A vendor could not be e-mailed about its lines of an order (no address, or the mail
    failed): the order went on; someone tells the vendor what to ship, or not to."""

    kind: Literal["vendor_not_told"] = "vendor_not_told"
    order_id: str
    vendor_id: str
    # What the vendor was to be told: "order", "cancelled", or "refunded"/"returned" with the
    # refund's id.
    news: str
    reason: str

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.vendor_id}|{self.news}"

    @property
    def headline(self) -> str:
        return f"Order {self.order_id}: vendor {self.vendor_id} was not told ({self.news})"

    def details(self) -> list[tuple[str, str]]:
        return [("Vendor", self.vendor_id), ("News", self.news), ("Why", self.reason)]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="The vendor's e-mail addresses",
                path=f"/ops/tenants/{self.tenant}/payouts/vendors/{self.vendor_id}",
                command=f"ecomops payouts vendor --tenant {self.tenant} {self.vendor_id}",
            ),
        ]


class ConnectReversalFailed(Notice):
    """Money taken back from a vendor after a Stripe Connect payout (a refund, a return, a
    chargeback it bears) could not be reversed from its transfer — its connected account's
    balance was too low, say. The vendor's negative balance is carried into the next cycles,
    which recover it before paying it anything; the team may ask the vendor meanwhile."""

    kind: Literal["connect_reversal_failed"] = "connect_reversal_failed"
    order_id: str
    event_id: str
    vendor_id: str
    transfer_id: str
    amount: int
    currency: str
    reason: str

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.event_id}|{self.vendor_id}|{self.currency}"

    @property
    def headline(self) -> str:
        return (
            f"Vendor {self.vendor_id}: {money_line(self.amount, self.currency)} of order "
            f"{self.order_id} not reversed from its Stripe transfer; carried to its next payouts"
        )

    def details(self) -> list[tuple[str, str]]:
        return [
            ("Vendor", self.vendor_id),
            ("Transfer", self.transfer_id),
            ("Because of", self.event_id),
            ("Stripe said", self.reason),
        ]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="The vendor's balances",
                path=f"/ops/tenants/{self.tenant}/payouts/vendors/{self.vendor_id}/balances",
                command=f"ecomops payouts balances --tenant {self.tenant} {self.vendor_id}",
            ),
        ]


class VendorLinesHeld(Notice):
    """Order lines whose vendors are not paid until an operator decides (their parcel was not
    delivered, or the shop reshipped them): release or void each, with a reason."""

    kind: Literal["vendor_lines_held"] = "vendor_lines_held"
    order_id: str
    lines: tuple[str, ...]  # "l2 (not_delivered: 1Z9 lost)"

    @property
    def identity(self) -> str:
        return f"{super().identity}|{'|'.join(sorted(self.lines))}"

    @property
    def headline(self) -> str:
        return f"Order {self.order_id}: {len(self.lines)} line(s) held from the vendors"

    def details(self) -> list[tuple[str, str]]:
        return [("Held", "; ".join(self.lines))]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Release or void the held lines",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/payouts/holds/{self.order_id}/decision",
                command=(
                    f"ecomops payouts hold-decide --tenant {self.tenant} {self.order_id} "
                    "release|void --reason TEXT"
                ),
            ),
        ]
