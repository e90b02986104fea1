"""Where rendered e-mails go: SES (deployed) or a folder of .eml files (local demo, tests).

Both take the caller's idempotency key, derived from our own ids (e.g.
``f"{tenant}:{order_id}:{kind}"``), and put a Message-ID derived from it on the message, so
that a retried send is recognisable as the same message wherever it lands.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    # Only a type here: sending does not load the templates' engine (rendering does).
    from shared.notify.render import RenderedEmail

_TAG_VALUE = re.compile(r"[^A-Za-z0-9_-]")


class Mailer(Protocol):
    def send(self, email: RenderedEmail, idempotency_key: str) -> str:
        """Deliver ``email`` and return a message id."""
        ...


def _digest(idempotency_key: str) -> str:
    if not idempotency_key:
        raise ValueError("an idempotency key is required")
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


def message_id_for(email: RenderedEmail, idempotency_key: str) -> str:
    """``<digest@sender-domain>``: the same key always gives the same Message-ID."""
    domain = email.sender_address.rpartition("@")[2] or "ecomops.invalid"
    return f"<{_digest(idempotency_key)[:32]}@{domain}>"


class SesMailer:
    """Sends through SES v2 as a raw MIME message (our headers and both parts, exactly).

    SES has no idempotency token: a send that fails after SES accepted it and is retried
    delivers twice. Callers that must not repeat (a Step Functions task) keep their own record
    of sent keys; the key still travels as the Message-ID and an ``X-EcomOps-Idempotency``
    header so duplicates can be told apart.
    """

    def __init__(self, configuration_set: str | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.configuration_set = configuration_set
        self.clock = clock

    def send(self, email: RenderedEmail, idempotency_key: str) -> str:
        from shared import aws

        message = email.to_mime(
            message_id=message_id_for(email, idempotency_key), date=self.clock.now()
        )
        message["X-EcomOps-Idempotency"] = _digest(idempotency_key)[:32]
        request: dict[str, object] = {
            "FromEmailAddress": email.sender_address,
            "Destination": {"ToAddresses": list(email.to)},
            "Content": {"Raw": {"Data": message.as_bytes()}},
            "EmailTags": [
                {"Name": "kind", "Value": str(email.kind)},
                {"Name": "tenant", "Value": _TAG_VALUE.sub("-", email.tenant or "none")},
            ],
        }
        if email.reply_to:
            request["ReplyToAddresses"] = [email.reply_to]
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        answer = aws.client("sesv2").send_email(**request)
        return str(answer["MessageId"])


class FileMailer:
    """Writes ``<kind>-<order id or running number>-<key hash>.eml`` into ``folder``.

    Idempotent per key: a second send with the same key finds the file by its hash and
    returns the first message id without writing anything.
    """

    def __init__(self, folder: Path, clock: Clock = SYSTEM_CLOCK) -> None:
        self.folder = Path(folder)
        self.clock = clock

    def _existing(self, short: str) -> Path | None:
        return next(iter(sorted(self.folder.glob(f"*-{short}.eml"))), None)

    @staticmethod
    def _message_id(path: Path) -> str:
        with path.open("rb") as handle:
            parsed = email.message_from_binary_file(handle, policy=email.policy.default)
        return str(parsed["Message-ID"]).strip("<>")

    def send(self, email: RenderedEmail, idempotency_key: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        short = _digest(idempotency_key)[:12]
        existing = self._existing(short)
        if existing is not None:
            return self._message_id(existing)
        label = email.order_id or str(len(list(self.folder.glob("*.eml"))) + 1)
        label = _TAG_VALUE.sub("_", label)[:60]
        path = self.folder / f"{email.kind}-{label}-{short}.eml"
        message_id = message_id_for(email, idempotency_key)
        data = email.to_eml(message_id=message_id, date=self.clock.now())
        # Write aside and link into place: a crash never leaves half a message under the
        # final name, and of two racing senders with one key only one file wins.
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(data)
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
        finally:
            scratch.unlink(missing_ok=True)
        return self._message_id(path)


def mailer_for(mail_dir: str | None, clock: Clock = SYSTEM_CLOCK) -> Mailer:
    """The deployment's mailer: .eml files in ``mail_dir`` (the local stack, tests), else SES."""
    return FileMailer(Path(mail_dir), clock) if mail_dir else SesMailer(clock=clock)
