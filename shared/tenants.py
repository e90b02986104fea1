"""A tenant's (client shop's) settings: what differs from one client to the next.

Secrets (webhook secrets, API keys) are not here: they live in SSM Parameter Store
(``shared.tenant_secrets``). These settings live in the table at ``TENANT#<id>`` / ``CONFIG``,
written by ``ecomops tenants`` (``functions/tenants``: each save an immutable version beside it)
or, on the local stack, from a tenants file. Every setting is typed and an unknown key is
refused by name, so a misspelt setting cannot be silently ignored.
"""

import re
import time
from email.utils import parseaddr
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from shared import aws, keys
from shared.bank_csv import CSV_PRESETS, CsvMapping
from shared.money import Currency
from shared.retention import (
    DEFAULT_FINANCIAL_YEARS,
    LONGEST_FINANCIAL_YEARS,
    RAW_EVENT_DAYS,
    RAW_TABLE_DEFAULT_DAYS,
    RAW_TABLE_LONGEST_DAYS,
    RAW_TABLE_SHORTEST_DAYS,
    shortest_days,
)
from shared.risk_lists import ListSet
from shared.secrets_layout import split

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value.strip()


def _sender(value: str) -> str:
    """``Name <address>`` or a bare address, as a From: header takes it."""
    _address(parseaddr(value)[1] or value)
    return value


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Amsterdam)") from None
    return name


EmailAddress = Annotated[str, AfterValidator(_address)]
Sender = Annotated[str, AfterValidator(_sender)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]


class Branding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    display_name: str
    primary_color: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_url: str | None = None
    support_email: EmailAddress | None = None


def _known_preset(name: str) -> str:
    if name not in CSV_PRESETS:
        raise ValueError(f"no bank CSV preset {name!r} (known: {', '.join(sorted(CSV_PRESETS))})")
    return name


def _preset_or_mapping(value: Any) -> str:
    # Chosen by the input's shape, so an error names the one the operator meant (not both).
    return "preset" if isinstance(value, str) else "mapping"


BankCsv = Annotated[
    Annotated[Annotated[str, AfterValidator(_known_preset)], Tag("preset")]
    | Annotated[CsvMapping, Tag("mapping")],
    Discriminator(_preset_or_mapping),
]


class ReconciliationSettings(BaseModel):
    """How the daily three-way reconciliation treats this tenant (functions/reconcile/)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Local hour (tenant time zone) at which yesterday is reconciled.
    run_hour: int = Field(default=6, ge=0, le=23)
    # Refunds of duplicate payments and of payments for cancelled or failed orders: off unless
    # switched on; dry run lists what would be refunded; above max_refund an operator decides.
    auto_refund: bool = False
    dry_run: bool = True
    max_refund: int | None = Field(default=None, ge=0, description="minor units")
    grace_days: int = Field(default=2, ge=0)
    date_window_days: int = Field(default=3, ge=0)
    # Every day, the orders cancelled in this many days before it are checked again for their
    # refund ("every cancellation is refunded"), changed that day or not.
    cancellation_window_days: int = Field(default=30, ge=0, le=400)
    settlement_patterns: tuple[str, ...] = ("STRIPE",)
    # The bank's CSV exports: a preset name or a column mapping (docs/bank-files.md).
    bank_csv: BankCsv | None = None


class Thresholds(BaseModel):
    """Order amounts (minor units) above which screening reviews or blocks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    review_over: int | None = Field(default=None, ge=0)
    block_over: int | None = Field(default=None, ge=0)


