"""The payouts bench runs end to end when small; its numbers are not judged here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(
    r"^RESULT cycle_s=\d+\.\d{3} cycle_cpu_s=\d+\.\d{3} peak_rss_mb=\d+ entries=\d+ balanced=1 "
    r"month_s=\d+\.\d{3} "
    r"naive_balances_s=\d+\.\d{3} ddb_writes_per_line=\d+\.\d{3} ddb_requests_per_line=\d+\.\d{3} "
    r"ddb_writes_per_line_split=\d+\.\d{3} ddb_requests_per_line_split=\d+\.\d{3}$"
)


def test_the_bench_runs_small_and_ends_with_one_result_line() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "bench/payouts.py",
            "--lines",
            "3000",
            "--vendors",
            "100",
            "--moto-orders",
            "10",
        ],
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
    # Not a timing: the naive refold finds the amounts the cached balances gave.
    assert any(line.endswith("same amounts: True") for line in lines)
