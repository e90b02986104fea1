"""What the public signed-link routes share (``handlers/links.py``: a review's approve /
reject; ``handlers/payout_links.py``: a payout cycle marked paid or failed): the small HTML
pages a person who clicked a link reads, the form the confirmation page posts, and the
tenant's key ring. Light imports only: these functions start cold on a click."""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from functions.api.composition import services
from shared.observability import logger
from shared.signed_links import (
    LinkBadSignature,
    LinkMalformed,
    LinkRefused,
    LinkUnknownKey,
    LinkWrongTenant,
    keyring,
)
from shared.tenant_secrets import UnknownTenant

MAX_FORM_BYTES = 4096  # a token is at most 1 KB; anything larger is not our form

# Refusals worded the same whatever the link is about (each route adds its own).
COMMON_REFUSALS: dict[type[LinkRefused], tuple[int, str]] = {
    LinkMalformed: (
        400,
        "This link is incomplete or damaged. Open it again from the e-mail, making sure the "
        "whole address was copied.",
    ),
    LinkUnknownKey: (
        403,
        "This link was signed with a key this shop no longer accepts; it may come from an old "
        "e-mail.",
    ),
    LinkBadSignature: (403, "This link has been altered: its signature does not match."),
    LinkWrongTenant: (403, "This link belongs to another shop."),
}

HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    # A confirmation button must not be framed by another site (clickjacking), and the page
    # loads nothing, so the token in its URL cannot leak through a Referer.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#1f2933}h1{font-size:1.4rem}dt{font-weight:600}dd{margin:0 0 .5rem}"
    "button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;color:#fff;"
    "background:#15803d;cursor:pointer}button.reject,button.failed{background:#b91c1c}"
)


def page(status: int, title: str, message: str, extra_html: str = "") -> dict[str, Any]:
    """``extra_html`` is markup the caller built from escaped values; the rest is escaped here."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)} · Ecom OPS</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{extra_html}"
        "</body></html>"
    )
    return {"statusCode": status, "headers": dict(HEADERS), "body": document}


def refusal_page(
    refused: LinkRefused, refusals: dict[type[LinkRefused], tuple[int, str]]
) -> dict[str, Any]:
    """Why the link cannot be used, in the words of ``refusals`` (status and sentence)."""
    status, message = refusals.get(type(refused), (400, f"This link was refused: {refused}."))
    logger.info("link refused", extra={"refusal": refused.reason, "status": status})
    return page(status, "This link cannot be used", message)


def tenant_keys(tenant: str) -> dict[str, str]:
    document = services().link_secrets.get(tenant)
    return keyring(*((document.get("links") or {}).get("signing_keys") or []))


def form_fields(event: dict[str, Any]) -> dict[str, list[str]] | None:
    """The posted form's fields (None: not a form of ours)."""
    raw = event.get("body") or ""
    try:
        data = (
            base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
        )
        if len(data) > MAX_FORM_BYTES:
            return None
        return parse_qs(data.decode("utf-8"), max_num_fields=10)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def form_token(event: dict[str, Any]) -> str | None:
    values = (form_fields(event) or {}).get("token") or []
    return values[0] if len(values) == 1 else None


def answer(
    method: str,
    get: Callable[[], dict[str, Any]],
    post: Callable[[], dict[str, Any]],
    where_to_look: str,
) -> dict[str, Any]:
    """A signed link's request: GET shows the confirmation page, POST gives the answer; a link
    of a shop we do not serve is a 404 page, anything else a plain 500 page (the trace in the
    logs) that tells the person ``where_to_look``."""
    try:
        if method == "GET":
            return get()
        if method == "POST":
            return post()
        return page(405, "Not allowed", "Open the link from the e-mail.")
    except UnknownTenant:
        return page(404, "This link cannot be used", "This link names a shop we do not serve.")
    except Exception:  # a person is reading this page: say so plainly, keep the trace in logs
        logger.exception("link handling failed")
        return page(
            500,
            "Something went wrong",
            f"This request could not be completed. {where_to_look}",
        )
