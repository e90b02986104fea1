"""`ecomops local up` as an operator runs it: prints `ready <url>`, serves, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from local.stack import free_port

pytestmark = pytest.mark.local


def test_local_up_serves_fires_and_stops_cleanly_on_sigterm(synthesis: Any) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "local",
            "up",
            "--port",
            str(port),
            "--no-synth",
            "--cdk-out",
            str(synthesis.outdir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        ready = None
        seen = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("ready "):
                ready = line.split()[1]
                break
        assert ready == f"http://127.0.0.1:{port}", "".join(seen)
        with urllib.request.urlopen(f"{ready}/health", timeout=30) as answer:
            assert json.loads(answer.read())["status"] == "ok"

        rule = next(
            r
            for r in json.loads(
                urllib.request.urlopen(f"{ready}/_local/status", timeout=30).read()
            )["schedules"]
        )
        fired = subprocess.run(
            [sys.executable, "-m", "cli.main", "local", "fire", rule, "--url", ready],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert fired.returncode == 0, fired.stderr
        assert fired.stdout.startswith("started arn:aws:states:")

        process.send_signal(signal.SIGTERM)
        # Stopping lets the invocation the fired schedule has running finish (at most 30 s,
        # ``Dispatcher.close``) before the server goes: on a loaded machine that is most of it.
        assert process.wait(timeout=90) == 0
    finally:
        if process.poll() is None:
            process.kill()
