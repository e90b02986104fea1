"""Shared by the benchmarks: fresh-interpreter import timing and the RESULT line."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The environment a deployed function imports under (tracing on, as in Lambda).
LAMBDA_LIKE_ENV = {
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "EcomOps",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_NAME": "bench",
    # As every function's environment sets it (infra/constructs/lambdas.py).
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}

_PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({module!r}); "
    "print((time.perf_counter() - t) * 1000)"
)


def import_probe(module: str) -> str:
    """Code that imports ``module`` and prints how long it took, in milliseconds."""
    return _PROBE.format(module=module)


def _one_import_ms(module: str) -> float:
    return run_ms(import_probe(module))


# The interpreter the probes run in: this one, unless a bench is pointed at another (the
# functions' runtime is newer than the Python the project develops on; ``bench/cold_start.py
# --python``).
PROBES = {"python": sys.executable}


def use_interpreter(path: str) -> str:
    """Run the probes in ``path`` from now on; returns its version (``3.13.0``)."""
    from infra.packaging import python_version

    version = python_version(path)
    PROBES["python"] = path
    return version


def run_ms(code: str, env: Mapping[str, str] | None = None) -> float:
    """What ``code``, run in a fresh interpreter in the Lambda-like environment (plus ``env``),
    prints last: a time in milliseconds."""
    full_env = {**os.environ, **LAMBDA_LIKE_ENV, "PYTHONDONTWRITEBYTECODE": "0", **(env or {})}
    out = subprocess.run(
        [PROBES["python"], "-c", code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def import_ms(module: str, runs: int = 7) -> float:
    """Median import time of ``module`` in a fresh interpreter, in milliseconds."""
    samples = [_one_import_ms(module) for _ in range(runs + 1)]
    return statistics.median(samples[1:])  # the first run warms the bytecode cache


def paired_import_ratio(module: str, baseline: str, pairs: int = 7) -> tuple[float, float, float]:
    """``module``'s import time against ``baseline``'s, measured in alternating pairs
    (A B A B …) so both see the same moment of a noisy machine: the median of the pair
    ratios, and the median times of each (milliseconds)."""
    return paired_ratio(import_probe(module), import_probe(baseline), pairs=pairs)


def paired_ratio(
    code: str, baseline: str, env: Mapping[str, str] | None = None, pairs: int = 7
) -> tuple[float, float, float]:
    """Two probes (each prints its milliseconds last) run in fresh interpreters in alternating
    pairs, baseline first: the median of the pair ratios and the median times of each."""
    run_ms(baseline, env), run_ms(code, env)  # warm the bytecode caches
    base, mine = [], []
    for _ in range(pairs):
        base.append(run_ms(baseline, env))
        mine.append(run_ms(code, env))
    ratio = statistics.median(m / b for m, b in zip(mine, base, strict=True))
    return ratio, statistics.median(mine), statistics.median(base)


def result_line(**values: float | int | str) -> str:
    parts = " ".join(
        f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in values.items()
    )
    return f"RESULT {parts}"
