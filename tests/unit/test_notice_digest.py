"""The teams' digests: a routine notice is held for its team's digest instead of mailed on its
own (SNS still has it at once), what needs someone now is mailed at once, and the reports
tick mails each team what was held before the hour (or the tenant's report hour) in one
e-mail, once, letting go of it only when the mail went."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

import shared.notices
from functions.reports.use_cases.digest import Digests, period_ending, send_digests
from shared.notice_digest import HeldNotice
from shared.notices import Notice
from shared.notices.orders import (
    ClaimWithdrawn,
    DeliveryProblem,
    NotDispatched,
    PotentialFraud,
    RefundFailed,
)
from shared.notices.reconcile import ReconciliationBreaks
from shared.tenants import ROUTINE_NOTICE_KINDS, NoticeSettings, TenantSettings
from tests.alerts_fakes import FakeAlerts, FakeNoticeDigest
from tests.orders_fakes import FakeMailer, FakeTenants
from tests.reports_fakes import FakeTeamMailer

ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="USD",
    customer_sender="Acme Shop <orders@acme.example>",
    alert_emails=("ops@acme.example",),
    finance_emails=("finance@acme.example",),
)
LATE = NotDispatched(tenant="acme", order_id="o-1", days=3)
PARCEL = DeliveryProblem(tenant="acme", order_id="o-2", problem="exception", tracking_code="T2")
NINE = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)


def _every_kind() -> list[type[Notice]]:
    for module in pkgutil.iter_modules(shared.notices.__path__):
        importlib.import_module(f"shared.notices.{module.name}")
    found: list[type[Notice]] = []
    todo = list(Notice.__subclasses__())
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_the_settings_name_exactly_the_kinds_whose_class_says_routine() -> None:
    routine = {k.model_fields["kind"].default for k in _every_kind() if k.routine}
    assert routine == ROUTINE_NOTICE_KINDS


def test_what_needs_someone_now_is_never_routine() -> None:
    urgent: list[type[Notice]] = [PotentialFraud, RefundFailed, ReconciliationBreaks]
    assert not any(kind.routine for kind in urgent)


def test_a_tenant_may_ask_for_routine_kinds_at_once_and_is_told_which_exist() -> None:
    settings = NoticeSettings(immediate=("delivery_problem",))
    assert settings.held_for_digest("not_dispatched")
    assert not settings.held_for_digest("delivery_problem")
    assert not settings.held_for_digest("potential_fraud")
    assert not NoticeSettings(digest="off").held_for_digest("not_dispatched")
    with pytest.raises(ValidationError, match="not routine notice kinds: potential_fraud"):
        NoticeSettings(immediate=("potential_fraud",))


def alerting(tenant: TenantSettings = ACME) -> tuple[FakeAlerts, FakeMailer, FakeNoticeDigest]:
    mailer, digest = FakeMailer(), FakeNoticeDigest(NINE)
    return FakeAlerts(FakeTenants(tenant), mailer, digest=digest), mailer, digest


def test_a_routine_notice_is_published_at_once_and_held_for_the_digest_not_mailed() -> None:
    fake, mailer, digest = alerting()
    fake.send(LATE)
    assert [r["MessageAttributes"]["kind"]["StringValue"] for r in fake.published] == [
        "not_dispatched"
    ]
    assert mailer.sent == []
    (held,) = digest.kept["acme"]
    assert held.team == "operations"
    assert held.line["headline"] == LATE.headline
    assert held.line["kind"] == "not_dispatched" and held.line["order_id"] == "o-1"
    actions = held.line["to_act"]
    assert "ecomops orders show --tenant acme o-1" in [a["command"] for a in actions]
    # Held once: the step that raised it may run again.
    fake.send(LATE)
    assert len(digest.kept["acme"]) == 1 and len(fake.published) == 1
    channels = fake.log.channels_by_identity[("acme", LATE.identity)]
    assert channels["email"].startswith("digest:")


def test_what_needs_someone_now_is_mailed_at_once_whatever_the_digest() -> None:
    fake, mailer, digest = alerting()
    fake.send(RefundFailed(tenant="acme", order_id="o-1", refund_id="r-1", reason="declined"))
    assert [m.kind for m in mailer.sent] == ["team_notice"] and digest.kept == {}


@pytest.mark.parametrize(
    "notices", [NoticeSettings(digest="off"), NoticeSettings(immediate=("not_dispatched",))]
)
def test_a_tenant_without_the_digest_or_wanting_the_kind_at_once_gets_it_mailed(
    notices: NoticeSettings,
) -> None:
    fake, mailer, digest = alerting(ACME.model_copy(update={"notices": notices}))
    fake.send(LATE)
    assert [m.kind for m in mailer.sent] == ["not_dispatched"] and digest.kept == {}


GLOBEX = ACME.model_copy(update={"id": "globex", "alert_emails": ("ops@globex.example",)})


def _held_for_globex(digest: FakeNoticeDigest) -> None:
    """Another shop's late order, held at 09:15 with ACME's."""
    fake = FakeAlerts(FakeTenants(GLOBEX), FakeMailer(), digest=digest)
    fake.send(LATE.model_copy(update={"tenant": "globex"}))


def _held(digest: FakeNoticeDigest, at: datetime, *notices: Notice) -> None:
    fake = FakeAlerts(FakeTenants(ACME), FakeMailer(), digest=digest)
    digest.now = at
    for notice in notices:
        fake.send(notice)


def test_the_hourly_tick_mails_what_was_held_before_the_hour_in_one_e_mail() -> None:
    digest, mailer = FakeNoticeDigest(), FakeTeamMailer()
    _held(digest, NINE, LATE, PARCEL)
    _held(
        digest, NINE + timedelta(minutes=40), NotDispatched(tenant="acme", order_id="o-3", days=3)
    )
    ports = Digests(digest=digest, mailer=mailer)

    # At 10:05 the hour from 9 to 10 has ended: everything held in it, nothing after.
    sent = send_digests(ports, [ACME], datetime(2026, 11, 23, 10, 5, tzinfo=UTC))
    assert [(s["team"], s["notices"]) for s in sent] == [("operations", 3)]
    (mail,) = mailer.sent
    assert mail["kind"] == "team_digest" and mail["to"] == ACME.alert_emails
    assert mail["subject"] == "[Acme] 3 notices to follow up from the last hour"
    for headline in (LATE.headline, PARCEL.headline, "Order o-3 not dispatched after 3 days"):
        assert headline in mail["text"] and headline in mail["html"]
    assert "Not dispatched (2)" in mail["text"] and "Delivery problem (1)" in mail["text"]
    assert digest.kept["acme"] == []

    # The next hour has nothing held: no e-mail.
    assert send_digests(ports, [ACME], datetime(2026, 11, 23, 11, 5, tzinfo=UTC)) == []
    assert len(mailer.sent) == 1


def test_a_notice_held_after_the_hour_began_waits_for_the_next_tick() -> None:
    digest, mailer = FakeNoticeDigest(), FakeTeamMailer()
    _held(digest, datetime(2026, 11, 23, 10, 1, tzinfo=UTC), LATE)
    ports = Digests(digest=digest, mailer=mailer)
    assert send_digests(ports, [ACME], datetime(2026, 11, 23, 10, 5, tzinfo=UTC)) == []
    sent = send_digests(ports, [ACME], datetime(2026, 11, 23, 11, 5, tzinfo=UTC))
    assert [s["notices"] for s in sent] == [1]


class _FailingMailer(FakeTeamMailer):
    def email(self, *args: Any, **kwargs: Any) -> str | None:
        return None


def test_a_digest_that_failed_keeps_its_notices_for_the_next_one() -> None:
    digest = FakeNoticeDigest()
    _held(digest, NINE, LATE)
    ten = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    assert send_digests(Digests(digest=digest, mailer=_FailingMailer()), [ACME], ten) == []
    assert len(digest.kept["acme"]) == 1
    mailer = FakeTeamMailer()
    sent = send_digests(Digests(digest=digest, mailer=mailer), [ACME], ten + timedelta(hours=1))
    assert [s["notices"] for s in sent] == [1] and LATE.headline in mailer.sent[0]["text"]


def test_each_tenants_digest_is_claimed_under_its_own_key() -> None:
    """The key is what makes a retried tick send a digest once (``TeamMailer``) and what the
    mailer derives the Message-ID from: two shops' digests of one hour are two e-mails."""
    digest, mailer = FakeNoticeDigest(), FakeTeamMailer()
    _held(digest, NINE, LATE)
    _held_for_globex(digest)
    ports = Digests(digest=digest, mailer=mailer)
    send_digests(ports, [ACME, GLOBEX], datetime(2026, 11, 23, 10, 5, tzinfo=UTC))
    assert [m["key"] for m in mailer.sent] == [
        "digest:acme:operations:2026-11-23T10:00:00+00:00",
        "digest:globex:operations:2026-11-23T10:00:00+00:00",
    ]


def test_a_daily_digest_goes_at_the_tenants_report_hour_in_its_zone() -> None:
    paris = ACME.model_copy(
        update={"timezone": "Europe/Paris", "notices": NoticeSettings(digest="daily")}
    )
    # 07:00 in Paris on 23 November is 06:00 UTC.
    assert period_ending(paris, datetime(2026, 11, 23, 5, 30, tzinfo=UTC)) is None
    assert period_ending(paris, datetime(2026, 11, 23, 6, 10, tzinfo=UTC)) == (
        datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        "day",
    )
    digest, mailer = FakeNoticeDigest(), FakeTeamMailer()
    _held(digest, datetime(2026, 11, 22, 15, 0, tzinfo=UTC), LATE)
    ports = Digests(digest=digest, mailer=mailer)
    assert send_digests(ports, [paris], datetime(2026, 11, 22, 16, 10, tzinfo=UTC)) == []
    sent = send_digests(ports, [paris], datetime(2026, 11, 23, 6, 10, tzinfo=UTC))
    assert [s["notices"] for s in sent] == [1]
    assert "from the last day" in mailer.sent[0]["subject"]


def test_notices_held_before_a_tenant_turned_its_digest_off_still_go_on_the_hour() -> None:
    digest, mailer = FakeNoticeDigest(), FakeTeamMailer()
    _held(digest, NINE, LATE)
    off = ACME.model_copy(update={"notices": NoticeSettings(digest="off")})
    sent = send_digests(
        Digests(digest=digest, mailer=mailer), [off], datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    )
    assert [s["notices"] for s in sent] == [1]


