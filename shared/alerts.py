"""Telling people: every context's notices (``shared.notices``) go out here, on two channels.

- SNS (the client-alerts topic, or the operations topic for the bank intake): the body is the
  notice's short human line and details, the message attributes its structured fields
  (``tenant``, ``kind``, ``severity``, ``team``, ``order_id``, ``refund_id``, ``break_ids``),
  so a subscription filters on them (the client topic's e-mail subscriptions by ``tenant``).
- E-mail: rendered with the tenant's branding (the kind's own template, or the generic team
  notice) to the team the notice is for (``alert_emails``, or ``finance_emails`` for finance:
  the reconciliation, bank files), FROM the deployment's operations sender (``OPS_SENDER``),
  never from the shop's customer sender.

A routine notice (``Notice.routine``: a parcel late or in trouble, a return to inspect) is not
mailed on its own where the tenant's teams take a digest (``TenantSettings.notices``): its line
is held (``shared.notice_digest``) and the reports function mails the team every notice held
in the hour (or the day) in one e-mail (``functions/reports/use_cases/digest.py``). SNS has it
at once.

Each notice goes out at most once per identity and channel: a record per identity
(``shared.keys.alert_sent``) says which channels it went out on, so a retried step sends
only what failed before. A notice never stops the work that raised it: a failure is logged,
recorded as not sent, and tried again the next time the same notice is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING, Any, Protocol

from shared.clock import SYSTEM_CLOCK, Clock
from shared.notices import DEFAULT_OPS_SENDER, Notice, Team, absolute
from shared.observability import logger

if TYPE_CHECKING:
    from shared.notice_digest import NoticeDigest
    from shared.notify.mailers import Mailer
    from shared.notify.render import RenderedEmail
    from shared.tenants import TenantSettings

SNS = "sns"
EMAIL = "email"
# The e-mail channel's record of a notice held for its team's digest: ``digest:<where>``.
DIGEST_MESSAGE = "digest:"


class Alerts(Protocol):
    def send(self, notice: Notice) -> None:
        """Tell the people this notice is for; never raises."""
        ...


class TenantLookup(Protocol):
    def get(self, tenant: str) -> TenantSettings | None: ...


class AlertLog(Protocol):
    """Which channels a notice (by identity) has gone out on."""

    def channels(self, notice: Notice) -> set[str]: ...

    def record(self, notice: Notice, channel: str, message_id: str) -> None: ...


def recipients(team: Team, tenant: TenantSettings) -> tuple[str, ...]:
    """Finance's mail to ``finance_emails`` (the operations list when a shop has none)."""
    if team == Team.FINANCE and tenant.finance_emails:
        return tuple(tenant.finance_emails)
    return tuple(tenant.alert_emails)


def ops_sender_of(sender: str | None) -> str:
    name, address = parseaddr(sender or DEFAULT_OPS_SENDER)
    if "@" not in address:
        raise ValueError(f"the operations sender {sender!r} has no e-mail address")
    return formataddr((name or "Ecom OPS", address))


def render_notice(
    notice: Notice,
    tenant: TenantSettings,
    to: tuple[str, ...],
    *,
    sender: str,
    api_url: str | None = None,
) -> RenderedEmail:
    """The notice as an e-mail: its own template when it has one and the context it needs
    (the order may be unknown to the step that noticed), else the generic team notice."""
    from shared.notify.render import ContextError, EmailKind, render

    actions = _email_actions(notice, api_url)
    if notice.email is not None:
        specific: dict[str, Any] = {
            **(notice.order or {}),
            "order_id": notice.order_id,
            **notice.email_context(),
        }
        given = {v for v in specific.values() if isinstance(v, str)}
        specific["to_act"] = [a for a in actions if a.get("url") not in given]
        console = _console(notice, api_url)
        if console:
            specific["console_url"] = console
        try:
            return render(EmailKind(notice.email), specific, tenant, to, sender=sender)
        except ContextError as missing:
            logger.info("notice e-mail without its template", extra={"why": str(missing)})
    generic = {
        **(notice.order or {}),
        "heading": notice.headline,
        "label": _label(notice),
        "severity": str(notice.severity),
        "details": notice.all_details(),
        "order_id": notice.order_id,
        "to_act": actions,
    }
    return render(EmailKind.TEAM_NOTICE, generic, tenant, to, sender=sender)


def _label(notice: Notice) -> str:
    """The kind as a team reads it: ``not_dispatched`` → "Not dispatched"."""
    return notice.kind.replace("_", " ").capitalize()


