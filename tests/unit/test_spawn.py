"""A child process started while another thread changes the environment (as the local runtime
does for each function it runs) starts every time when it is given the environment."""

from __future__ import annotations

import os
import subprocess
import threading

from tests.spawn import inherited_environment


def test_children_given_a_copy_of_the_environment_start_while_another_thread_changes_it() -> None:
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            os.environ[f"ECOMOPS_CHURN_{n % 200}"] = "x" * 50
            if n % 3 == 0:
                os.environ.pop(f"ECOMOPS_CHURN_{(n * 7) % 200}", None)

    changer = threading.Thread(target=churn, daemon=True)
    changer.start()
    failures = []
    try:
        # Without ``env`` about a third of these failed with EFAULT on this machine.
        for _ in range(300):
            try:
                subprocess.run(["/bin/true"], env=inherited_environment(), check=True)
            except (OSError, subprocess.CalledProcessError) as failure:
                failures.append(failure)
    finally:
        stop.set()
        changer.join(timeout=5)
        for name in [k for k in os.environ if k.startswith("ECOMOPS_CHURN_")]:
            os.environ.pop(name, None)
    assert failures == []
