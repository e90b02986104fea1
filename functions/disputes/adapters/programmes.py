"""The networks' programmes from ``functions/disputes/programmes.yaml`` (kept in the package)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from functions.disputes.domain.ratios import Programmes


@cache
def load_programmes() -> Programmes:
    text = resources.files("functions.disputes").joinpath("programmes.yaml").read_text("utf-8")
    return Programmes.model_validate(yaml.safe_load(text))
