"""A seeded business day for one tenant: orders, payments, shipments, refunds, disputes, a payout.

``business_day(config)`` plays the shop, the customers, the card networks and the carriers in
simulated time and returns every webhook the product would receive (shop or Shopify orders, the
Stripe sandbox's events, carrier tracking updates, in the order they happened) together with
the ground truth the generator knows: per order, whether money was captured, how much was
refunded, whether it was cancelled, the final shipment status, the dispute's status.

Payments go through the Stripe sandbox's API (in-process, with idempotency keys derived from
our own ids), so the Stripe events are the sandbox's own and the sandbox stays usable afterwards
by the product (refunds, balance transactions by payout). The ground truth is what the
*generator* did; what the product does next (say, refunding a duplicate payment) comes on top.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from local.sandboxes.carriers import (
    CarrierSecrets,
    Journey,
    Outcome,
    Place,
    Provider,
    journey_deliveries,
    plan_journey,
)
from local.sandboxes.delivery import Delivery
from local.sandboxes.shop import (
    Order,
    OrderFactory,
    new_uuid,
    order_cancelled,
    order_created,
    order_fulfilled,
    shop_delivery,
    shopify_delivery,
    shopify_fulfillment,
    shopify_order,
)
from local.sandboxes.stripe_events import stripe_deliveries
from local.sandboxes.stripe_sandbox import DAY, SandboxResponse, StripeSandbox

JSON = dict[str, Any]

DECLINING_CARDS = (
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeDeclinedLostCard",
    "pm_card_chargeDeclinedExpiredCard",
    "pm_card_chargeDeclinedIncorrectCvc",
    "pm_card_radarBlock",
)
DISPUTE_OUTCOMES = ("open", "lost", "won")
# Under the demo tenant's review threshold (400.00): an order screening lets through.
UNREMARKABLE_TOTAL = 30000


@dataclass(frozen=True)
class WebhookSecrets:
    """One tenant's webhook secrets, as the sandboxes sign and the product verifies."""

    stripe: str = "whsec_sandbox_stripe"
    shop: str = "shop_sandbox_secret"
    shopify: str = "shopify_sandbox_secret"
    easypost: str = "easypost_sandbox_secret"
    aftership: str = "aftership_sandbox_secret"
    # Fixed, public test values: they only ever sign traffic to loopback.
    shippo_token: str = "shippo_sandbox_token"  # noqa: S105
    shippo_secret: str | None = "shippo_sandbox_secret"  # noqa: S105
    stripe_api_key: str = "sk_test_sandbox"

    def carriers(self) -> CarrierSecrets:
        return CarrierSecrets(self.easypost, self.aftership, self.shippo_token, self.shippo_secret)

    def tenant_secret_document(self) -> JSON:
        """The tenant's secrets document, as a tenants file holds it (shared/tenant_secrets.py)."""
        return {
            "stripe": {"webhook_secrets": [self.stripe], "api_key": self.stripe_api_key},
            "easypost": {"webhook_secrets": [self.easypost]},
            "aftership": {"webhook_secrets": [self.aftership]},
            "shippo": {
                "tokens": [self.shippo_token],
                "webhook_secrets": [self.shippo_secret] if self.shippo_secret else [],
            },
            "shop": {"webhook_secrets": [self.shop]},
            "shopify": {"webhook_secrets": [self.shopify]},
        }


@dataclass(frozen=True)
class Mix:
    """Shares of orders (0..1) and counts that shape the day."""

    shopify: float = 0.2
    decline: float = 0.08
    decline_then_paid: float = 0.5
    cancel_unpaid: float = 0.5
    manual_capture: float = 0.15
    partial_capture: float = 0.15
    cancel: float = 0.05
    refund_full: float = 0.05
    refund_partial: float = 0.06
    duplicate_payment: float = 0.02
    orphan_payments: int = 3
    disputes: int = 3
    # Orders paid and never shipped on which the card's issuer raises Radar's early fraud
    # warning an hour or two later (the desk cancels and refunds them).
    early_fraud_warnings: int = 0
    lost: float = 0.03
    returned: float = 0.03
    pickup: float = 0.04
    failure: float = 0.02
    providers: tuple[float, float, float] = (0.4, 0.3, 0.3)  # EasyPost, AfterShip, Shippo
    # Planted fraud patterns (OrderFactory.planted), on top of ``orders``: counts per pattern.
    fraud: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ScenarioConfig:
    base_url: str
    tenant: str = "demo"
    orders: int = 200
    seed: int = 1
    currency: str = "usd"
    start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    day_hours: float = 10.0
    secrets: WebhookSecrets = field(default_factory=WebhookSecrets)
    mix: Mix = field(default_factory=Mix)


