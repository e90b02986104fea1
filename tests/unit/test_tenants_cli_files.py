"""`ecomops tenants add FILE` reads one tenant or a whole tenants file, with the same model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from cli.tenants import _read_documents

DEMO = Path(__file__).resolve().parents[2] / "local" / "tenants.demo.json"


def test_a_tenants_file_and_a_single_tenant_both_read(tmp_path: Path) -> None:
    assert [d.settings.id for d in _read_documents(DEMO)] == ["demo"]
    one = json.loads(DEMO.read_text())["tenants"][0]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(one))
    assert _read_documents(single)[0].secrets["stripe"]["api_key"] == "sk_test_demo_local_only"


def test_a_misspelt_key_in_the_file_is_refused_by_name(tmp_path: Path) -> None:
    one = json.loads(DEMO.read_text())["tenants"][0]
    one["settings"]["risk"]["block"]["ipz"] = ["203.0.113.7"]
    one["secrets"]["stripe"]["webhook_secret"] = ["x"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps(one))
    with pytest.raises(ValidationError) as refused:
        _read_documents(bad)
    text = str(refused.value)
    assert "settings.risk.block.ipz" in text and "stripe.'webhook_secret'" in text
