"""Starting a process from a test while the local stack runs in the test's own process."""

from __future__ import annotations

import os


def inherited_environment() -> dict[str, str]:
    """A copy of this process's environment, to give a child process explicitly.

    The local runtime sets each function's variables on this process's environment while the
    function runs (on other threads, at any moment). A child started without ``env`` execs with
    the C library's environment array itself, which such a change can move while the child is
    being started: the exec then failed with EFAULT ("Bad address"), seen twice on a race test
    (once through multiprocessing's resource tracker). A child given ``env`` gets an array
    built for it from this copy (``copy``, one step under the local runtime's ``SnapshotEnviron``:
    ``dict(os.environ)`` would read key by key)."""
    return os.environ.copy()
