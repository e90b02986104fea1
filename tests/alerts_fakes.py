"""The alerting port over fakes: the real ``shared.alerts.Alerting`` (message, attributes,
rendering, once per identity) with a recorded topic, an in-memory log and the test's mailer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.alerts import Alerting, TenantLookup
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


class FakeAlerts:
    """``Alerts``: ``sent`` the notices as given, ``published`` the SNS requests made of them
    (e-mails land in the mailer given, if any)."""

    def __init__(
        self,
        tenants: TenantLookup | None = None,
        mailer: Mailer | None = None,
        ops_sender: str | None = None,
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
        )

    def _publish(self, **request: Any) -> Mapping[str, Any]:
        if self.fail_publish:
            raise ConnectionError("SNS is down")
        self.published.append(request)
        return {"MessageId": f"sns-{len(self.published)}"}

    def send(self, notice: Notice) -> None:
        self.sent.append(notice)
        self.alerting.send(notice)
