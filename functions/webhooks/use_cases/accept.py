"""Webhook intake: verify, store first, answer. Nothing else happens on the request path.

The ingress handler turns an API Gateway event into a ``WebhookRequest`` and calls ``accept``
with the dependencies ``composition`` built; tests and the benchmark pass fakes. Every
rejection happens before the store is touched, so a rejected request leaves nothing behind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from functions.webhooks.domain import intake, sources
from functions.webhooks.domain.intake import Answer, WebhookRequest, decode_body
from functions.webhooks.domain.sources import BadRequest
from shared.clock import SYSTEM_CLOCK, Clock
from shared.signing import SignatureError, StaleTimestamp

if TYPE_CHECKING:  # annotations only: the front door does not pay for the protocols
    from functions.webhooks.ports import (
        RawEventDays,
        RawEventIntake,
        SecretsReader,
        StripeSignatures,
        TenantSettingsReader,
    )

# What the ingress handler builds a request from and answers with.
__all__ = ["Answer", "BadRequest", "IntakeDependencies", "WebhookRequest", "accept", "decode_body"]


class IntakeDependencies(NamedTuple):
    secrets: SecretsReader
    store: RawEventIntake
    stripe_signatures: StripeSignatures
    # Order webhooks only: the currencies the shop takes (None: not checked).
    tenants: TenantSettingsReader | None = None
    clock: Clock = SYSTEM_CLOCK
    max_body_bytes: int = intake.MAX_BODY_BYTES
    # How long the table keeps the tenant's raw webhooks (None: no expiry).
    raw_event_days: RawEventDays | None = None


def accept(request: WebhookRequest, deps: IntakeDependencies) -> Answer:
    refused = intake.check_envelope(request, deps.max_body_bytes)
    if refused is not None:
        return refused
    try:
        tenant_secrets = deps.secrets.get(request.tenant)
    except intake.UnknownTenant as unknown:
        return intake.reject(400, str(unknown), "unknown_tenant")
    now = deps.clock.now()
    try:
        sources.verify(
            request.source,
            request.body,
            request.headers,
            request.query,
            tenant_secrets,
            now=now.timestamp(),
            stripe_check=deps.stripe_signatures,
        )
    except StaleTimestamp as stale:
        return intake.reject(401, str(stale), "stale_timestamp")
    except SignatureError as bad:
        return intake.reject(401, str(bad), "bad_signature")
    try:
        document = sources.parse_json(request.body)
        identified = sources.identify(request.source, document, request.body, request.headers)
        if request.source in sources.ORDER_SOURCES:
            # An order we cannot take is refused now, with the reason, while the shop can
            # still correct it: acknowledged orders must all be applicable.
            currencies = intake.check_order(
                request.source, request.tenant, document, identified, now
            )
            tenants = deps.tenants
            settings = tenants.get(request.tenant) if tenants is not None and currencies else None
            if settings is not None:
                intake.check_currencies(currencies, settings.accepted_currencies)
    except sources.BadRequest as bad_request:
        return intake.reject(400, str(bad_request), "malformed")
    stored = deps.store.put_new(
        tenant=request.tenant,
        source=request.source,
        event_id=identified.event_id,
        event_type=identified.event_type,
        body=request.body,
        received_at=now.isoformat(timespec="microseconds"),
        hints=sources.unsigned_hints(request.source, request.headers),
        keep_days=deps.raw_event_days.days(request.tenant) if deps.raw_event_days else None,
    )
    return intake.stored_answer(identified.event_id, stored)
