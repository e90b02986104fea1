"""Checks of request parameters, with the error Stripe answers for each kind of bad value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from local.sandboxes.stripe_sandbox.errors import JSON, invalid


class ParamChecks:
    """What every endpoint uses to read its form parameters."""

    @staticmethod
    def _allow(params: JSON, allowed: frozenset[str]) -> None:
        for key in params:
            if key not in allowed:
                raise invalid(
                    f"Received unknown parameter: {key}", code="parameter_unknown", param=key
                )

    @staticmethod
    def _int(params: JSON, key: str, *, required: bool = False, minimum: int = 1) -> int | None:
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise invalid(
                    f"Missing required param: {key}.", code="parameter_missing", param=key
                )
            return None
        if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw):
            raise invalid(f"Invalid integer: {raw}", code="parameter_invalid_integer", param=key)
        value = int(raw)
        if value < minimum:
            raise invalid(
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
                param=key,
            )
        return value

    @staticmethod
    def _bool(params: JSON, key: str) -> bool:
        raw = params.get(key)
        if raw is None:
            return False
        if raw not in ("true", "false"):
            raise invalid(f"Invalid boolean: {raw}", param=key)
        return bool(raw == "true")

    @staticmethod
    def _text(params: JSON, key: str, *, required: bool = False) -> str | None:
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise invalid(
                    f"Missing required param: {key}.", code="parameter_missing", param=key
                )
            return None
        if not isinstance(raw, str):
            raise invalid(f"Invalid string: {key}", param=key)
        return raw

    def _enum(
        self, params: JSON, key: str, allowed: Iterable[str], default: str | None
    ) -> str | None:
        value = self._text(params, key)
        if value is None:
            return default
        if value not in allowed:
            raise invalid(
                f"Invalid {key}: must be one of {', '.join(sorted(allowed))}",
                code="parameter_invalid_string",  # not a real code on every field; close enough
                param=key,
            )
        return value

    @staticmethod
    def _metadata(params: JSON, existing: Mapping[str, str] | None = None) -> dict[str, str]:
        merged = dict(existing or {})
        raw = params.get("metadata")
        if raw is None:
            return merged
        if raw == "":
            return {}
        if isinstance(raw, list):  # metadata[0]=… parses as a list; Stripe keeps it as keys
            raw = {str(i): v for i, v in enumerate(raw)}
        if not isinstance(raw, dict):
            raise invalid("Invalid hash", param="metadata")
        for key, value in raw.items():
            if not isinstance(value, str):
                raise invalid("Metadata values must be strings.", param=f"metadata[{key}]")
            if len(key) > 40 or len(value) > 500:
                raise invalid(
                    "Metadata keys are at most 40 characters and values 500.",
                    param=f"metadata[{key}]",
                )
            if value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        if len(merged) > 50:
            raise invalid("Metadata can have at most 50 keys.", param="metadata")
        return merged

    def _currency(self, params: JSON) -> str:
        value = self._text(params, "currency", required=True)
        assert value is not None
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise invalid(f"Invalid currency: {value}.", param="currency")
        return value.lower()
