"""Cold-start import cost of every Lambda handler module, next to ``import boto3`` alone.

A handler's import path is its cold start. Each handler is imported in a fresh interpreter
in alternating pairs with ``import boto3`` (A B A B …), and its figure is the median of the
pair ratios: both halves of a pair see the same moment of the machine, so the ratio holds on a
noisy machine (timing the baseline once, before all handlers, let the ratio drift with the
load). Handlers are found by reading ``functions/`` for a module-level ``handler``.
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ROOT, paired_import_ratio, result_line


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
    rows = [(module, *paired_import_ratio(module, "boto3")) for module in handler_modules()]
    width = max(len(m) for m, *_ in rows)
    print(f"{'module':{width}}  import_ms  boto3_ms  ratio (median of pairs)")
    for module, ratio, ms, base in rows:
        print(f"{module:{width}}  {ms:9.1f}  {base:8.1f}  {ratio:5.2f}")
    worst_module, worst, _, _ = max(rows, key=lambda row: row[1])
    ingress = next(ratio for module, ratio, _, _ in rows if module.endswith(".ingress"))
    print(
        result_line(
            worst_ratio=worst,
            worst_module=worst_module,
            ingress_ratio=ingress,
            boto3_import_ms=statistics.median(base for *_, base in rows),
            handlers=len(rows),
        )
    )


if __name__ == "__main__":
    main()