@dataclass
class OrderExpectation:
    order_id: str
    source: str
    currency: str
    total: int
    captured: int = 0
    refunded: int = 0
    cancelled: bool = False
    authorized: int = 0
    authorization_released: bool = False
    failed_payments: int = 0
    duplicate_payment: bool = False
    payment_intents: list[str] = field(default_factory=list)
    charges: list[str] = field(default_factory=list)
    dispute_id: str | None = None
    dispute_status: str | None = None
    early_fraud_warning: str | None = None
    shipment_status: str | None = None
    tracking_code: str | None = None
    shipment_provider: str | None = None
    shipment_carrier: str | None = None

    @property
    def paid(self) -> bool:
        """Money was captured for it (whatever happened after)."""
        return self.captured > 0


@dataclass
class Expected:
    tenant: str
    currency: str
    orders: dict[str, OrderExpectation]
    orphan_payments: list[str]
    payout_id: str | None = None
    payout_amount: int = 0
    payout_balance_transactions: int = 0
    gross_captured: int = 0
    refunded: int = 0
    fees: int = 0
    disputed: int = 0

    def to_json(self) -> JSON:
        document = asdict(self)
        for order_id, order in self.orders.items():
            document["orders"][order_id]["paid"] = order.paid
        return document


@dataclass
class Scenario:
    config: ScenarioConfig
    deliveries: list[Delivery]
    expected: Expected
    stripe: StripeSandbox
    orders: list[Order]
    journeys: list[Journey]

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(d.source for d in self.deliveries).items()))

    def unique_deliveries(self) -> int:
        return len({(d.source, d.event_id) for d in self.deliveries})


@dataclass
class _Plan:
    shopify: bool
    declined: bool
    recovers: bool
    cancel_unpaid: bool
    manual: bool
    partial_capture: bool
    cancel: bool
    duplicate: bool
    refund: str  # "", "full", "partial"
    outcome: Outcome
    provider: Provider
    dispute: str | None = None
    fraud_warning: bool = False


