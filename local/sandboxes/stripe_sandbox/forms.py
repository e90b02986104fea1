"""Form encoding in Stripe's bracket notation (``metadata[a]=1``, ``expand[0]=x``), both ways."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from local.sandboxes.stripe_sandbox.errors import JSON, invalid

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def encode_form(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``{"metadata": {"a": 1}, "expand": ["x"]}`` → ``metadata[a]=1``, ``expand[0]=x`` pairs."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(f"{prefix}[{key}]" if prefix else str(key), sub)
        elif isinstance(value, list | tuple):
            for index, sub in enumerate(value):
                walk(f"{prefix}[{index}]", sub)
        elif isinstance(value, bool):
            pairs.append((prefix, "true" if value else "false"))
        else:
            pairs.append((prefix, str(value)))

    walk("", params)
    return pairs


def parse_form(pairs: Iterable[tuple[str, str]]) -> JSON:
    """The inverse of ``encode_form``: bracketed keys become nested objects and lists."""
    root: JSON = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}", code="parameter_invalid_empty")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: JSON = root
        for depth, part in enumerate(parts):
            name = part if part else str(sum(1 for k in node if k.isdigit()))
            if depth == len(parts) - 1:
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid hash or array: {key}", param=parts[0])
            node = child
    result = _listify(root)
    if not isinstance(result, dict):
        raise invalid("Parameters must be named, not numbered.")
    return result


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted
