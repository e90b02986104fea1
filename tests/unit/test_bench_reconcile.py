"""The reconciliation bench runs end to end when small; its numbers are not judged here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(
    r"^RESULT reconcile_s=\d+\.\d{3} pandas_s=\d+\.\d{3} ratio=\d+\.\d{3} "
    r"peak_rss_mb=\d+ camt_entries_per_s=\d+$"
)


def test_the_bench_runs_small_and_ends_with_one_result_line() -> None:
    run = subprocess.run(
        [sys.executable, "bench/reconcile.py", "--orders", "20000", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert RESULT.match(lines[-1]), lines[-1]
    assert sum(line.startswith("RESULT") for line in lines) == 1
    # Not a timing: the planted breaks are found at this size too.
    assert "found exactly the planted breaks: True" in run.stdout
