"""Cold-start import cost of every Lambda handler module, next to ``import boto3`` alone.

A handler's import path is its cold start. Each module is imported in a fresh interpreter
(median of several runs) in the same run as the boto3 baseline, so the ratio holds whatever the
machine's speed. Handlers are found by reading ``functions/`` for a module-level ``handler``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ROOT, import_ms, result_line


def handler_modules() -> list[str]:
    found = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        tree = ast.parse(path.read_text())
        if any(
            isinstance(node, ast.FunctionDef | ast.Assign) and _defines_handler(node)
            for node in tree.body
        ):
            found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def _defines_handler(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef):
        return node.name == "handler"
    assert isinstance(node, ast.Assign)
    return any(isinstance(t, ast.Name) and t.id == "handler" for t in node.targets)


def main() -> None:
    baseline = import_ms("boto3")
    rows = [(module, import_ms(module)) for module in handler_modules()]
    width = max(len(m) for m, _ in rows)
    print(f"{'module':{width}}  import_ms  ratio_to_boto3")
    print(f"{'boto3 (baseline)':{width}}  {baseline:9.1f}  {1.0:14.2f}")
    for module, ms in rows:
        print(f"{module:{width}}  {ms:9.1f}  {ms / baseline:14.2f}")
    worst_module, worst = max(rows, key=lambda row: row[1])
    print(
        result_line(
            worst_ratio=worst / baseline,
            boto3_import_ms=baseline,
            worst_module=worst_module,
            handlers=len(rows),
        )
    )


if __name__ == "__main__":
    main()
