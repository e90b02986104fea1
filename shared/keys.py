"""The single table's key map: every partition, sort and index key is built here, nowhere else.

The table (one per deployment, ``infra/constructs/data.py`` from ``TABLE`` below):
``PK``/``SK`` strings; GSIs ``ByCustomer`` (``GSI1PK``/``GSI1SK``), ``ByStatus``
(``GSI2PK``/``GSI2SK``) and ``ByGatewayRef`` (``GSI3PK``/``GSI3SK``); TTL attribute
``expires_at``; stream ``NEW_AND_OLD_IMAGES`` (the processor's outbox). Every key starts with
the tenant (``T#<t>#…``) except the tenants' own settings and system records.

Orders (PK ``T#<t>#ORDER#<o>``): ``ORDER`` the aggregate (GSI2 ``T#<t>#STATUS#<status>`` /
``<placed>#<o>``; GSI1 ``T#<t>#CUST#<hash>`` / ``<placed>#<o>``), ``TL#<time>#<source>#<event>``
timeline entries, ``WORKFLOW`` the lifecycle stage (GSI2 ``T#<t>#STAGE#<stage>`` / ``<o>``),
``SCREENING``, ``REVIEW`` a review hold (when it began, the call task and its outcomes, the
authorisation window's alert), ``WAIT#<kind>`` task tokens, ``RELEASE``, ``CLAIM#<parcel>``
carrier claims (GSI2 ``T#<t>#CLAIMS#open`` / ``<o>#<parcel>`` while filed or accepted),
``MOVEMENT`` the parcels' scans when the delivery wait began, ``NOTIFY#<kind>`` e-mails sent,
``REFUND#<refund>`` refund requests, ``REFUNDABLE#<payment>`` refund reservations,
``LEDGER#refund#<refund>`` refunds completed, ``REFUNDFAILED#<gateway refund>`` refunds the
gateway failed after taking them, ``RETURN#<return>`` returns, ``RETURNED`` what returns hold
of each line.

Orders changed on a UTC day (what the daily reconciliation re-examines, with a TTL):
``T#<t>#CHANGED#<day>`` / ``ORDER#<o>``; orders cancelled on a UTC day (checked for their
refund over the tenant's cancellation window): ``T#<t>#CANCELLED#<day>`` / ``ORDER#<o>``.

Linking events to orders: ``T#<t>#REF#<kind>:<id>`` / ``REF`` (a reference → its order) and
``T#<t>#PARK#<kind>:<id>`` / ``EVT#<event>`` (an event waiting for its order).

Raw webhooks: ``T#<t>#RAW#<source>#<event>`` / ``RAW`` (GSI2 ``T#<t>#RAW#<source>`` /
``<received>#<event>``).

Gateway payouts: ``T#<t>#PAYOUT#<payout>`` / ``PAYOUT``, ``BT#<category>#<txn>``, ``SUMMARY``
(GSI2 ``T#<t>#PAYOUTS`` / ``<arrival>#<payout>``).

Reconciliation: ``T#<t>#BANK#<day>`` / ``L#<account>#<line>`` bank lines;
``T#<t>#BANKFILE#<sha256>`` / ``FILE``, ``DROP#<key>`` (GSI2 ``T#<t>#BANKFILES`` /
``<received>#<sha256>``); ``T#<t>#BREAK#<break>`` / ``BREAK`` (GSI2 ``T#<t>#BREAKS#<open|closed>``
/ ``<first seen>#<break>``); ``T#<t>#RECONACTION#<key>`` / ``ACTION``; ``T#<t>#RECON#<day>`` /
``RUN``.

Risk: ``T#<t>#RISK`` / ``<kind>#<name>#<version>`` rules and lists;
``T#<t>#CUSTHIST#<hash of customer>`` / ``<time>#<kind>#<ref>`` customer history;
``T#<t>#VEL#<dimension>#<hash of value>`` / ``<window>#<bucket>`` velocity counters;
``T#<t>#VELORDER#<o>`` / ``OBSERVED`` the counts an order's screening saw.

Vendor payouts (``functions/payouts``): ``T#<t>#VENDOR#<vendor>`` / ``V#<n>`` each version of
a vendor (who, when, what changed; immutable; GSI2 ``T#<t>#VENDORS`` / ``<vendor>#<n>``);
``T#<t>#VLEDGER#<holder>`` / ``E#<hash of the event>#<hash of its entries' keys>`` one event's
ledger entries for a vendor (or ``platform``), written once (GSI2 ``T#<t>#VLEDGER#<holder>`` /
``<occurred>#<hash>``); ``T#<t>#VBAL#<holder>`` / ``<currency>`` the holder's cached balances;
``T#<t>#PCYCLE#<cycle>`` / ``CYCLE`` a payout cycle, ``LINE#<currency>#<vendor>`` its lines
(GSI2 ``T#<t>#PCYCLES`` / ``<cut-off>#<cycle>``).
Held order lines: ``T#<t>#VHOLD#<o>`` / ``L#<line>`` one held line and its decision (GSI2
``T#<t>#VHOLDS`` / ``<held at>#<o>#<line>``).

Alerts: ``T#<t>#ALERT#<hash of the notice's identity>`` / ``ALERT`` (``SYSTEM#alert#<hash>``
without a tenant): the channels a notice went out on. Routine notices waiting for their team's
digest: ``T#<t>#DIGEST`` / ``<held at>#<hash of the identity>`` (with a TTL).

Disputes (the chargeback desk): ``T#<t>#DISPUTE#<dispute>`` / ``CASE`` one case per dispute,
versioned, with its timeline and evidence draft (GSI2 ``T#<t>#DISPUTES#<open|closed>`` /
``<due by>#<dispute>``; GSI1 ``T#<t>#DISPUTEMONTH#<yyyy-mm>`` / ``<brand>#<dispute>``);
``T#<t>#DISPUTEACTION#<hash of key>`` / ``ACTION`` a submission, acceptance or early-fraud-warning
refund claimed once; ``T#<t>#EFWMONTH#<yyyy-mm>`` / ``<warning>`` early fraud warnings by month.
Reports: ``T#<t>#REPORTDAY`` / ``<local day>`` a local day's tally (what the day added to
sales, refunds, chargebacks, screening, fulfilment: the business summaries add them up);
``T#<t>#REPORTMONTH`` / ``<yyyy-mm>`` an ended month's days added up (what a year adds);
``T#<t>#ORDER#<o>`` / ``HISTORYMAIL`` when the customer was last mailed the order history;
``T#<t>#REPORTSENT#<hash of the mail's key>`` / ``SENT`` a summary mailed (once per period).

Queries (``functions/reports/queries``): beside each order, ``FIND#<kind>#<key>`` one lookup
entry per phone, card, tracking code and shop order number the order holds (GSI1
``T#<t>#FIND#<kind>#<key>`` / ``<BIN or ->#<placed>#<o>``; phones hashed, cards by last four);
``T#<t>#QCASE#<case>`` / ``CASE`` query cases (GSI2 ``T#<t>#QCASES#<open|closed>`` /
``<due>#<case>``).

Others: ``TENANT#<t>`` / ``CONFIG`` tenant settings (GSI2 ``TENANTS`` / ``<t>``), beside them
``CONFIG#V#<n>`` each saved version of the settings and ``SECRETS#V#<n>`` each change of the
tenant's secrets (which fields, who, when; never the values), both immutable;
``T#<t>#LINK#<nonce>`` / ``LINK`` spent review links; ``SYSTEM#selfcheck#<run>`` / ``PROOF``.

The reconciliation fan-out: ``SYSTEM#recontick#<UTC day>`` / ``<tick instant>`` the summary of
an hourly tick (tenants reconciled, failed), kept 90 days.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import NamedTuple

# -- the table's definition, shared by the stack and the tests' table ----------------------------


class Index(NamedTuple):
    name: str
    partition_key: str
    sort_key: str
    # The attributes besides the keys its readers take from a query (DynamoDB's INCLUDE
    # projection). Never an order's aggregate or a raw webhook's body: they are most of what is
    # written and stored, the order's is rewritten with every event, and each index that
    # projected them would write and store them again. A reader that needs one reads the item
    # by key (``shared.order_store.states_found``).
    projected: tuple[str, ...] = ()


class TableDefinition(NamedTuple):
    partition_key: str
    sort_key: str
    indexes: tuple[Index, ...]
    ttl_attribute: str


TABLE = TableDefinition(
    partition_key="PK",
    sort_key="SK",
    indexes=(
        # dispute cases by month; lookup entries and orders give their order's id
        Index("ByCustomer", "GSI1PK", "GSI1SK", ("case", "order_id")),
        Index(
            "ByStatus",
            "GSI2PK",
            "GSI2SK",
            (
                "body",  # vendors, held lines, payout cycles (their JSON)
                "break",  # reconciliation breaks
                "case",  # dispute and query cases
                "claim",  # open carrier claims
                "currency",  # ledger entries
                "detail",  # why an order is in its stage (cancelled by whom)
                "entries",
                "event_type",  # raw webhooks, counted by type and status
                "order_id",  # orders, lifecycle stages, claims
                "record",  # bank files received
                "settings",  # tenants
                "state",  # gateway payouts (an order's aggregate is packed: state_z)
                "status",
                "updated_at",  # how long an order has been in its stage
            ),
        ),
        Index("ByGatewayRef", "GSI3PK", "GSI3SK"),
    ),
    ttl_attribute="expires_at",
)
BY_CUSTOMER = "ByCustomer"
BY_STATUS = "ByStatus"


def digest(value: str) -> str:
    """A fixed-length name for a free-form value (an e-mail, an address): 128 bits of
    SHA-256 over the whole value."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


# -- tenants -------------------------------------------------------------------------------------

TENANTS_INDEX = "TENANTS"


def tenant_config(tenant: str) -> tuple[str, str]:
    return f"TENANT#{tenant}", "CONFIG"


TENANT_SETTINGS_VERSIONS = "CONFIG#V#"
TENANT_SECRETS_VERSIONS = "SECRETS#V#"


def tenant_version(tenant: str, subject_prefix: str, version: int) -> tuple[str, str]:
    """A version of a tenant's settings (``TENANT_SETTINGS_VERSIONS``) or of its secrets
    (``TENANT_SECRETS_VERSIONS``); zero-padded so versions sort by number."""
    return f"TENANT#{tenant}", f"{subject_prefix}{version:010d}"


# -- orders --------------------------------------------------------------------------------------

ORDER_SK = "ORDER"
WORKFLOW_SK = "WORKFLOW"
REVIEW_SK = "REVIEW"
SCREENING_SK = "SCREENING"
RELEASE_SK = "RELEASE"
MOVEMENT_SK = "MOVEMENT"


def order_pk(tenant: str, order_id: str) -> str:
    return f"T#{tenant}#ORDER#{order_id}"


def timeline_sk(at_iso: str, source: str, event_id: str) -> str:
    return f"TL#{at_iso}#{source}#{event_id}"


