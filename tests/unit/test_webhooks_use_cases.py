"""The webhooks use cases over fakes: the front door's decisions (``accept``), a stored event
to its effects (``process``), the dead-letter replay and the operators' counts. The same paths
on moto: tests/component/test_ingress*.py, tests/e2e/test_ingestion_local.py."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.webhooks.adapters.intake import check_stripe_header
from functions.webhooks.domain.intake import ORDER_SOURCES_MAX_BYTES, UnknownTenant, WebhookRequest
from functions.webhooks.use_cases.accept import IntakeDependencies, accept
from functions.webhooks.use_cases.process import Dependencies, process
from functions.webhooks.use_cases.replay import drain_dead_letters, replay_since
from functions.webhooks.use_cases.views import stats_view
from shared import signing
from shared.events import PayoutFailed, PayoutPaid
from shared.raw_events import RawEvent
from shared.settlements import BalanceTransaction
from tests.clocks import FixedClock
from tests.e2e.helpers import shop_order
from tests.fakes import InMemoryOrders

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
SECRETS = {"shop": {"webhook_secrets": ["shop_old", "shop_new"]}, "stripe": {}}


class Secrets:
    def get(self, tenant: str) -> dict[str, Any]:
        if tenant != "acme":
            raise UnknownTenant(f"unknown tenant {tenant!r}")
        return SECRETS


@dataclass
class Settings:
    accepted_currencies: frozenset[str]


class Tenants:
    def __init__(self, currencies: Iterable[str]) -> None:
        self.settings = Settings(frozenset(currencies))

    def get(self, tenant: str) -> Settings:
        return self.settings


@dataclass
class Intake:
    """``RawEventIntake`` in a dict: the conditional put on the provider's event id."""

    items: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def put_new(self, **item: Any) -> bool:
        key = (item["tenant"], item["source"], item["event_id"])
        if key in self.items:
            return False
        self.items[key] = item
        return True


def deps(store: Intake, currencies: Iterable[str] = ("USD",)) -> IntakeDependencies:
    return IntakeDependencies(
        Secrets(), store, check_stripe_header, Tenants(currencies), FixedClock(NOW)
    )


def shop_request(document: dict[str, Any], secret: str = "shop_old", **kw: Any) -> WebhookRequest:
    body = json.dumps(document).encode()
    signed = signing.sign_shop(body, secret, int(NOW.timestamp()))
    headers = {"content-type": "application/json", **{k.lower(): v for k, v in signed.items()}}
    return WebhookRequest(kw.get("tenant", "acme"), "shop", body, headers)


def test_a_signed_order_is_stored_once_and_a_redelivery_is_a_duplicate() -> None:
    store = Intake()
    first = accept(shop_request(shop_order("o-1", "evt-1")), deps(store))
    again = accept(shop_request(shop_order("o-1", "evt-1"), "shop_new"), deps(store))
    assert (first.status, first.outcome, first.body["duplicate"]) == (200, "stored", False)
    assert (again.status, again.outcome, again.body["duplicate"]) == (200, "duplicate", True)
    (item,) = store.items.values()
    assert (item["event_id"], item["event_type"]) == ("evt-1", "order.created")
    assert item["received_at"] == NOW.isoformat(timespec="microseconds")


@pytest.mark.parametrize(
    ("request_", "status", "kind"),
    [
        (
            WebhookRequest("acme", "fax", b"{}", {"content-type": "application/json"}),
            404,
            "unknown_source",
        ),
        (
            WebhookRequest(
                "acme",
                "shop",
                b" " * (ORDER_SOURCES_MAX_BYTES + 1),
                {"content-type": "application/json"},
            ),
            413,
            "too_large",
        ),
        (
            WebhookRequest("acme", "shop", b"{}", {"content-type": "text/plain"}),
            400,
            "content_type",
        ),
        (
            WebhookRequest("acme", "shop", b"\xff", {"content-type": "application/json"}),
            400,
            "encoding",
        ),
        (shop_request(shop_order("o-1", "evt-1"), tenant="nobody"), 400, "unknown_tenant"),
        (shop_request(shop_order("o-1", "evt-1"), "forged"), 401, "bad_signature"),
        (
            WebhookRequest("acme", "stripe", b"{}", {"content-type": "application/json"}),
            401,
            "bad_signature",
        ),
        (shop_request(shop_order("o-1", "evt-1", total="-1.00")), 400, "malformed"),
    ],
)
def test_every_refusal_answers_with_its_reason_and_stores_nothing(
    request_: WebhookRequest, status: int, kind: str
) -> None:
    store = Intake()
    answer = accept(request_, deps(store))
    assert (answer.status, answer.body["error"], answer.outcome) == (
        status,
        kind,
        f"rejected:{kind}",
    )
    assert answer.body["message"]
    assert store.items == {}


