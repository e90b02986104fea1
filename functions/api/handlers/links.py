"""GET/POST /links/{tenant}/{order_id}/{decision}: the one-click review links of the e-mail.

A public route: the signed token in the link is the credential (shared/signed_links.py). The
GET only shows what the link would do and a button; mail scanners and link previews fetch
every URL in a message, so a GET that decided would let a scanner approve a suspicious order.
The button POSTs the token back; the POST spends the link (single use, shared with its
companion link) and resumes the order's review exactly as the operator API does.

Every answer is a small HTML page for a person who clicked a link: refusals say why in plain
words and never carry a stack trace. Imports stay light: the lifecycle module (and botocore)
are loaded only once a link has verified.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.api.composition import services
    from functions.api.link_pages import (
        COMMON_REFUSALS,
        answer,
        form_token,
        page,
        refusal_page,
        tenant_keys,
    )
    from shared.clock import epoch_seconds
    from shared.observability import logger
    from shared.signed_links import (
        DECISIONS,
        LinkAlreadyUsed,
        LinkClaims,
        LinkExpired,
        LinkRefused,
        LinkWrongDecision,
        LinkWrongOrder,
        redeem,
        verify_link,
    )

BY = "signed-link"


_REFUSALS: dict[type[LinkRefused], tuple[int, str]] = {
    **COMMON_REFUSALS,
    LinkExpired: (403, "This link has expired: the time to review this order is over."),
    LinkWrongOrder: (403, "This link belongs to another order."),
    LinkWrongDecision: (403, "This link is for the other decision on this order."),
    LinkAlreadyUsed: (
        409,
        "This link has already been used: the order was decided with it or with its companion "
        "link.",
    ),
}


def _refusal_page(refused: LinkRefused) -> dict[str, Any]:
    return refusal_page(refused, _REFUSALS)


def _already_spent(claims: LinkClaims) -> bool:
    """Whether the link was used: a read, so the GET still changes nothing."""
    return services().link_ledger().was_spent(claims.tenant, claims.nonce)


def _confirm_page(
    tenant: str, order_id: str, decision: str, token: str, claims: LinkClaims
) -> dict[str, Any]:
    expires = datetime.fromtimestamp(claims.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    verb = html.escape(decision)
    # A relative action: the page is /…/<decision>?token=…, so "<decision>" posts to the same
    # route without the query string, whatever prefix (stage, custom domain path) serves it.
    form = (
        f"<dl><dt>Shop</dt><dd>{html.escape(tenant)}</dd>"
        f"<dt>Order</dt><dd>{html.escape(order_id)}</dd>"
        f"<dt>Decision</dt><dd>{verb}</dd>"
        f"<dt>Link valid until</dt><dd>{expires}</dd></dl>"
        f'<form method="post" action="{verb}">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        f'<button type="submit" class="{verb}">Confirm {verb}</button></form>'
    )
    return page(
        200,
        f"{decision.capitalize()} order {order_id}?",
        "Nothing has been decided yet. Confirm below; the link can be used only once.",
        form,
    )


def _get(tenant: str, order_id: str, decision: str, event: dict[str, Any]) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return page(400, "This link cannot be used", "The link has no token: open it again.")
    try:
        claims = verify_link(
            token,
            keys=tenant_keys(tenant),
            tenant=tenant,
            order_id=order_id,
            decision=decision,
            now=epoch_seconds(services().clock),
        )
    except LinkRefused as refused:
        return _refusal_page(refused)
    if _already_spent(claims):
        return _refusal_page(LinkAlreadyUsed())
    logger.info("link shown")
    return _confirm_page(tenant, order_id, decision, token, claims)


def _post(tenant: str, order_id: str, decision: str, event: dict[str, Any]) -> dict[str, Any]:
    token = form_token(event)
    if not token:
        return page(
            400, "This link cannot be used", "The form carried no token: open the link again."
        )
    try:
        redeem(
            token,
            keys=tenant_keys(tenant),
            tenant=tenant,
            order_id=order_id,
            decision=decision,
            now=epoch_seconds(services().clock),
            ledger=services().link_ledger(),
        )
    except LinkRefused as refused:
        return _refusal_page(refused)
    from functions.orders.use_cases.operations import decide_review

    result = decide_review(services().orders(), tenant, order_id, decision, BY)
    logger.info("link redeemed", extra={"by": BY, **result})
    done = "approved" if decision == "approve" else "rejected"
    if not result.get("resumed"):
        return page(
            409,
            f"Order {order_id} was not {done}",
            "No review is waiting for this order: it was decided in the back office, or the "
            "time to review it ran out.",
        )
    return page(200, f"Order {order_id} {done}", f"Thank you: order {order_id} was {done}.")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    params = event.get("pathParameters") or {}
    tenant, order_id = params.get("tenant", ""), params.get("order_id", "")
    decision = params.get("decision", "")
    method = (event.get("requestContext") or {}).get("http", {}).get("method", "GET")
    logger.append_keys(tenant=tenant, order_id=order_id, decision=decision)
    if decision not in DECISIONS:
        return page(404, "No such link", "A review link is either approve or reject.")
    return answer(
        method,
        lambda: _get(tenant, order_id, decision, event),
        lambda: _post(tenant, order_id, decision, event),
        "Open the order in the back office to see where it stands.",
    )
