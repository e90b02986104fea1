"""Hostile mutations of real payloads: the normalisers may only answer Ignored or Malformed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from shared.events import Ignored, Malformed

# Anything but Ignored/Malformed makes the processor retry a payload that can never succeed.
HOSTILE: list[Any] = [None, True, -1, 10**20, 1.5, "", "x", "9999-12-31T23:59:59-23:59", [], {}]


def leaf_paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += leaf_paths(value, (*prefix, index))
    return found


def mutated(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    copy_ = copy.deepcopy(doc)
    target: Any = copy_
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy_


def assert_only_documented_failures(
    label: str, doc: dict[str, Any], call: Callable[[dict[str, Any]], object]
) -> None:
    for path in leaf_paths(doc):
        for value in HOSTILE:
            try:
                call(mutated(doc, path, value))
            except (Ignored, Malformed):
                pass
            except Exception as exc:
                pytest.fail(f"{label}: {'.'.join(map(str, path))}={value!r} raised {exc!r}")