def timeline_parts(sk: str) -> tuple[str, str, str]:
    """A timeline entry's sort key as (time, source, event id): the entry does not store them
    again. The time and the source hold no ``#``; an event id may."""
    _, at_iso, source, event_id = sk.split("#", 3)
    return at_iso, source, event_id


def status_index(tenant: str, status: str) -> str:
    return f"T#{tenant}#STATUS#{status}"


def customer_index(tenant: str, email: str) -> str:
    """A customer's orders by e-mail: the address trimmed and lower-cased, then hashed (an
    e-mail is personal data, and keys travel into logs and metrics)."""
    return f"T#{tenant}#CUST#{digest(email.strip().lower())}"


def stage_index(tenant: str, stage: str) -> str:
    return f"T#{tenant}#STAGE#{stage}"


def open_claims_index(tenant: str) -> str:
    return f"T#{tenant}#CLAIMS#open"


def wait_sk(kind: str) -> str:
    return f"WAIT#{kind}"


def claim_sk(parcel: str) -> str:
    return f"CLAIM#{parcel}"


def notify_sk(kind: str) -> str:
    return f"NOTIFY#{kind}"


def refund_sk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def refundable_sk(payment_id: str) -> str:
    return f"REFUNDABLE#{payment_id}"


def refund_completed_sk(refund_id: str) -> str:
    return f"LEDGER#refund#{refund_id}"


def refund_failed_sk(gateway_refund_id: str) -> str:
    return f"REFUNDFAILED#{gateway_refund_id}"


def return_sk(return_id: str) -> str:
    return f"RETURN#{return_id}"


def changed_orders_pk(tenant: str, day: date) -> str:
    return f"T#{tenant}#CHANGED#{day.isoformat()}"


def cancelled_orders_pk(tenant: str, day: date) -> str:
    return f"T#{tenant}#CANCELLED#{day.isoformat()}"


def changed_order_sk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def returned_lines_sk() -> str:
    return "RETURNED"


def reference_pk(tenant: str, ref: str) -> str:
    return f"T#{tenant}#REF#{ref}"


def parked_pk(tenant: str, ref: str) -> str:
    return f"T#{tenant}#PARK#{ref}"


# -- raw webhooks --------------------------------------------------------------------------------


def raw_pk(tenant: str, source: str, event_id: str) -> str:
    return f"T#{tenant}#RAW#{source}#{event_id}"


def raw_index(tenant: str, source: str) -> str:
    return f"T#{tenant}#RAW#{source}"


# -- gateway payouts (settlements) ---------------------------------------------------------------


def payout_pk(tenant: str, payout_id: str) -> str:
    return f"T#{tenant}#PAYOUT#{payout_id}"


def payouts_index(tenant: str) -> str:
    return f"T#{tenant}#PAYOUTS"


# -- reconciliation ------------------------------------------------------------------------------


def bank_day_pk(tenant: str, day: date) -> str:
    return f"T#{tenant}#BANK#{day.isoformat()}"


def bank_file_pk(tenant: str, sha256: str) -> str:
    return f"T#{tenant}#BANKFILE#{sha256}"


def bank_files_index(tenant: str) -> str:
    return f"T#{tenant}#BANKFILES"


def break_pk(tenant: str, break_id: str) -> str:
    return f"T#{tenant}#BREAK#{break_id}"


def breaks_index(tenant: str, status: str) -> str:
    return f"T#{tenant}#BREAKS#{status}"


def recon_action_pk(tenant: str, key: str) -> str:
    return f"T#{tenant}#RECONACTION#{key}"


def recon_run_pk(tenant: str, day: date) -> str:
    return f"T#{tenant}#RECON#{day.isoformat()}"


# -- risk ----------------------------------------------------------------------------------------


def risk_pk(tenant: str) -> str:
    return f"T#{tenant}#RISK"


def customer_history_pk(tenant: str, customer: str) -> str:
    return f"T#{tenant}#CUSTHIST#{digest(customer)}"


def velocity_pk(tenant: str, dimension: str, value_digest: str) -> str:
    return f"T#{tenant}#VEL#{dimension}#{value_digest}"


def velocity_marker(tenant: str, order_id: str) -> tuple[str, str]:
    return f"T#{tenant}#VELORDER#{order_id}", "OBSERVED"


# -- operator links and the platform -------------------------------------------------------------


def spent_link(tenant: str, nonce: str) -> tuple[str, str]:
    return f"T#{tenant}#LINK#{nonce}", "LINK"


def selfcheck_proof(run_id: str) -> tuple[str, str]:
    return f"SYSTEM#selfcheck#{run_id}", "PROOF"


# -- alerts --------------------------------------------------------------------------------------


def alert_sent(tenant: str | None, identity: str) -> tuple[str, str]:
    """Which channels a notice went out on (``shared.alerts``): once per identity, hashed whole."""
    if tenant is None:
        return f"SYSTEM#alert#{digest(identity)}", "ALERT"
    return f"T#{tenant}#ALERT#{digest(identity)}", "ALERT"


def notice_held(tenant: str, at: str, identity: str) -> tuple[str, str]:
    """A routine notice waiting for its team's digest (``shared.notice_digest``): sorted by
    the time it was held, so what was held before a moment is one query."""
    return f"T#{tenant}#DIGEST", f"{at}#{digest(identity)}"


# -- disputes (the chargeback desk) --------------------------------------------------------------

DISPUTE_CASE_SK = "CASE"


def dispute_case(tenant: str, dispute_id: str) -> tuple[str, str]:
    """One case per Stripe dispute (``functions/disputes``), versioned."""
    return f"T#{tenant}#DISPUTE#{dispute_id}", DISPUTE_CASE_SK


def dispute_cases_index(tenant: str, status: str) -> str:
    """Cases by ``open`` / ``closed`` (GSI2), sorted by their evidence deadline."""
    return f"T#{tenant}#DISPUTES#{status}"


def dispute_deadline_sort(due_by_iso: str | None, dispute_id: str) -> str:
    # A case with no deadline sorts after every dated one.
    return f"{due_by_iso or '9999'}#{dispute_id}"


def dispute_month_index(tenant: str, month: str) -> str:
    """Cases by the month (``YYYY-MM``, UTC) their dispute opened (GSI1), for the ratios."""
    return f"T#{tenant}#DISPUTEMONTH#{month}"


def dispute_action(tenant: str, key: str) -> tuple[str, str]:
    """An outside effect of the desk claimed once (a submission, an acceptance, a warning's
    refund): ``key`` names it whole."""
    return f"T#{tenant}#DISPUTEACTION#{digest(key)}", "ACTION"


def fraud_warnings_month(tenant: str, month: str) -> str:
    """Early fraud warnings by the month (``YYYY-MM``, UTC) Stripe raised them, for the
    ratios: ``T#<t>#EFWMONTH#<month>`` / ``<warning>``."""
    return f"T#{tenant}#EFWMONTH#{month}"


# -- reports -------------------------------------------------------------------------------------


def report_days_pk(tenant: str) -> str:
    """One partition per tenant: a year of day tallies is one query of 365 small items."""
    return f"T#{tenant}#REPORTDAY"


def report_day_sk(day: date) -> str:
    return day.isoformat()


def report_months_pk(tenant: str) -> str:
    """A year of ended months is one query of 12 items."""
    return f"T#{tenant}#REPORTMONTH"


def report_month_sk(month: date) -> str:
    return f"{month:%Y-%m}"


HISTORY_MAIL_SK = "HISTORYMAIL"


def report_sent(tenant: str, mail_key: str) -> tuple[str, str]:
    """A summary's mail, sent once per period whatever the retries (SES has no idempotency)."""
    return f"T#{tenant}#REPORTSENT#{digest(mail_key)}", "SENT"


# -- queries (customer lookups and query cases, functions/reports/queries) -----------------------


def lookup_index(tenant: str, kind: str, key: str) -> str:
    """Orders holding one identifier (a phone's hash, a card's last four, a tracking code)."""
    return f"T#{tenant}#FIND#{kind}#{key}"


def lookup_sk(kind: str, key: str) -> str:
    return f"FIND#{kind}#{key}"


def query_case_pk(tenant: str, case_id: str) -> tuple[str, str]:
    return f"T#{tenant}#QCASE#{case_id}", "CASE"


def query_cases_index(tenant: str, status: str) -> str:
    return f"T#{tenant}#QCASES#{status}"


# -- vendor payouts ------------------------------------------------------------------------------

VENDOR_VERSIONS = "V#"


def vendor_pk(tenant: str, vendor_id: str) -> str:
    return f"T#{tenant}#VENDOR#{vendor_id}"


def vendor_version_sk(version: int) -> str:
    """Zero-padded so a vendor's versions sort by number."""
    return f"{VENDOR_VERSIONS}{version:010d}"


def vendors_index(tenant: str) -> str:
    return f"T#{tenant}#VENDORS"


def vendors_index_sk(vendor_id: str, version: int) -> str:
    return f"{vendor_id}#{version:010d}"


def vendor_ledger_pk(tenant: str, holder: str) -> str:
    """A vendor's (or ``platform``'s) ledger entries; also their GSI2 partition by time."""
    return f"T#{tenant}#VLEDGER#{holder}"


def vendor_ledger_sk(event_digest: str, entries_digest: str) -> str:
    """One event's entries for a holder: the event's digest (a prefix to find them by), then
    a digest of the entries' keys."""
    return f"E#{event_digest}#{entries_digest}"


def vendor_ledger_time_sk(occurred_iso: str, group_key: str) -> str:
    return f"{occurred_iso}#{group_key}"


def vendor_balance(tenant: str, holder: str, currency: str) -> tuple[str, str]:
    return f"T#{tenant}#VBAL#{holder}", currency


def payout_cycle_pk(tenant: str, cycle_id: str) -> str:
    return f"T#{tenant}#PCYCLE#{cycle_id}"


PAYOUT_CYCLE_SK = "CYCLE"


PAYOUT_CYCLE_LINES = "LINE#"


def payout_cycle_line_sk(currency: str, vendor_id: str) -> str:
    return f"{PAYOUT_CYCLE_LINES}{currency}#{vendor_id}"


def payout_cycles_index_sk(cutoff_iso: str, cycle_id: str) -> str:
    return f"{cutoff_iso}#{cycle_id}"


def payout_cycles_index(tenant: str) -> str:
    return f"T#{tenant}#PCYCLES"


# -- vendor payouts: held order lines ----------------------------------------------------------


def payout_holds_pk(tenant: str, order_id: str) -> str:
    """An order's held lines (parcels not delivered, reshipped), one item a line."""
    return f"T#{tenant}#VHOLD#{order_id}"


def payout_hold_sk(line_id: str) -> str:
    return f"L#{line_id}"


def payout_holds_index(tenant: str) -> str:
    """GSI2: the tenant's held lines by when they were held."""
    return f"T#{tenant}#VHOLDS"


def payout_holds_index_sk(held_iso: str, order_id: str, line_id: str) -> str:
    return f"{held_iso}#{order_id}#{line_id}"


# -- the reconciliation fan-out (functions/reconcile, the hourly tick) ----------------------------


def reconcile_tick(tick_day: date, tick_instant: str) -> tuple[str, str]:
    """One hourly tick's summary (tenants reconciled and failed): every tenant's, so a system
    record, one partition per UTC day of ticks."""
    return f"SYSTEM#recontick#{tick_day.isoformat()}", tick_instant
