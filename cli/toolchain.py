"""Where the project's pinned Node lives, so synth never depends on the machine's Node."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def use_project_node() -> None:
    node = ROOT / "node_modules" / ".bin" / "node"
    if node.exists():
        os.environ.setdefault("JSII_NODE", str(node))
    # jsii prints a banner for every Node it has not tested; the version is pinned on purpose.
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
