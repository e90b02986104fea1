"""Stripe's error envelope: ``{"error": {"type", "code", "message", "param", …}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]


class StripeAPIError(Exception):
    """An answer in Stripe's error envelope: ``{"error": {"type", "code", "message", …}}``."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: JSON | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        # Stripe leaves out the keys that do not apply rather than sending nulls.
        error: JSON = {"type": self.type, "message": self.message}
        for key, value in (
            ("code", self.code),
            ("param", self.param),
            ("decline_code", self.decline_code),
        ):
            if value is not None:
                error[key] = value
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error.update(self.extra)
        return {"error": error}


def invalid(
    message: str, *, code: str | None = None, param: str | None = None, status: int = 400
) -> StripeAPIError:
    return StripeAPIError(status, "invalid_request_error", message, code=code, param=param)