class RiskSettings(BaseModel):
    """What screening starts from (``functions/risk/domain/signals.SignalConfig.from_tenant``).
    Everything else screening decides (country mismatches, velocity, disposable e-mails) is
    said in the tenant's rules (``ecomops risk rules save``, docs/risk.md), not here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    block: ListSet = ListSet()
    allow: ListSet = ListSet()
    # Per business category; "*" for any other.
    thresholds: dict[str, Thresholds] = Field(default_factory=dict)
    # The older single pair: the "*" thresholds when ``thresholds`` has none.
    review_over: int | None = Field(default=None, ge=0)
    block_over: int | None = Field(default=None, ge=0)

    def thresholds_by_category(self) -> dict[str, Thresholds]:
        thresholds = dict(self.thresholds)
        legacy = Thresholds(review_over=self.review_over, block_over=self.block_over)
        if legacy != Thresholds() and "*" not in thresholds:
            thresholds["*"] = legacy
        return thresholds


class DeliverySettings(BaseModel):
    """How parcels are watched once shipped (functions/orders: delivery)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # No scan on any undelivered parcel for this long: the parcel counts as lost and a claim
    # is opened with its carrier (carriers accept claims for parcels untracked ~5-10 days).
    no_movement_days: int = Field(default=10, ge=1)
    # After claims open: how long the order waits for them to be decided (or the parcel to
    # turn up) before an operator is left to decide refund or reship.
    claims_days: int = Field(default=30, ge=1)


class RefundSettings(BaseModel):
    """How refunds and voids are reported to the payment gateway (shared/refund_causes.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Refunds and voids of orders judged fraudulent (screening blocks, reviewer rejections,
    # an operator's or the shop's fraud cancellation) tell the gateway ``fraudulent``: Stripe
    # then blocks the card and e-mail and trains Radar on it, so a false positive turns the
    # customer away for good. Off: the gateway is given no reason for them.
    report_fraud_to_gateway: bool = False


class RetentionSettings(BaseModel):
    """How long this tenant's financial records are kept (shared/retention.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Orders and their timelines, refunds, released funds, payouts, bank files and lines,
    # reconciliation breaks and runs: kept this many years after they last changed, never
    # less than the raw webhooks they are checked against.
    financial_years: int = Field(default=DEFAULT_FINANCIAL_YEARS, le=LONGEST_FINANCIAL_YEARS)
    # Raw webhooks: days each stays in the table after it was received (deduplication of the
    # senders' retries, recent replays); the archive bucket keeps them all RAW_EVENT_DAYS and
    # replays older than this read the archive (docs/ingestion.md).
    raw_event_days: int = Field(
        default=RAW_TABLE_DEFAULT_DAYS, ge=RAW_TABLE_SHORTEST_DAYS, le=RAW_TABLE_LONGEST_DAYS
    )

    @field_validator("financial_years")
    @classmethod
    def _not_shorter_than_raw_events(cls, years: int) -> int:
        if shortest_days(years) < RAW_EVENT_DAYS:
            raise ValueError(
                f"{years} years is shorter than the raw webhooks are kept "
                f"({RAW_EVENT_DAYS} days): at least {DEFAULT_FINANCIAL_YEARS}"
            )
        return years


