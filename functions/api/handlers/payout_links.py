"""GET/POST /links/{tenant}/payouts/{cycle_id}/{mark} (the whole cycle) and
/links/{tenant}/payouts/{cycle_id}/{currency}/{vendor_id}/{mark} (one vendor's line): the
signed links of the instruction to finance, ``mark`` paid or failed (docs/payouts.md, "Marking
a cycle paid").

Public, as the review links: the signed token is the credential (``shared/signed_links.py``,
bound to the tenant, the cycle or line, and the answer). The GET shows what the link would do
and a button, and changes nothing (mail scanners open every link); the POST answers through the
payouts use cases the operator API and the CLI use (``confirm``, ``mark_line``): a failed line's
money goes back to its vendor's balance as a new ledger entry. The answer is given before the
link is spent, and giving it twice changes nothing, so a POST cut short can be sent again; a
spent link (or its companion) is "already used".
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
        form_fields,
        page,
        refusal_page,
        tenant_keys,
    )
    from shared.clock import epoch_seconds
    from shared.observability import logger
    from shared.signed_links import (
        ActionClaims,
        LinkAlreadyUsed,
        LinkExpired,
        LinkRefused,
        LinkWrongAction,
        LinkWrongSubject,
        verify_action_link,
    )

BY = "finance (signed link)"
MAX_REASON = 200
MARKS = ("paid", "failed")  # functions.payouts.domain.cycles.MARKS, without loading pydantic

_REFUSALS: dict[type[LinkRefused], tuple[int, str]] = {
    **COMMON_REFUSALS,
    LinkExpired: (
        403,
        "This link has expired. Mark the payouts in the back office instead "
        "(ecomops payouts confirm).",
    ),
    LinkWrongSubject: (403, "This link belongs to another payout cycle or vendor."),
    LinkWrongAction: (403, "This link is for the other answer (paid or failed)."),
    LinkAlreadyUsed: (
        409,
        "This link has already been used: the payout was marked with it or with its companion "
        "link.",
    ),
}


class _Target:
    """What the URL names: the cycle, or one vendor's line of it in one currency."""

    def __init__(self, params: dict[str, str]) -> None:
        self.tenant = params.get("tenant", "")
        self.cycle_id = params.get("cycle_id", "")
        self.mark = params.get("mark", "")
        self.currency = params.get("currency")
        self.vendor_id = params.get("vendor_id")

    @property
    def line(self) -> bool:
        return self.currency is not None and self.vendor_id is not None

    @property
    def subject(self) -> str:
        from functions.payouts.domain.cycles import link_subject

        if self.line:
            return link_subject(self.cycle_id, self.currency, self.vendor_id)
        return link_subject(self.cycle_id)

    @property
    def what(self) -> str:
        if self.line:
            return f"the payout to {self.vendor_id} ({self.currency}) of cycle {self.cycle_id}"
        return f"every payout of cycle {self.cycle_id} not marked yet"


def _verify(target: _Target, token: str) -> ActionClaims:
    return verify_action_link(
        token,
        keys=tenant_keys(target.tenant),
        tenant=target.tenant,
        subject=target.subject,
        action=target.mark,
        actions=MARKS,
        now=epoch_seconds(services().clock),
    )


def _ports() -> Any:
    from functions.payouts.composition import ports_from_env

    return ports_from_env(services().clock)


def _where_it_stands(target: _Target) -> tuple[list[tuple[str, str]], str | None]:
    """The cycle's (or the line's) state now, for the page: what finance is answering, and why
    there is nothing left to answer (None: there is)."""
    from functions.payouts.use_cases.cycles import show
    from shared.money import Money

    cycle, lines = show(_ports(), target.tenant, target.cycle_id)
    state = cycle.status.value.replace("_", " ")
    rows = [("Cycle", f"{cycle.cycle_id} ({state})")]
    closed = None if cycle.status.value == "sent" else f"Cycle {cycle.cycle_id} is {state}."
    if target.line:
        line = next(
            (x for x in lines if (x.currency, x.vendor_id) == (target.currency, target.vendor_id)),
            None,
        )
        if line is None:
            return rows, f"{target.vendor_id} ({target.currency}) has no line in this cycle."
        rows += [
            ("Vendor", f"{line.name or line.vendor_id} ({line.vendor_id})"),
            ("Amount", Money.of(line.amount, line.currency).format(grouping=True)),
            ("Line", line.status.value),
        ]
        if line.status.value != "payable":
            closed = f"The payout to {line.vendor_id} is marked {line.status.value} already."
    else:
        waiting = [x for x in lines if x.status.value == "payable"]
        rows.append(("Payouts not marked yet", str(len(waiting))))
        for currency, total in sorted(cycle.payable.items()):
            rows.append((f"Payable in {currency}", Money.of(total, currency).format(grouping=True)))
    return rows, closed


