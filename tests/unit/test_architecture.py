"""The rules of docs/architecture.md that an import graph cannot see, checked on the source.

``lint-imports`` (``make lint``) checks which modules import which; these check the rest: no
module under ``functions/`` outside the adapters and composition roots talks to AWS or Stripe or
reads the environment, and no table key is spelt outside the key map.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cli.toolchain import ROOT

FUNCTIONS = ROOT / "functions"
WIRING = ("adapters", "composition.py")
AWS_OR_STRIPE = ("boto3", "botocore", "stripe", "shared.aws")


def _modules() -> list[Path]:
    return sorted(FUNCTIONS.rglob("*.py"))


def _is_wiring(path: Path) -> bool:
    parts = path.relative_to(FUNCTIONS).parts
    return any(part in WIRING for part in parts)


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _reads_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            return True
    return False


def test_only_adapters_and_composition_roots_talk_to_aws_or_stripe() -> None:
    offenders = []
    for path in _modules():
        if _is_wiring(path):
            continue
        tree = ast.parse(path.read_text(), str(path))
        found = [
            name
            for name in _imports(tree)
            if any(name == bad or name.startswith(f"{bad}.") for bad in AWS_OR_STRIPE)
        ]
        if found:
            offenders.append(f"{path.relative_to(ROOT)}: {sorted(set(found))}")
    assert offenders == []


def test_only_composition_roots_and_adapters_read_the_environment() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if not _is_wiring(path) and _reads_environment(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == []


@pytest.mark.parametrize("root", ["functions", "shared", "cli", "local"])
def test_no_table_key_is_spelt_outside_the_key_map(root: str) -> None:
    offenders = []
    for path in sorted((ROOT / root).rglob("*.py")):
        if path == ROOT / "shared" / "keys.py" or "sandboxes" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and str(first.value).startswith(
                    ("T#", "TENANT#", "SYSTEM#")
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("T#")
                and "#" in node.value[2:]
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