def test_with_nobody_left_on_the_list_the_held_notices_are_let_go_unmailed() -> None:
    digest, mailer = FakeNoticeDigest(), FakeTeamMailer()
    _held(digest, NINE, LATE)
    nobody = ACME.model_copy(update={"alert_emails": ()})
    ten = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    assert send_digests(Digests(digest=digest, mailer=mailer), [nobody], ten) == []
    assert mailer.sent == [] and digest.kept["acme"] == []


def test_each_parcels_problem_is_its_own_line() -> None:
    digest = FakeNoticeDigest()
    _held(
        digest,
        NINE,
        PARCEL,
        PARCEL.model_copy(update={"tracking_code": "T3"}),
        ClaimWithdrawn(tenant="acme", order_id="o-2", tracking_code="T2"),
    )
    assert len(digest.kept["acme"]) == 3


class _Unreadable(FakeNoticeDigest):
    def held(self, tenant: str, before: datetime) -> list[HeldNotice]:
        if tenant == "acme":
            raise ConnectionError("the table did not answer")
        return super().held(tenant, before)


def test_one_shops_trouble_leaves_the_other_shops_digests_going() -> None:
    digest, mailer = _Unreadable(NINE), FakeTeamMailer()
    _held_for_globex(digest)
    ports = Digests(digest=digest, mailer=mailer)
    sent = send_digests(ports, [ACME, GLOBEX], datetime(2026, 11, 23, 10, 5, tzinfo=UTC))
    assert [s["tenant"] for s in sent] == ["globex"] and len(mailer.sent) == 1