class _Day:
    def __init__(self, config: ScenarioConfig, stripe: StripeSandbox) -> None:
        self.cfg = config
        self.mix = config.mix
        self.rng = random.Random(config.seed)  # noqa: S311 - a reproducible simulation
        self.stripe = stripe
        self.factory = OrderFactory(
            random.Random(self.rng.getrandbits(64)),  # noqa: S311
            currency=config.currency,
        )
        self.heap: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = 0
        self.timed: list[tuple[float, int, Delivery]] = []
        self.expect: dict[str, OrderExpectation] = {}
        self.orders: list[Order] = []
        self.journeys: list[Journey] = []
        self.orphans: list[str] = []
        self.stripe_clock = config.start.timestamp()

    # -- plumbing -----------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when.timestamp(), self.seq, action))

    def emit(self, when: datetime | float, deliveries: list[Delivery]) -> None:
        stamp = when if isinstance(when, float) else when.timestamp()
        for delivery in deliveries:
            self.seq += 1
            self.timed.append((stamp, self.seq, delivery))

    def api(
        self, when: datetime, method: str, path: str, params: JSON, key: str | None
    ) -> SandboxResponse:
        # Time only moves forward for the gateway, whatever order the actions were queued in.
        self.stripe_clock = max(self.stripe_clock, when.timestamp())
        self.stripe.set_time(self.stripe_clock)
        answer = self.stripe.request(
            method,
            path,
            params,
            idempotency_key=key,
            api_key=self.cfg.secrets.stripe_api_key,
        )
        if answer.status >= 500:
            raise RuntimeError(f"the Stripe sandbox failed: {answer.body[:300]!r}")
        self.flush_stripe()
        return answer

    def flush_stripe(self) -> None:
        events = self.stripe.drain_events()
        for event in events:
            self.emit(
                float(event["created"]),
                stripe_deliveries(
                    [event],
                    base_url=self.cfg.base_url,
                    tenant=self.cfg.tenant,
                    secret=self.cfg.secrets.stripe,
                ),
            )

    def later(self, when: datetime, low_s: float, high_s: float) -> datetime:
        return when + timedelta(seconds=round(self.rng.uniform(low_s, high_s)))

    def event_id(self) -> str:
        return f"shopevt_{self.rng.getrandbits(80):020x}"

    def shop_event(self, order: Order, when: datetime, kind: str, **extra: Any) -> None:
        cfg = self.cfg
        secrets = cfg.secrets
        if order.shopify_id is None:
            if kind == "created":
                payload = order_created(order, event_id=self.event_id())
            elif kind == "cancelled":
                payload = order_cancelled(
                    order, event_id=self.event_id(), at=when, reason=extra["reason"]
                )
            else:
                payload = order_fulfilled(order, event_id=self.event_id(), at=when, **extra)
            delivery = shop_delivery(
                payload, base_url=cfg.base_url, tenant=cfg.tenant, secret=secrets.shop
            )
        else:
            if kind == "created":
                topic, payload = "orders/create", shopify_order(order)
            elif kind == "cancelled":
                topic = "orders/cancelled"
                payload = shopify_order(
                    order,
                    cancelled_at=when,
                    cancel_reason=extra["reason"],
                    financial_status=extra.get("financial_status", "voided"),
                )
            else:
                topic = "fulfillments/create"
                payload = shopify_fulfillment(
                    order,
                    fulfillment_id=4_900_000_000_000 + self.rng.randrange(10**11),
                    at=when,
                    tracking_code=extra["tracking_code"],
                    carrier=extra["carrier"],
                )
            delivery = shopify_delivery(
                payload,
                topic=topic,
                webhook_id=new_uuid(self.rng),
                triggered_at=when,
                base_url=cfg.base_url,
                tenant=cfg.tenant,
                secret=secrets.shopify,
            )
        self.emit(when, [delivery])

    # -- the day ------------------------------------------------------------------------------

    def run(self) -> Scenario:
        cfg, mix = self.cfg, self.mix
        spacing = cfg.day_hours * 3600 / max(1, cfg.orders)
        disputed = set(self.rng.sample(range(cfg.orders), k=min(mix.disputes, cfg.orders)))
        dispute_rank = {index: rank for rank, index in enumerate(sorted(disputed))}
        for index in range(cfg.orders):
            when = cfg.start + timedelta(
                seconds=round(index * spacing + self.rng.uniform(0, spacing))
            )
            plan = self.plan()
            if index in dispute_rank:
                # A disputed order is a plain, paid, delivered one: the chargeback is the story.
                plan = replace(
                    plan,
                    declined=False,
                    manual=False,
                    cancel=False,
                    duplicate=False,
                    refund="",
                    outcome=Outcome.DELIVERED,
                    dispute=DISPUTE_OUTCOMES[dispute_rank[index] % len(DISPUTE_OUTCOMES)],
                )
            self.at(when, self._placer(when, plan))
        self._plant_fraud()
        self._plant_fraud_warnings()
        for _ in range(mix.orphan_payments):
            when = cfg.start + timedelta(seconds=round(self.rng.uniform(0, cfg.day_hours * 3600)))
            self.at(when, self._orphan_payment(when))
        while self.heap:
            _, _, action = heapq.heappop(self.heap)
            action()
        payout_at = datetime.fromtimestamp(self.stripe_clock, UTC) + timedelta(hours=1)
        expected = self.payout(payout_at)
        self.timed.sort(key=lambda item: (item[0], item[1]))
        return Scenario(
            config=cfg,
            deliveries=[delivery for _, _, delivery in self.timed],
            expected=expected,
            stripe=self.stripe,
            orders=self.orders,
            journeys=self.journeys,
        )

    def _plant_fraud(self) -> None:
        """Fraud patterns at mid-day: each order pays normally; screening has to catch it."""
        clean = self._clean_plan()
        middle = self.cfg.start + timedelta(hours=self.cfg.day_hours / 2)
        for pattern, count in self.mix.fraud:
            for index in range(count):
                # Two minutes apart: a burst inside one hour, as card testers work.
                when = middle + timedelta(minutes=2 * index, seconds=len(pattern))
                order = self.factory.planted(when, pattern, index)
                self.at(when, self._planted_placer(when, clean, order))

    @staticmethod
    def _clean_plan() -> _Plan:
        return _Plan(
            shopify=False,
            declined=False,
            recovers=False,
            cancel_unpaid=False,
            manual=False,
            partial_capture=False,
            cancel=False,
            duplicate=False,
            refund="",
            outcome=Outcome.DELIVERED,
            provider=Provider.EASYPOST,
        )

    def _plant_fraud_warnings(self) -> None:
        """Orders paid late in the day and not yet shipped when the issuer warns of fraud."""
        warned = replace(self._clean_plan(), fraud_warning=True)
        late = self.cfg.start + timedelta(hours=self.cfg.day_hours * 0.9)
        for index in range(self.mix.early_fraud_warnings):
            when = late + timedelta(minutes=7 * index)
            self.at(when, self._planted_placer(when, warned, self._unremarkable(when)))

    def _unremarkable(self, when: datetime) -> Order:
        """An order no screening would stop (so only the issuer's warning cancels it): the
        first drawn that ships where it bills, stays under UNREMARKABLE_TOTAL and comes from
        an address outside the documentation range the demo's block list covers."""
        for _ in range(200):
            order = self.factory.order(when)
            if (
                order.total < UNREMARKABLE_TOTAL
                and order.billing_address.country == order.shipping_address.country
                and not order.customer.ip.startswith("203.0.113.")
            ):
                return order
        raise RuntimeError("no unremarkable order in 200 draws")

    def plan(self) -> _Plan:
        mix, r = self.mix, self.rng.random
        declined = r() < mix.decline
        refund_draw = r()
        outcome_draw = r()
        outcome = Outcome.DELIVERED
        for share, candidate in (
            (mix.lost, Outcome.LOST),
            (mix.returned, Outcome.RETURN_TO_SENDER),
            (mix.pickup, Outcome.AVAILABLE_FOR_PICKUP),
            (mix.failure, Outcome.FAILURE),
        ):
            if outcome_draw < share:
                outcome = candidate
                break
            outcome_draw -= share
        return _Plan(
            shopify=r() < mix.shopify,
            declined=declined,
            recovers=r() < mix.decline_then_paid,
            cancel_unpaid=r() < mix.cancel_unpaid,
            manual=r() < mix.manual_capture,
            partial_capture=r() < mix.partial_capture,
            cancel=r() < mix.cancel,
            duplicate=r() < mix.duplicate_payment,
            refund=(
                "full"
                if refund_draw < mix.refund_full
                else "partial"
                if refund_draw < mix.refund_full + mix.refund_partial
                else ""
            ),
            outcome=outcome,
            provider=self.rng.choices(list(Provider), weights=mix.providers)[0],
        )

    def _planted_placer(self, when: datetime, plan: _Plan, order: Order) -> Callable[[], None]:
        return lambda: self.place(when, plan, order)

    def _placer(self, when: datetime, plan: _Plan) -> Callable[[], None]:
        return lambda: self.place(when, plan)

    def place(self, when: datetime, plan: _Plan, order: Order | None = None) -> None:
        order = order or self.factory.order(when, shopify=plan.shopify)
        self.orders.append(order)
        self.expect[order.order_id] = OrderExpectation(
            order_id=order.order_id,
            source="shopify" if plan.shopify else "shop",
            currency=order.currency.upper(),
            total=order.total,
        )
        self.shop_event(order, when, "created")
        pay_at = self.later(when, 20, 300)
        self.at(pay_at, lambda: self.pay(order, plan, pay_at))

    def _card(self, order: Order) -> str:
        brand = self.rng.choices(("visa", "mastercard", "amex", "discover"), (55, 30, 10, 5))[0]
        funding = self.rng.choices(("credit", "debit", "prepaid"), (60, 35, 5))[0]
        return self.stripe.card(brand, country=order.billing_address.country, funding=funding)

    def _pi_params(self, order: Order, token: str, manual: bool) -> JSON:
        address = order.shipping_address
        return {
            "amount": order.total,
            "currency": order.currency,
            "confirm": True,
            "payment_method": token,
            "capture_method": "manual" if manual else "automatic",
            "description": f"Order {order.order_id}",
            "receipt_email": order.customer.email,
            "metadata": {"order_id": order.order_id, "tenant": self.cfg.tenant},
            "shipping": {
                "name": address.name,
                "address": {
                    "line1": address.line1,
                    "city": address.city,
                    "postal_code": address.postal_code,
                    "state": address.state,
                    "country": address.country,
                },
            },
        }

    def pay(self, order: Order, plan: _Plan, when: datetime) -> None:
        expect = self.expect[order.order_id]
        token = self.rng.choice(DECLINING_CARDS) if plan.declined else self._card(order)
        answer = self.api(
            when,
            "POST",
            "/v1/payment_intents",
            self._pi_params(order, token, plan.manual),
            f"{order.order_id}:pay:1",
        )
        body = answer.json()
        if answer.status == 402:
            expect.failed_payments += 1
            pi_id = body["error"]["payment_intent"]["id"]
            expect.payment_intents.append(pi_id)
            if plan.recovers:
                retry_at = self.later(when, 60, 900)
                self.at(retry_at, lambda: self.retry(order, plan, pi_id, retry_at))
            elif plan.cancel_unpaid:
                cancel_at = self.later(when, 3600, 4 * 3600)
                self.at(cancel_at, lambda: self.cancel_unpaid(order, cancel_at))
            return
        self.paid(order, plan, body, when)

    def retry(self, order: Order, plan: _Plan, pi_id: str, when: datetime) -> None:
        answer = self.api(
            when,
            "POST",
            f"/v1/payment_intents/{pi_id}/confirm",
            {"payment_method": self._card(order)},
            f"{order.order_id}:pay:retry",
        )
        self.paid(order, plan, answer.json(), when, record=False)

    def cancel_unpaid(self, order: Order, when: datetime) -> None:
        self.expect[order.order_id].cancelled = True
        self.shop_event(order, when, "cancelled", reason="declined", financial_status="pending")

    def paid(
        self, order: Order, plan: _Plan, pi: JSON, when: datetime, *, record: bool = True
    ) -> None:
        expect = self.expect[order.order_id]
        if record:
            expect.payment_intents.append(pi["id"])
        expect.charges.append(pi["latest_charge"])
        if pi["status"] == "requires_capture":
            expect.authorized += pi["amount"]
        else:
            expect.captured += pi["amount_received"]
        if plan.duplicate:
            again = self.later(when, 60, 1200)
            self.at(again, lambda: self.pay_again(order, again))
        if plan.cancel:
            cancel_at = self.later(when, 1800, 3 * 3600)
            self.at(cancel_at, lambda: self.cancel(order, pi["id"], cancel_at))
            return
        if plan.fraud_warning:
            warn_at = self.later(when, 3600, 2 * 3600)
            self.at(warn_at, lambda: self.warn_of_fraud(order, pi["latest_charge"], warn_at))
            return
        ship_at = self.later(when, 3 * 3600, 20 * 3600)
        self.at(ship_at, lambda: self.ship(order, plan, pi["id"], ship_at))

    def warn_of_fraud(self, order: Order, charge_id: str, when: datetime) -> None:
        self.stripe_clock = max(self.stripe_clock, when.timestamp())
        self.stripe.set_time(self.stripe_clock)
        warning = self.stripe.early_fraud_warning(charge_id)
        self.flush_stripe()
        self.expect[order.order_id].early_fraud_warning = warning["id"]

    def pay_again(self, order: Order, when: datetime) -> None:
        # The customer pressed "pay" twice: a second, independent PaymentIntent.
        expect = self.expect[order.order_id]
        answer = self.api(
            when,
            "POST",
            "/v1/payment_intents",
            self._pi_params(order, self._card(order), manual=False),
            f"{order.order_id}:pay:2",
        )
        pi = answer.json()
        expect.duplicate_payment = True
        expect.payment_intents.append(pi["id"])
        expect.charges.append(pi["latest_charge"])
        expect.captured += pi["amount_received"]

    def refund_everything(self, order: Order, when: datetime, reason: str) -> None:
        expect = self.expect[order.order_id]
        for pi_id in expect.payment_intents:
            pi = self.stripe.get(pi_id)
            if pi["status"] != "succeeded":
                continue
            charge = self.stripe.get(pi["latest_charge"])
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining <= 0 or charge["dispute"]:
                continue
            self.api(when, "POST", "/v1/refunds",
                     {"payment_intent": pi_id, "reason": reason},
                     f"{order.order_id}:refund:{pi_id}:all")  # fmt: skip
            expect.refunded += remaining

    def cancel(self, order: Order, pi_id: str, when: datetime) -> None:
        expect = self.expect[order.order_id]
        expect.cancelled = True
        pi = self.stripe.get(pi_id)
        if pi["status"] == "requires_capture":
            self.api(when, "POST", f"/v1/payment_intents/{pi_id}/cancel",
                     {"cancellation_reason": "requested_by_customer"},
                     f"{order.order_id}:void")  # fmt: skip
            expect.authorization_released = True
            expect.authorized = 0
            status = "voided"
        else:
            status = "refunded"
        self.refund_everything(order, when, "requested_by_customer")
        self.shop_event(order, when, "cancelled", reason="customer", financial_status=status)

    def ship(self, order: Order, plan: _Plan, pi_id: str, when: datetime) -> None:
        expect = self.expect[order.order_id]
        pi = self.stripe.get(pi_id)
        if pi["status"] == "requires_capture":
            amount = pi["amount_capturable"]
            if plan.partial_capture and len(order.lines) > 1:
                # One line was out of stock: capture the rest, release the remainder.
                amount -= min(line.amount for line in order.lines)
            captured = self.api(when, "POST", f"/v1/payment_intents/{pi_id}/capture",
                                {"amount_to_capture": amount},
                                f"{order.order_id}:capture").json()  # fmt: skip
            expect.authorized = 0
            expect.captured += captured["amount_received"]
        address = order.shipping_address
        journey = plan_journey(
            self.rng,
            order_id=order.order_id,
            provider=plan.provider,
            shipped_at=when,
            destination=Place(address.city, address.state, address.country, address.postal_code),
            outcome=plan.outcome,
            recipient=order.customer.last_name,
        )
        self.journeys.append(journey)
        expect.shipment_status = journey.final_status
        expect.tracking_code = journey.tracking_code
        expect.shipment_provider = journey.provider.value
        expect.shipment_carrier = journey.carrier_name
        self.shop_event(order, when, "fulfilled", tracking_code=journey.tracking_code,
                        carrier=journey.carrier_name, provider=journey.provider.value)  # fmt: skip
        deliveries = journey_deliveries(
            journey,
            rng=self.rng,
            base_url=self.cfg.base_url,
            tenant=self.cfg.tenant,
            secrets=self.cfg.secrets.carriers(),
        )
        for point, delivery in zip(journey.checkpoints, deliveries, strict=True):
            self.emit(point.at, [delivery])
        last = journey.checkpoints[-1].at
        if plan.outcome is Outcome.RETURN_TO_SENDER:
            back = self.later(last, 3600, 6 * 3600)
            self.at(back, lambda: self.refund_everything(order, back, "requested_by_customer"))
        elif plan.refund == "full":
            refund_at = self.later(last, DAY / 2, 3 * DAY)
            self.at(refund_at, lambda: self.refund_everything(order, refund_at,
                                                              "requested_by_customer"))  # fmt: skip
        elif plan.refund == "partial":
            refund_at = self.later(last, DAY / 4, 2 * DAY)
            self.at(refund_at, lambda: self.refund_part(order, pi_id, refund_at))
        if plan.dispute:
            dispute_at = self.later(last, DAY, 5 * DAY)
            self.at(dispute_at, lambda: self.dispute(order, pi_id, plan.dispute or "", dispute_at))

    def refund_part(self, order: Order, pi_id: str, when: datetime) -> None:
        expect = self.expect[order.order_id]
        charge = self.stripe.get(self.stripe.get(pi_id)["latest_charge"])
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        part = (
            min(line.amount for line in order.lines) if len(order.lines) > 1 else order.total // 5
        )
        amount = min(remaining, max(1, part))
        if remaining <= 0:
            return
        self.api(when, "POST", "/v1/refunds",
                 {"payment_intent": pi_id, "amount": amount, "reason": "requested_by_customer",
                  "metadata": {"order_id": order.order_id}},
                 f"{order.order_id}:refund:{pi_id}:part")  # fmt: skip
        expect.refunded += amount

    def dispute(self, order: Order, pi_id: str, outcome: str, when: datetime) -> None:
        expect = self.expect[order.order_id]
        self.stripe_clock = max(self.stripe_clock, when.timestamp())
        self.stripe.set_time(self.stripe_clock)
        charge_id = self.stripe.get(pi_id)["latest_charge"]
        dispute = self.stripe.open_dispute(charge_id, reason="fraudulent")
        self.flush_stripe()
        expect.dispute_id = dispute["id"]
        expect.dispute_status = "needs_response"
        if outcome == "open":
            return
        decide_at = self.later(when, 2 * DAY, 9 * DAY)
        if outcome == "won":
            evidence_at = self.later(when, 3600, DAY)
            self.at(evidence_at, lambda: self.submit_evidence(order, dispute["id"], evidence_at))
        self.at(decide_at, lambda: self.decide(order, dispute["id"], outcome == "won", decide_at))

    def submit_evidence(self, order: Order, dispute_id: str, when: datetime) -> None:
        expect = self.expect[order.order_id]
        evidence = {
            "customer_email_address": order.customer.email,
            "customer_name": order.customer.name,
            "customer_purchase_ip": order.customer.ip,
            "product_description": ", ".join(line.name for line in order.lines),
            "shipping_carrier": expect.shipment_carrier or "",
            "shipping_tracking_number": expect.tracking_code or "",
        }
        self.api(when, "POST", f"/v1/disputes/{dispute_id}",
                 {"evidence": evidence, "submit": True}, f"{order.order_id}:evidence")  # fmt: skip
        expect.dispute_status = "under_review"

    def decide(self, order: Order, dispute_id: str, won: bool, when: datetime) -> None:
        self.stripe_clock = max(self.stripe_clock, when.timestamp())
        self.stripe.set_time(self.stripe_clock)
        closed = self.stripe.close_dispute(dispute_id, won=won)
        self.flush_stripe()
        self.expect[order.order_id].dispute_status = closed["status"]

    def _orphan_payment(self, when: datetime) -> Callable[[], None]:
        def run() -> None:
            ghost = self.rng.random() < 0.5
            metadata = {"order_id": f"ord_ghost{self.rng.getrandbits(32):08x}"} if ghost else {}
            answer = self.api(
                when,
                "POST",
                "/v1/payment_intents",
                {
                    "amount": self.rng.randrange(1500, 25_000),
                    "currency": self.cfg.currency,
                    "confirm": True,
                    "payment_method": "pm_card_visa",
                    "metadata": metadata,
                    "description": "Payment link",
                },
                None,
            )
            self.orphans.append(answer.json()["id"])

        return run

    def payout(self, when: datetime) -> Expected:
        cfg = self.cfg
        self.stripe_clock = max(self.stripe_clock, when.timestamp())
        self.stripe.set_time(self.stripe_clock)
        # Every balance transaction so far counts as available: the payout closes the scenario.
        payout = self.stripe.pay_out(
            cfg.currency, as_of=self.stripe_clock + (self.stripe.availability_days + 1) * DAY
        )
        self.flush_stripe()
        expected = Expected(
            tenant=cfg.tenant,
            currency=cfg.currency.upper(),
            orders=self.expect,
            orphan_payments=self.orphans,
        )
        for order in self.expect.values():
            expected.gross_captured += order.captured
            expected.refunded += order.refunded
        if payout is not None:
            expected.payout_id = payout["id"]
            expected.payout_amount = payout["amount"]
            txns = self.stripe.balance_transactions(payout=payout["id"])
            expected.payout_balance_transactions = len(txns)
            expected.fees = sum(t["fee"] for t in txns if t["reporting_category"] == "charge")
            expected.disputed = -sum(
                t["amount"] for t in txns if t["reporting_category"] == "dispute"
            )
        return expected


def business_day(config: ScenarioConfig, *, stripe: StripeSandbox | None = None) -> Scenario:
    """Generate the day. ``stripe`` may be a started sandbox the product will call afterwards;
    it is left with its clock frozen at the payout (``stripe.set_time(None)`` lets it run)."""
    sandbox = stripe or StripeSandbox(seed=config.seed)
    return _Day(config, sandbox).run()