def test_an_order_in_a_currency_the_shop_does_not_take_is_refused_at_the_door() -> None:
    store = Intake()
    answer = accept(shop_request(shop_order("o-1", "evt-1")), deps(store, ("EUR", "GBP")))
    assert answer.status == 400
    assert answer.body["message"] == (
        "order currency USD is not one this shop takes orders in (EUR, GBP)"
    )
    assert store.items == {}


# -- processing -----------------------------------------------------------------------------------


def raw(event_id: str, source: str, document: dict[str, Any], tenant: str = "acme") -> RawEvent:
    return RawEvent(
        tenant=tenant,
        source=source,
        event_id=event_id,
        event_type=str(document.get("type")),
        received_at=NOW.isoformat(),
        status="received",
        body=json.dumps(document),
        archive_key=None,
        hints=None,
    )


class RawEvents:
    def __init__(self, *events: RawEvent) -> None:
        self.events = list(events)
        self.marks: dict[str, tuple[str, str | None]] = {}

    def body_of(self, event: RawEvent) -> bytes:
        return (event.body or "").encode()

    def mark(self, event: RawEvent, status: str, detail: str | None = None) -> None:
        self.marks[event.event_id] = (status, detail)

    def since(self, tenant: str, source: str, since: str) -> Iterator[RawEvent]:
        yield from (e for e in self.events if (e.tenant, e.source) == (tenant, source))

    def archived(
        self, tenant: str, source: str, since: datetime, before: datetime
    ) -> Iterator[RawEvent]:
        return iter(())


class Settlements:
    def __init__(self) -> None:
        self.applied: list[PayoutPaid | PayoutFailed] = []
        self.filed: dict[str, list[BalanceTransaction]] = {}

    def apply(self, event: PayoutPaid | PayoutFailed) -> str:
        self.applied.append(event)
        return "applied"

    def file_balance_transactions(
        self, tenant: str, payout_id: str, transactions: Iterable[BalanceTransaction]
    ) -> dict[str, dict[str, int]]:
        self.filed[payout_id] = list(transactions)
        return {}


class Gateway:
    def balance_transactions_for_payout(self, payout_id: str) -> Iterable[dict[str, Any]]:
        return [
            {
                "id": "txn_1",
                "object": "balance_transaction",
                "amount": 5000,
                "fee": 175,
                "net": 4825,
                "currency": "usd",
                "type": "charge",
                "reporting_category": "charge",
                "source": "ch_1",
                "created": 1_700_000_000,
            }
        ]


class Lifecycle:
    def __init__(self) -> None:
        self.changes: list[tuple[str, str, str]] = []

    def order_changed(self, event: Any, order_id: str, result: str) -> None:
        self.changes.append((event.kind, order_id, result))


def processing(*events: RawEvent) -> tuple[Dependencies, RawEvents, Settlements, Lifecycle]:
    raw_events, settlements, lifecycle = RawEvents(*events), Settlements(), Lifecycle()
    return (
        Dependencies(raw_events, InMemoryOrders(), settlements, lambda t: Gateway(), lifecycle),
        raw_events,
        settlements,
        lifecycle,
    )


PAYOUT = {
    "id": "evt_po",
    "object": "event",
    "type": "payout.paid",
    "created": 1_763_888_400,
    "data": {
        "object": {
            "id": "po_1",
            "object": "payout",
            "amount": 4825,
            "currency": "usd",
            "arrival_date": 1_763_888_400,
            "status": "paid",
        }
    },
}


def test_an_order_is_applied_once_and_the_orders_context_hears_of_it() -> None:
    order = raw("evt-1", "shop", shop_order("o-1", "evt-1"))
    deps_, raw_events, _, lifecycle = processing(order)
    assert process(order, deps_) == "applied"
    assert process(order, deps_) == "applied"  # a redelivery changes nothing
    assert raw_events.marks == {}  # left as stored: no second write
    assert lifecycle.changes == [
        ("OrderPlaced", "o-1", "applied"),
        ("OrderPlaced", "o-1", "duplicate"),
    ]
    state, version = deps_.orders.load_for_update("acme", "o-1")
    assert version == 1 and state.status() == "pending_payment"


def test_payouts_go_to_settlements_with_the_balance_transactions_they_settled() -> None:
    payout = raw("evt_po", "stripe", PAYOUT)
    deps_, raw_events, settlements, lifecycle = processing(payout)
    assert process(payout, deps_) == "applied"
    assert [e.payout_id for e in settlements.applied] == ["po_1"]
    (txn,) = settlements.filed["po_1"]
    assert (txn.id, txn.payout_id, txn.net.amount) == ("txn_1", "po_1", 4825)
    assert lifecycle.changes == [] and raw_events.marks == {}