class ReturnSettings(BaseModel):
    """How returns are handled (functions/orders/use_cases/returns.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Off (the default): the refund follows the return parcel's delivery scan. On: the
    # client team inspects the parcel first (accept, partial or reject) and the refund follows
    # the inspection.
    inspection: bool = False


class DisputeSettings(BaseModel):
    """The chargeback desk (functions/disputes): what the evidence says of the shop's policies,
    and what an early fraud warning does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Shown to the customer at checkout, quoted in the evidence (Stripe's
    # ``refund_policy_disclosure`` / ``cancellation_policy_disclosure``). None: left out.
    refund_policy_disclosure: str | None = Field(default=None, max_length=20_000)
    cancellation_policy_disclosure: str | None = Field(default=None, max_length=20_000)
    # An actionable early fraud warning on an order not shipped yet: ``cancel_unshipped``
    # cancels and refunds it before it becomes a dispute (the default); ``alert`` only tells
    # the client team; shipped orders are always only alerted on. The refund is a fraud
    # cancellation: Stripe hears ``fraudulent`` (which blocks the card and e-mail) only when
    # ``refunds.report_fraud_to_gateway`` is on, no reason otherwise.
    early_fraud_warning: Literal["cancel_unshipped", "alert"] = "cancel_unshipped"
    # The card networks' region the shop's acquirer is in, where a programme's thresholds
    # differ by region (Visa VAMP: ``MENA`` keeps 2.2 %); None: the general thresholds.
    network_region: str | None = None


# The notice kinds that are follow-up work (``shared.notices``: the classes that say
# ``routine``): the team's digest collects them unless ``NoticeSettings.immediate`` names them.
# Here rather than gathered from the classes, so reading a tenant loads no notice module; a
# unit test holds the two together.
ROUTINE_NOTICE_KINDS = frozenset(
    {
        "not_dispatched",
        "delivery_problem",
        "order_not_delivered",
        "claim_withdrawn",
        "return_to_inspect",
    }
)


class NoticeSettings(BaseModel):
    """How the client's teams get notices by e-mail (``shared.alerts``). Whatever is set here,
    every notice is published on SNS at once, and what needs someone now (a fraud review, a
    failed refund, a dispute, reconciliation's breaks) is mailed at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Routine notices (a parcel late or in trouble, a return to inspect) are mailed together:
    # ``hourly``, one e-mail per team for the hour's, sent when the hour ends; ``daily``, the
    # day's at ``reports.run_hour``; ``off``, each at once in an e-mail of its own.
    digest: Literal["hourly", "daily", "off"] = "hourly"
    # Routine kinds this tenant's teams want at once all the same.
    immediate: tuple[str, ...] = ()

    @field_validator("immediate")
    @classmethod
    def _routine_kinds(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(kinds) - ROUTINE_NOTICE_KINDS)
        if unknown:
            raise ValueError(
                f"not routine notice kinds: {', '.join(unknown)} (routine: "
                f"{', '.join(sorted(ROUTINE_NOTICE_KINDS))}; every other kind is mailed at once)"
            )
        return kinds

    def held_for_digest(self, kind: str) -> bool:
        return self.digest != "off" and kind in ROUTINE_NOTICE_KINDS and kind not in self.immediate


class ReportSettings(BaseModel):
    """The business summaries (functions/reports): which periods are mailed, when, to whom."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The local hour the hourly tick sums up the tenant's yesterday (after reconciliation's
    # default 06:00, so the day's late webhooks are in). Each period is mailed the morning
    # after its last day: the day every day, the week on Mondays, the month on the 1st.
    run_hour: int = Field(default=7, ge=0, le=23)
    periods: tuple[Literal["daily", "weekly", "monthly", "yearly"], ...] = (
        "daily",
        "weekly",
        "monthly",
        "yearly",
    )
    # Days before yesterday summed up again each morning: a fact dated on them that reached
    # us late (a webhook retried for a day) still counts on its own day.
    restate_days: int = Field(default=3, ge=0, le=31)
    top_n: int = Field(default=10, ge=1, le=100)
    # Who receives the summaries; none: the finance list (else the operations list).
    recipients: tuple[EmailAddress, ...] = ()
    # Customers asking for their order history by e-mail: at most one mail per order per
    # this many hours.
    history_email_hours: int = Field(default=24, ge=1)


class QuerySettings(BaseModel):
    """Query cases (``functions/reports/queries``): questions the records cannot answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A case is due this long after it was opened (default 48 hours: the gateway's and the
    # bank's usual answer time).
    sla_hours: int = Field(default=48, ge=1)
    # An open case reminds finance this often from the hourly tick (default 24 hours).
    reminder_hours: int = Field(default=24, ge=1)


class PayoutSettings(BaseModel):
    """How a marketplace tenant pays its vendors (functions/payouts, docs/payouts.md).

    Off by default: a shop selling its own goods keeps no vendor ledger (its lines would all
    be "unknown vendors"). On, the default pays every Monday what was released by the Monday's
    start in the tenant's time zone, with the platform bearing gateway fees and chargebacks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # A marketplace: its orders' lines are posted to the vendor ledger and its vendors paid.
    enabled: bool = False

    # When cycles run: every day, weekly on ``weekday`` (0 = Monday), or monthly on ``day``
    # (a day past the month's end is its last day).
    schedule: Literal["daily", "weekly", "monthly"] = "weekly"
    weekday: int = Field(default=0, ge=0, le=6)
    day: int = Field(default=1, ge=1, le=31)
    # The cut-off is this hour of the cycle's day, in the tenant's time zone; what was released
    # ``delay_days`` before it is paid.
    cutoff_hour: int = Field(default=0, ge=0, le=23)
    delay_days: int = Field(default=0, ge=0, le=60)
    # Below this (minor units, per currency; a vendor's own minimum wins) a balance is carried.
    minimum_payout: int = Field(default=0, ge=0)
    # Who bears the gateway's fee on a sale, and a chargeback lost.
    fees_borne_by: Literal["vendor", "platform"] = "platform"
    chargebacks_borne_by: Literal["vendor", "platform"] = "platform"
    # The tenant's own account the payouts leave from, for the SEPA file (pain.001) of EUR
    # bank payouts; without it the instruction to finance lists them in a CSV instead.
    debtor_name: str | None = Field(default=None, min_length=1, max_length=70)
    debtor_iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
    debtor_bic: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    # How long the signed links of the instruction to finance (mark the cycle, or a vendor's
    # line, paid or failed) may be used, counted from the cycle's run.
    finance_link_days: int = Field(default=30, ge=1, le=90)
    # Stripe Connect mode: vendors paid to a connected account are paid by the cycle's Stripe
    # transfers (and refunds after a payout reverse them) instead of by finance. Off by
    # default: finance pays them from the instruction's CSV.
    connect_transfers: bool = False


class TenantSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
    name: str
    currency: Currency
    # Currencies orders may also be placed in (a shop selling in several markets); an order in
    # any other currency is refused at the door with the reason.
    other_currencies: tuple[Currency, ...] = ()
    timezone: TimeZone = "UTC"
    business_category: str = "general"
    capture_mode: Literal["automatic", "manual"] = "automatic"
    customer_sender: Sender = Field(description="From: address of customer e-mails")
    alert_emails: tuple[EmailAddress, ...] = ()
    finance_emails: tuple[EmailAddress, ...] = ()
    branding: Branding | None = None
    dispatch_sla_days: int = Field(default=3, ge=1)
    return_window_days: int = Field(default=14, ge=0)
    review_timeout_hours: int = Field(default=48, ge=1)
    delivery_timeout_days: int = Field(default=14, ge=1)
    # How long the gateway has to confirm a refund (its signed webhook) before the team is told
    # it is stuck: Stripe confirms a card refund in seconds; a refund by bank transfer can take
    # days.
    refund_confirmation_hours: int = Field(default=48, ge=1, le=720)
    # Automatic capture: an order is confirmed once paid; one still unpaid this long after
    # screening let it through is cancelled as unpaid.
    payment_timeout_hours: int = Field(default=24, ge=1)
    # Manual capture: how long the card networks keep an authorisation (Visa: 168 h for
    # customer-initiated payments, 120 h for merchant-initiated ones; Stripe's extended
    # authorisations reach 30 days). A review must end within it (checked below), and the
    # reviewer is alerted this many hours before it runs out.
    authorisation_window_hours: int = Field(default=168, ge=1, le=720)
    authorisation_alert_before_hours: int = Field(default=24, ge=0)
    # The client team is asked to call the customer this many hours before a review times out
    # (at the start of a shorter review); 0: no call task.
    review_call_before_timeout_hours: int = Field(default=24, ge=0)
    risk: RiskSettings = RiskSettings()
    reconciliation: ReconciliationSettings = ReconciliationSettings()
    delivery: DeliverySettings = DeliverySettings()
    refunds: RefundSettings = RefundSettings()
    retention: RetentionSettings = RetentionSettings()
    returns: ReturnSettings = ReturnSettings()
    disputes: DisputeSettings = DisputeSettings()
    reports: ReportSettings = ReportSettings()
    notices: NoticeSettings = NoticeSettings()
    queries: QuerySettings = QuerySettings()
    payouts: PayoutSettings = PayoutSettings()

    @model_validator(mode="after")
    def _capture_fits_the_authorisation(self) -> "TenantSettings":
        # Refused when saved, not found out as a failed capture days later.
        problems = []
        if self.capture_mode == "manual" and (
            self.review_timeout_hours >= self.authorisation_window_hours
        ):
            problems.append(
                f"capture_mode 'manual' captures after the review: review_timeout_hours "
                f"({self.review_timeout_hours}) must be shorter than authorisation_window_hours "
                f"({self.authorisation_window_hours})"
            )
        if self.authorisation_alert_before_hours >= self.authorisation_window_hours:
            problems.append(
                f"authorisation_alert_before_hours ({self.authorisation_alert_before_hours}) "
                f"must be shorter than authorisation_window_hours "
                f"({self.authorisation_window_hours})"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def accepted_currencies(self) -> frozenset[str]:
        return frozenset((self.currency, *self.other_currencies))


class TenantDocument(BaseModel):
    """A tenant as an operator writes it down: its settings and its secrets document (the shape
    ``shared.tenant_secrets`` documents; split by use when stored). One entry of a tenants file
    (``local/tenants.py``) and what ``ecomops tenants add`` reads: the same checks for both."""

    model_config = ConfigDict(extra="forbid")

    settings: TenantSettings
    secrets: dict[str, Any] = Field(default_factory=dict)

    @field_validator("secrets")
    @classmethod
    def _fits_the_layout(cls, value: dict[str, Any]) -> dict[str, Any]:
        split(value)  # refuses unknown keys by name, and values of the wrong type
        return value


def config_key(tenant: str) -> dict[str, dict[str, str]]:
    pk, sk = keys.tenant_config(tenant)
    return {"PK": {"S": pk}, "SK": {"S": sk}}


class TenantDirectory:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def save(self, settings: TenantSettings) -> None:
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                **config_key(settings.id),
                "kind": {"S": "tenant"},
                "settings": {"S": settings.model_dump_json()},
                "GSI2PK": {"S": "TENANTS"},
                "GSI2SK": {"S": settings.id},
            },
        )

    def get(self, tenant: str) -> TenantSettings | None:
        answer = aws.client("dynamodb").get_item(TableName=self.table_name, Key=config_key(tenant))
        item = answer.get("Item")
        return TenantSettings.model_validate_json(item["settings"]["S"]) if item else None

    def all(self) -> list[TenantSettings]:
        # Every page: a tenant's settings are a few KB, so a 1 MB page holds a few hundred.
        pages = (
            aws.client("dynamodb")
            .get_paginator("query")
            .paginate(
                TableName=self.table_name,
                IndexName="ByStatus",
                KeyConditionExpression="GSI2PK = :pk",
                ExpressionAttributeValues={":pk": {"S": "TENANTS"}},
            )
        )
        return [
            TenantSettings.model_validate_json(i["settings"]["S"])
            for page in pages
            for i in page["Items"]
        ]


class CachedTenants:
    """Settings by tenant, kept for a few minutes per process (the front door asks on every
    order webhook; settings change rarely and a change is seen within ``ttl_s``)."""

    def __init__(self, directory: TenantDirectory, ttl_s: float = 300) -> None:
        self.directory = directory
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, TenantSettings | None]] = {}

    def get(self, tenant: str) -> TenantSettings | None:
        now = time.monotonic()
        cached = self._cache.get(tenant)
        if cached is not None and cached[0] > now:
            return cached[1]
        settings = self.directory.get(tenant)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[tenant] = (now + self.ttl_s, settings)
        return settings
