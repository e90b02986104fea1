"""The assets carry bytecode for the runtime's Python, written as Lambda mounts them.

Lambda's code and layer mounts are read-only: a module shipped without bytecode for the
runtime's version is compiled from source in every cold start. This machine's own interpreter
stands in for the runtime's here (the format is the same whichever version writes it).
"""

from __future__ import annotations

import importlib.util
import marshal
import subprocess
import sys
from pathlib import Path

import pytest

from infra import packaging

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def _package(root: Path) -> Path:
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    module = root / "pkg" / "mod.py"
    module.write_text("VALUE = 1\n")
    return module


def test_compiled_modules_name_where_lambda_mounts_them_and_skip_the_source_check(
    tmp_path: Path,
) -> None:
    module = _package(tmp_path)
    packaging.compile_bytecode(tmp_path, packaging.CODE_MOUNT, sys.executable)
    data = Path(importlib.util.cache_from_source(str(module))).read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    # PEP 552 flags: hash-based (bit 0) and not checked against the source (bit 1 clear).
    assert int.from_bytes(data[4:8], "little") == 0b01
    assert marshal.loads(data[16:]).co_filename == "/var/task/pkg/mod.py"


def test_the_shipped_bytecode_is_what_the_interpreter_runs(tmp_path: Path) -> None:
    module = _package(tmp_path)
    packaging.compile_bytecode(tmp_path, packaging.CODE_MOUNT, sys.executable)
    # Changed after the build: an interpreter that compiled at import would see 2.
    module.write_text("VALUE = 2\n")
    out = subprocess.run(
        [sys.executable, "-c", "import pkg.mod; print(pkg.mod.VALUE)"],
        cwd=tmp_path,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "1"


def test_a_build_python_of_another_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packaging, "LAMBDA_PYTHON", "2.7")
    monkeypatch.setenv(packaging.BUILD_PYTHON_ENV, sys.executable)
    refused = rf"is Python {THIS_PYTHON}.*run on Python 2\.7"
    with pytest.raises(packaging.WrongPython, match=refused):
        packaging.runtime_python()


def test_the_build_python_asked_for_is_used_when_it_is_the_runtimes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(packaging, "LAMBDA_PYTHON", THIS_PYTHON)
    monkeypatch.setenv(packaging.BUILD_PYTHON_ENV, sys.executable)
    assert packaging.runtime_python() == sys.executable


def test_without_the_runtimes_python_the_assets_are_source_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(packaging, "LAMBDA_PYTHON", "9.99")
    monkeypatch.delenv(packaging.BUILD_PYTHON_ENV, raising=False)
    assert packaging.runtime_python() is None


def test_the_layer_is_rebuilt_when_its_bytecode_would_change() -> None:
    assert packaging._layer_stamp(None) != packaging._layer_stamp(sys.executable)


def test_a_launcher_with_no_interpreter_behind_it_counts_as_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyenv puts a python3.X shim on the PATH that fails when that version is not selected.
    monkeypatch.setattr(packaging, "LAMBDA_PYTHON", "9.99")
    monkeypatch.delenv(packaging.BUILD_PYTHON_ENV, raising=False)
    shim = tmp_path / "python9.99"
    shim.write_text("#!/bin/sh\necho 'pyenv: python9.99: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert packaging.runtime_python() is None


def test_the_same_sources_give_the_same_asset_wherever_they_are_built(tmp_path: Path) -> None:
    # The asset's hash decides whether a deployment updates every function: building the same
    # sources in another directory, or again, must not change a byte.
    built = []
    for where in ("one", "two"):
        root = tmp_path / where
        root.mkdir()
        module = _package(root)
        packaging.compile_bytecode(root, packaging.CODE_MOUNT, sys.executable)
        built.append(Path(importlib.util.cache_from_source(str(module))).read_bytes())
    assert built[0] == built[1]