def test_ignored_and_unusable_events_are_marked_not_retried() -> None:
    ignored = raw("evt_cus", "stripe", {**PAYOUT, "id": "evt_cus", "type": "customer.created"})
    broken = raw("evt_bad", "stripe", {**PAYOUT, "id": "evt_bad", "data": {"object": {}}})
    deps_, raw_events, _, _ = processing(ignored, broken)
    assert process(ignored, deps_) == "ignored"
    assert process(broken, deps_) == "rejected"
    assert raw_events.marks["evt_cus"][0] == "ignored"
    assert raw_events.marks["evt_bad"][0] == "rejected"


# -- replay and views -----------------------------------------------------------------------------


class DeadLetters:
    def __init__(self, *messages: list[RawEvent]) -> None:
        self.queue = list(messages)
        self.deleted: list[list[RawEvent]] = []

    def receive(self) -> list[Any]:
        batch, self.queue = self.queue[:10], self.queue[10:]
        return batch

    def events_of(self, message: Any) -> Iterator[RawEvent]:
        yield from message

    def delete(self, message: Any) -> None:
        self.deleted.append(message)


def test_a_dead_letter_is_deleted_only_once_all_of_its_events_applied() -> None:
    good = raw("evt-1", "shop", shop_order("o-1", "evt-1"))
    poison = raw("evt-2", "shop", shop_order("o-2", "evt-2"))
    deps_, _, _, _ = processing(good, poison)
    real_body_of = deps_.raw_events.body_of

    def body_of(event: RawEvent) -> bytes:
        if event.event_id == "evt-2":
            raise RuntimeError("archive unreachable")
        return real_body_of(event)

    deps_.raw_events.body_of = body_of  # type: ignore[method-assign]
    letters = DeadLetters([good], [good, poison])
    report = drain_dead_letters(letters, deps_)
    assert report.outcomes == Counter({"applied": 2, "failed": 1})
    assert report.failures == [("evt-2", "RuntimeError: archive unreachable")]
    assert letters.deleted == [[good]] and report.messages_deleted == 1

    again = replay_since("acme", "shop", "2000-01-01", processing(good)[0])
    assert again.outcomes == Counter({"applied": 1})


class Counts:
    def raw_events(self, tenant: str, source: str) -> Iterator[tuple[str, str]]:
        stored = {
            # One stored before processing stopped marking what it applied.
            "shop": [("received", "order.created"), ("applied", "order.created")],
            "stripe": [("ignored", "customer.created"), ("rejected", "charge.refunded")],
        }
        yield from stored.get(source, [])

    def orders_with_status(self, tenant: str, status: str) -> int:
        return 2 if status == "pending_payment" else 0

    def dead_letters(self) -> int | None:
        return 3


def test_event_stats_count_per_source_status_and_type() -> None:
    stats = stats_view(Counts(), "acme")
    assert stats == {
        "tenant": "acme",
        "raw_events": {"stripe": {"ignored": 1, "rejected": 1}, "shop": {"received": 2}},
        "raw_events_total": 4,
        "event_types": {
            "shop:order.created": 2,
            "stripe:customer.created": 1,
            "stripe:charge.refunded": 1,
        },
        "orders_by_status": {"pending_payment": 2},
        "dead_letters": 3,
    }


def test_the_order_view_shows_each_refund_and_why_one_failed() -> None:
    from functions.webhooks.use_cases.apply import route
    from functions.webhooks.use_cases.views import order_view
    from shared.events import PaymentSucceeded, Refund, RefundUpdated, Source
    from shared.money import Money

    usd = Money.of(5000, "USD")
    at = datetime(2026, 11, 23, 10, tzinfo=UTC)
    common = {"tenant": "acme", "source": Source.STRIPE, "order_id": "o-1", "payment_id": "pi_1"}

    class Viewable(InMemoryOrders):
        def timeline(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
            return []

    repo = Viewable()
    route(PaymentSucceeded(**common, source_event_id="e1", occurred_at=at, amount=usd), repo)
    for eid, status, reason in (("e2", "succeeded", None), ("e3", "failed", "declined")):
        refund = Refund(refund_id="re_1", amount=usd, status=status, failure_reason=reason)
        route(RefundUpdated(**common, source_event_id=eid, occurred_at=at, refund=refund), repo)
    view = order_view(repo, "acme", "o-1")
    assert view is not None
    (payment,) = view["payments"]
    assert payment["refunded"] == 0 and view["refunded"] == 0
    assert payment["refunds"] == [
        {"refund_id": "re_1", "amount": 5000, "status": "failed", "failure_reason": "declined"}
    ]
