"""The real sample payloads in ../shared/samples (beside the repository, in CI too)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


def sample_names(folder: Path, what: str) -> list[str]:
    """Every JSON sample under ``folder``; missing samples fail the run rather than quietly
    parametrizing nothing."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{what} samples not found at {folder}")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    if not names:
        raise FileNotFoundError(f"no {what} samples under {folder}")
    return names


def load_sample(folder: Path, name: str) -> dict[str, Any]:
    doc = json.loads((folder / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc
