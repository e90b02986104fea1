"""Fakes of the reports' ports and a builder of real order aggregates (the kernel's events
applied through ``shared.order_aggregate.apply``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from functions.reports.domain.tally import OrderView, Tally
from functions.reports.ports import Ports
from shared import events as e
from shared.money import Money
from shared.order_aggregate import OrderState, apply
from shared.tenants import TenantSettings
from tests.clocks import FixedClock

_ids = count(1)


def _eid() -> str:
    return f"evt_{next(_ids)}"


class Order:
    """An order told as its events."""

    def __init__(
        self,
        tenant: str,
        order_id: str,
        at: datetime,
        lines: list[tuple[str, str, int, int]],
        *,
        currency: str = "EUR",
        discount: int = 0,
        shipping: int = 0,
        tax: int = 0,
        email: str = "ann@example.com",
        screening: str | None = "allow",
    ) -> None:
        self.currency = currency
        self.screening = screening
        # When each fact happened: the days the processor notes the order changed.
        self.times: list[datetime] = [at]
        items = tuple(
            e.LineItem(
                line_id=f"{order_id}-{n}",
                sku=sku,
                name=sku.title(),
                quantity=qty,
                unit_price=Money.of(price, currency),
                vendor_id=vendor,
            )
            for n, (sku, vendor, qty, price) in enumerate(lines)
        )
        gross = sum(i.unit_price.amount * i.quantity for i in items)
        self.total = gross - discount + shipping + tax
        self.state = apply(
            OrderState(tenant=tenant, order_id=order_id),
            e.OrderPlaced(
                tenant=tenant,
                source=e.Source.SHOP,
                source_event_id=_eid(),
                occurred_at=at,
                order_id=order_id,
                currency=currency,
                total=Money.of(self.total, currency),
                lines=items,
                customer=e.Customer(email=email, name="Ann"),
                discount=Money.of(discount, currency) if discount else None,
                shipping=Money.of(shipping, currency) if shipping else None,
                tax=Money.of(tax, currency) if tax else None,
            ),
        )
        self.tenant, self.order_id = tenant, order_id

    def _do(self, event: Any) -> Order:
        self.times.append(event.occurred_at)
        self.state = apply(self.state, event)
        return self

    def _common(self, at: datetime) -> dict[str, Any]:
        return {"tenant": self.tenant, "source_event_id": _eid(), "occurred_at": at}

    def paid(self, at: datetime, payment: str | None = None, amount: int | None = None) -> Order:
        return self._do(
            e.PaymentSucceeded(
                **self._common(at),
                source=e.Source.STRIPE,
                order_id=self.order_id,
                payment_id=payment or f"pi_{self.order_id}",
                charge_id=f"ch_{self.order_id}",
                amount=Money.of(amount or self.total, self.currency),
                card=e.Card(last4="4242", bin="424242", fingerprint="fp1"),
            )
        )

    def failed(self, at: datetime, payment: str, amount: int | None = None) -> Order:
        return self._do(
            e.PaymentFailed(
                **self._common(at),
                source=e.Source.STRIPE,
                order_id=self.order_id,
                payment_id=payment,
                amount=Money.of(amount or self.total, self.currency),
                failure_code="card_declined",
            )
        )

    def refunded(self, at: datetime, refund: str, amount: int, status: str = "succeeded") -> Order:
        return self._do(
            e.RefundUpdated(
                **self._common(at),
                source=e.Source.STRIPE,
                order_id=self.order_id,
                payment_id=f"pi_{self.order_id}",
                charge_id=f"ch_{self.order_id}",
                refund=e.Refund(
                    refund_id=refund,
                    amount=Money.of(amount, self.currency),
                    status=status,
                    created_at=at,
                ),
            )
        )

    def disputed(self, at: datetime, amount: int, status: str = "needs_response") -> Order:
        return self._do(
            e.DisputeOpened(
                **self._common(at),
                source=e.Source.STRIPE,
                dispute_id=f"dp_{self.order_id}",
                charge_id=f"ch_{self.order_id}",
                order_id=self.order_id,
                amount=Money.of(amount, self.currency),
                reason="fraudulent",
                status=status,
            )
        )

    def dispute_lost(self, at: datetime, amount: int) -> Order:
        return self._do(
            e.DisputeClosed(
                **self._common(at),
                source=e.Source.STRIPE,
                dispute_id=f"dp_{self.order_id}",
                charge_id=f"ch_{self.order_id}",
                order_id=self.order_id,
                amount=Money.of(amount, self.currency),
                status="lost",
            )
        )

    def cancelled(self, at: datetime, reason: str) -> Order:
        return self._do(
            e.OrderCancelled(
                **self._common(at), source=e.Source.SHOP, order_id=self.order_id, reason=reason
            )
        )

    def expired(self, at: datetime) -> Order:
        return self._do(
            e.CheckoutExpired(
                **self._common(at),
                source=e.Source.STRIPE,
                session_id=f"cs_{self.order_id}",
                order_id=self.order_id,
            )
        )

    def shipped(self, at: datetime, parcel: str, carrier: str = "dhl") -> Order:
        return self._do(
            e.OrderFulfilled(
                **self._common(at),
                source=e.Source.SHOP,
                order_id=self.order_id,
                tracking_code=parcel,
                carrier=carrier,
            )
        )

    def scanned(
        self, at: datetime, parcel: str, status: e.ShipmentStatus, carrier: str = "dhl"
    ) -> Order:
        return self._do(
            e.ShipmentUpdated(
                **self._common(at),
                source=e.Source.EASYPOST,
                tracking_code=parcel,
                status=status,
                carrier=carrier,
                order_id=self.order_id,
            )
        )

    @property
    def view(self) -> OrderView:
        return OrderView(self.state, self.screening)


class FakeOrderReader:
    """Every order for every span: the tally must keep only the facts of its own day."""

    def __init__(self, orders: list[Order]) -> None:
        self.orders = orders
        self.reads = 0
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.claimed: dict[str, list[dict[str, Any]]] = {}

    def changed_between(self, tenant: str, start: datetime, end: datetime) -> Iterator[OrderView]:
        self.reads += 1
        return iter([o.view for o in self.orders if o.tenant == tenant])

    def refund_requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        return self.requests.get(order_id, [])

    def claims(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        return self.claimed.get(order_id, [])

    def of_customer(self, tenant: str, email: str) -> list[OrderState]:
        return [
            o.state
            for o in self.orders
            if o.tenant == tenant
            and o.state.order is not None
            and (o.state.order.customer.email or "").lower() == email.lower()
        ]

    def order(self, tenant: str, order_id: str) -> OrderState | None:
        found = [o.state for o in self.orders if (o.tenant, o.order_id) == (tenant, order_id)]
        return found[0] if found else None


class FakeHistoryMail:
    def __init__(self, fail: bool = False) -> None:
        self.last: dict[tuple[str, str], datetime] = {}
        self.sent: list[tuple[str, str, list[str]]] = []
        self.notes: list[tuple[str, str]] = []
        self.fail = fail

    def claim(self, tenant: str, order_id: str, now: datetime, every: timedelta) -> bool:
        last = self.last.get((tenant, order_id))
        if last is not None and last > now - every:
            return False
        self.last[(tenant, order_id)] = now
        return True

    def release(self, tenant: str, order_id: str, claimed_at: datetime) -> None:
        if self.last.get((tenant, order_id)) == claimed_at:
            del self.last[(tenant, order_id)]

    def send(self, tenant: TenantSettings, order: OrderState, orders: list[OrderState]) -> str:
        if self.fail:
            raise RuntimeError("SES is down")
        assert order.order is not None
        to = order.order.customer.email or ""
        self.sent.append((to, order.order_id, sorted(s.order_id for s in orders)))
        return f"msg-{len(self.sent)}"

    def note(self, tenant: str, order_id: str, at: datetime, summary: str) -> None:
        self.notes.append((order_id, summary))


class FakeTallies:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, date], Tally] = {}
        self.saved_months: dict[tuple[str, date], Tally] = {}

    def save(self, tenant: str, day: date, tally: Tally) -> None:
        self.saved[(tenant, day)] = tally.model_copy(deep=True)

    def between(self, tenant: str, first: date, last: date) -> Iterator[tuple[date, Tally]]:
        found = sorted(
            (d, t.model_copy(deep=True))
            for (t_id, d), t in self.saved.items()
            if t_id == tenant and first <= d <= last
        )
        return iter(found)

    def save_month(self, tenant: str, month: date, tally: Tally) -> None:
        self.saved_months[(tenant, month)] = tally.model_copy(deep=True)

    def months(self, tenant: str, first: date, last: date) -> Iterator[tuple[date, Tally]]:
        found = sorted(
            (d, t.model_copy(deep=True))
            for (t_id, d), t in self.saved_months.items()
            if t_id == tenant and first <= d <= last
        )
        return iter(found)


class FakeSink:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)


class FakeTeamMailer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def email(
        self,
        tenant: TenantSettings,
        to: tuple[str, ...],
        subject: str,
        html: str,
        text: str,
        key: str,
        kind: str = "business_summary",
    ) -> str | None:
        self.sent.append(
            {"to": to, "subject": subject, "html": html, "text": text, "key": key, "kind": kind}
        )
        return f"msg-{len(self.sent)}"


class FakeTenantLookup:
    def __init__(self, *tenants: TenantSettings) -> None:
        self.tenants = {t.id: t for t in tenants}

    def get(self, tenant: str) -> TenantSettings | None:
        return self.tenants.get(tenant)

    def all(self) -> list[TenantSettings]:
        return list(self.tenants.values())


def reports_ports(tenant: TenantSettings, orders: list[Order], now: datetime) -> Ports:
    return Ports(
        orders=FakeOrderReader(orders),
        tallies=FakeTallies(),
        reports=FakeSink(),
        mailer=FakeTeamMailer(),
        tenants=FakeTenantLookup(tenant),
        clock=FixedClock(now),
        history_mail=FakeHistoryMail(),
    )
