"""The lookup bench runs end to end when small; its times are not judged here, its reads are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(
    r"^RESULT lookup_ms=\d+\.\d{3} lookup_p99_ms=\d+\.\d{3} reads_per_lookup=(\d+) "
    r"scans=(\d+) orders=20000 peak_rss_mb=\d+$"
)


def test_the_bench_runs_small_and_a_lookup_is_one_query_and_one_batch_read() -> None:
    run = subprocess.run(
        [sys.executable, "bench/queries.py", "--orders", "20000", "--lookups", "50"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    match = RESULT.match(lines[-1])
    assert match, lines[-1]
    assert match.groups() == ("2", "0")
    assert sum(line.startswith("RESULT") for line in lines) == 1