def _confirm_page(target: _Target, token: str, claims: ActionClaims) -> dict[str, Any]:
    from functions.payouts.use_cases.cycles import CycleNotFound

    expires = datetime.fromtimestamp(claims.expires_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        stands, closed = _where_it_stands(target)
    except CycleNotFound:
        return page(404, "No such payout cycle", f"Cycle {target.cycle_id} is not known.")
    if closed is not None:
        return page(409, "Nothing left to mark", f"{closed} Nothing was changed.")
    rows = [("Shop", target.tenant), *stands, ("Link valid until", expires)]
    listed = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    mark = html.escape(target.mark)
    reason = (
        f'<p><label>Why it failed (optional)<br><input name="reason" maxlength="{MAX_REASON}" '
        'size="40"></label></p>'
        if target.mark == "failed"
        else ""
    )
    # A relative action: the page is /…/<mark>?token=…, so "<mark>" posts to the same route.
    form = (
        f"<dl>{listed}</dl>"
        f'<form method="post" action="{mark}">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">{reason}'
        f'<button type="submit" class="{mark}">Confirm: {mark}</button></form>'
    )
    after = (
        " Its money goes back to the vendor's balance and is paid in the next cycle."
        if target.mark == "failed"
        else ""
    )
    return page(
        200,
        f"Mark {target.what} {target.mark}?",
        f"Nothing has changed yet. Confirm below; the link can be used only once.{after}",
        form,
    )


def _get(target: _Target, event: dict[str, Any]) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return page(400, "This link cannot be used", "The link has no token: open it again.")
    try:
        claims = _verify(target, token)
    except LinkRefused as refused:
        return refusal_page(refused, _REFUSALS)
    if services().link_ledger().was_spent(claims.tenant, claims.nonce):
        return refusal_page(LinkAlreadyUsed(), _REFUSALS)
    logger.info("payout link shown")
    return _confirm_page(target, token, claims)


def _one(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name) or []
    return values[0] if len(values) == 1 else None


def _post(target: _Target, event: dict[str, Any]) -> dict[str, Any]:
    fields = form_fields(event) or {}
    token = _one(fields, "token")
    if not token:
        return page(
            400, "This link cannot be used", "The form carried no token: open the link again."
        )
    try:
        claims = _verify(target, token)
    except LinkRefused as refused:
        return refusal_page(refused, _REFUSALS)
    ledger = services().link_ledger()
    if ledger.was_spent(claims.tenant, claims.nonce):
        return refusal_page(LinkAlreadyUsed(), _REFUSALS)
    from functions.payouts.domain.postings import Refused
    from functions.payouts.use_cases.cycles import CycleNotFound, mark_cycle, mark_line

    reason = (_one(fields, "reason") or "").strip()[:MAX_REASON]
    try:
        if target.line:
            assert target.currency is not None and target.vendor_id is not None
            cycle = mark_line(
                _ports(),
                target.tenant,
                target.cycle_id,
                target.currency,
                target.vendor_id,
                target.mark,
                BY,
                reason,
            )
        else:
            cycle = mark_cycle(_ports(), target.tenant, target.cycle_id, target.mark, BY)
    except CycleNotFound:
        return page(404, "No such payout cycle", f"Cycle {target.cycle_id} is not known.")
    except Refused as refused:
        logger.info("payout link refused by the cycle", extra={"reasons": refused.reasons})
        return page(409, "Nothing was changed", "; ".join(refused.reasons) + ".")
    # Spent once answered: a POST cut short before this line can be sent again harmlessly.
    ledger.consume(claims.tenant, claims.nonce, claims.expires_at)
    logger.info("payout link redeemed", extra={"by": BY, "cycle_status": cycle.status.value})
    status = cycle.status.value.replace("_", " ")
    return page(
        200,
        f"Marked {target.mark}",
        f"Thank you: {target.what} is marked {target.mark}. The cycle is {status}.",
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    target = _Target(event.get("pathParameters") or {})
    method = (event.get("requestContext") or {}).get("http", {}).get("method", "GET")
    logger.append_keys(tenant=target.tenant, cycle=target.cycle_id, mark=target.mark)
    if target.mark not in MARKS:
        return page(404, "No such link", "A payout link marks paid or failed.")
    return answer(
        method,
        lambda: _get(target, event),
        lambda: _post(target, event),
        "Look at the cycle in the back office (ecomops payouts show) to see where it stands.",
    )
