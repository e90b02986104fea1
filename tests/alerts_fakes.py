"""The alerting port over fakes: the real ``shared.alerts.Alerting`` (message, attributes,
rendering, once per identity) with a recorded topic, an in-memory log and the test's mailer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.alerts import Alerting, TenantLookup
from shared.notice_digest import HeldNotice, NoticeDigest
from shared.notices import Notice
from shared.notify.mailers import Mailer

TOPIC = "arn:aws:sns:us-east-1:123456789012:client-alerts"
API = "https://api.ecomops.example"


class FakeAlertLog:
    def __init__(self) -> None:
        self.channels_by_identity: dict[tuple[str | None, str], dict[str, str]] = {}

    def channels(self, notice: Notice) -> set[str]:
        return set(self.channels_by_identity.get((notice.tenant, notice.identity), {}))

    def record(self, notice: Notice, channel: str, message_id: str) -> None:
        self.channels_by_identity.setdefault((notice.tenant, notice.identity), {})[channel] = (
            message_id
        )


class FakeNoticeDigest:
    """``NoticeDigest`` in memory, by tenant; ``now`` is when the next is held."""

    def __init__(self, now: datetime = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)) -> None:
        self.now = now
        self.kept: dict[str, list[HeldNotice]] = {}

    def hold(self, notice: Notice, line: Mapping[str, Any]) -> str:
        assert notice.tenant is not None
        kept = self.kept.setdefault(notice.tenant, [])
        key = f"{self.now.isoformat()}#{len(kept)}"
        kept.append(HeldNotice(key=key, team=str(notice.team), held_at=self.now, line=dict(line)))
        return key

    def held(self, tenant: str, before: datetime) -> list[HeldNotice]:
        return [h for h in self.kept.get(tenant, []) if h.held_at < before]

    def release(self, tenant: str, held: Sequence[HeldNotice]) -> None:
        gone = {h.key for h in held}
        self.kept[tenant] = [h for h in self.kept.get(tenant, []) if h.key not in gone]


class FakeAlerts:
    """``Alerts``: ``sent`` the notices as given, ``published`` the SNS requests made of them
    (e-mails land in the mailer given, if any)."""

    def __init__(
        self,
        tenants: TenantLookup | None = None,
        mailer: Mailer | None = None,
        ops_sender: str | None = None,
        digest: NoticeDigest | None = None,
    ) -> None:
        self.sent: list[Notice] = []
        self.published: list[dict[str, Any]] = []
        self.fail_publish = False
        self.log = FakeAlertLog()
        self.alerting = Alerting(
            TOPIC,
            tenants=tenants,
            mailer=mailer,
            log=self.log,
            ops_sender=ops_sender,
            api_url=API,
            publish=self._publish,
            digest=digest,
        )

    def _publish(self, **request: Any) -> Mapping[str, Any]:
        if self.fail_publish:
            raise ConnectionError("SNS is down")
        self.published.append(request)
        return {"MessageId": f"sns-{len(self.published)}"}

    def send(self, notice: Notice) -> None:
        self.sent.append(notice)
        self.alerting.send(notice)