def _web(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


def _console(notice: Notice, api_url: str | None) -> str | None:
    for action in notice.actions():
        if action.method == "GET" and action.path and api_url:
            url = absolute(api_url, action.path)
            return url if _web(url) else None
    return None


def _email_actions(notice: Notice, api_url: str | None) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = []
    for action in notice.actions():
        where = absolute(api_url, action.path) if action.path else None
        url = action.url or (where if where and action.method == "GET" and _web(where) else None)
        request = f"{action.method} {where}" if where and where != url else None
        shown.append(
            {"label": action.label, "url": url, "request": request, "command": action.command}
        )
    return shown


def digest_line(notice: Notice, api_url: str | None = None) -> dict[str, Any]:
    """What a digest shows of a notice: its headline and details, and how to act on it."""
    return {
        "kind": notice.kind,
        "label": _label(notice),
        "severity": str(notice.severity),
        "headline": notice.headline,
        "order_id": notice.order_id,
        "details": [list(row) for row in notice.details()],
        "to_act": _email_actions(notice, api_url),
    }


def sns_request(notice: Notice, topic_arn: str, api_url: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for name, value in notice.attributes().items():
        if isinstance(value, list):
            attributes[name] = {"DataType": "String.Array", "StringValue": json.dumps(value)}
        else:
            attributes[name] = {"DataType": "String", "StringValue": value}
    return {
        "TopicArn": topic_arn,
        # SNS subjects: ASCII, at most 100 characters, no line breaks.
        "Subject": " ".join(notice.headline.split()).encode("ascii", "replace").decode()[:100],
        "Message": notice.message(api_url),
        "MessageAttributes": attributes,
    }


class DynamoAlertLog:
    def __init__(self, table: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table = table
        self.clock = clock

    def _key(self, notice: Notice) -> dict[str, dict[str, str]]:
        from shared import keys

        pk, sk = keys.alert_sent(notice.tenant, notice.identity)
        return {"PK": {"S": pk}, "SK": {"S": sk}}

    def channels(self, notice: Notice) -> set[str]:
        from shared import aws

        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key=self._key(notice), ConsistentRead=True)
            .get("Item")
        )
        return {c for c in (SNS, EMAIL) if item and f"{c}_message_id" in item}

    def record(self, notice: Notice, channel: str, message_id: str) -> None:
        from shared import aws

        aws.client("dynamodb").update_item(
            TableName=self.table,
            Key=self._key(notice),
            # Every name through a placeholder: ``identity`` is one of DynamoDB's reserved words.
            UpdateExpression="SET #kind = :kind, #notice = :notice, #identity = :id, "
            "#c = :m, #at = :at",
            ExpressionAttributeNames={
                "#kind": "kind",
                "#notice": "notice",
                "#identity": "identity",
                "#c": f"{channel}_message_id",
                "#at": f"{channel}_at",
            },
            ExpressionAttributeValues={
                ":kind": {"S": "alert"},
                ":notice": {"S": notice.kind},
                ":id": {"S": notice.identity},
                ":m": {"S": message_id or "-"},
                ":at": {"S": self.clock.now().isoformat()},
            },
        )


class NoAlertLog:
    """Without a table (a deployment that has none for this function): no memory of sends."""

    def channels(self, notice: Notice) -> set[str]:
        return set()

    def record(self, notice: Notice, channel: str, message_id: str) -> None:
        return None


class Alerting:
    """``Alerts`` over SNS and a mailer. ``topic_arn`` None: no SNS (logged); ``mailer`` None
    or no recipients: no e-mail."""

    def __init__(
        self,
        topic_arn: str | None,
        *,
        tenants: TenantLookup | None = None,
        mailer: Mailer | None = None,
        log: AlertLog | None = None,
        ops_sender: str | None = None,
        api_url: str | None = None,
        publish: Callable[..., Mapping[str, Any]] | None = None,
        digest: NoticeDigest | None = None,
    ) -> None:
        self.topic_arn = topic_arn
        self.tenants = tenants
        self.mailer = mailer
        # None: every notice is mailed at once.
        self.digest = digest
        self.log: AlertLog = log or NoAlertLog()
        self.ops_sender = ops_sender_of(ops_sender)
        self.api_url = api_url
        self._publish = publish

    def send(self, notice: Notice) -> None:
        try:
            done = self.log.channels(notice)
        except Exception:  # the log is a guard against repeats, not a reason to stay silent
            logger.exception("alert log unreadable", extra={"notice": notice.kind})
            done = set()
        if SNS not in done:
            self._sns(notice)
        if EMAIL not in done:
            self._email(notice)

    def _sns(self, notice: Notice) -> None:
        if not self.topic_arn:
            logger.warning("alert with no topic to send it to", extra={"notice": notice.kind})
            return
        try:
            answer = self.publisher()(**sns_request(notice, self.topic_arn, self.api_url))
        except Exception as error:  # an alert must never stop what raised it
            logger.exception("alert failed", extra={"notice": notice.kind, "error": str(error)})
            return
        try:
            self.log.record(notice, SNS, str(answer.get("MessageId", "")))
        except Exception as error:  # published; a retried step may publish it again
            logger.exception(
                "alert not recorded", extra={"notice": notice.kind, "error": str(error)}
            )

    def _email(self, notice: Notice) -> None:
        if self.mailer is None or self.tenants is None or notice.tenant is None:
            return
        try:
            tenant = self.tenants.get(notice.tenant)
            to = recipients(notice.team, tenant) if tenant else ()
            if tenant is None or not to:
                return
            if (
                self.digest is not None
                and notice.routine
                and tenant.notices.held_for_digest(notice.kind)
            ):
                where = self.digest.hold(notice, digest_line(notice, self.api_url))
                self.log.record(notice, EMAIL, f"{DIGEST_MESSAGE}{where}")
                return
            email = render_notice(notice, tenant, to, sender=self.ops_sender, api_url=self.api_url)
            message_id = self.mailer.send(email, f"alert:{notice.identity}")
            self.log.record(notice, EMAIL, str(message_id))
        except Exception as error:  # recorded as not sent: the next send of it tries again
            logger.exception(
                "alert e-mail failed", extra={"notice": notice.kind, "error": str(error)}
            )

    def publisher(self) -> Callable[..., Mapping[str, Any]]:
        if self._publish is not None:
            return self._publish
        from shared import aws

        return aws.client("sns").publish  # type: ignore[no-any-return]
