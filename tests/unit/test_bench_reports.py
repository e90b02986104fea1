"""The reports bench runs end to end when small: its times are not judged here; its yearly
figures against its own plan and the lookup's reads are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(
    r"^RESULT yearly_s=\d+\.\d{3} lookup_ms=\d+\.\d{3} reads_per_lookup=(\d+) scans=(\d+) "
    r"peak_rss_mb=\d+ naive_s=\d+\.\d{3} orders=20000$"
)


def test_the_bench_runs_small_and_the_year_is_as_planned() -> None:
    run = subprocess.run(
        [sys.executable, "bench/reports.py", "--orders", "20000", "--lookups", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert any(line.endswith("as planned: True") for line in lines), lines
    match = RESULT.match(lines[-1])
    assert match, lines[-1]
    assert match.groups() == ("2", "0")
