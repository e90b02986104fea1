"""Handlers import without the cyclic garbage collector and give it back before any request."""

import ast
import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.coldstart import imports_without_gc, package_without_init

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gc_state() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()  # the test process's objects back where the collector looks
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("gc_state")
def test_the_collector_is_off_during_the_imports_and_on_after() -> None:
    gc.enable()
    with imports_without_gc():
        assert not gc.isenabled()
        made: list[list[int]] = [[] for _ in range(100)]
    assert gc.isenabled()
    # What the imports made is frozen: in no generation the collector walks.
    assert gc.is_tracked(made)
    assert gc.get_freeze_count() > len(made)
    assert all(o is not made for o in gc.get_objects())


@pytest.mark.usefixtures("gc_state")
def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    with imports_without_gc():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("gc_state")
def test_the_collector_comes_back_when_an_import_fails() -> None:
    gc.enable()
    with pytest.raises(ImportError), imports_without_gc():
        raise ImportError("no such module")
    assert gc.isenabled()


def _handler_modules() -> list[Path]:
    found = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        tree = ast.parse(path.read_text())
        if any(
            (isinstance(node, ast.FunctionDef) and node.name == "handler")
            or (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "handler" for t in node.targets)
            )
            for node in tree.body
        ):
            found.append(path)
    return found


def _top_level(module: ast.Import | ast.ImportFrom) -> str:
    if isinstance(module, ast.ImportFrom):
        return (module.module or "").split(".")[0]
    return module.names[0].name.split(".")[0]


def test_every_handler_imports_beyond_the_standard_library_without_the_collector() -> None:
    handlers = _handler_modules()
    assert len(handlers) >= 10
    for path in handlers:
        tree = ast.parse(path.read_text())
        outside = [
            node
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            and _top_level(node) not in sys.stdlib_module_names
            and _top_level(node) != "__future__"
            and not (isinstance(node, ast.ImportFrom) and node.module == "shared.coldstart")
        ]
        assert not outside, f"{path.relative_to(ROOT)}: imports outside imports_without_gc()"
        guarded = [
            node
            for node in tree.body
            if isinstance(node, ast.With)
            and any(
                isinstance(item.context_expr, ast.Call)
                and isinstance(item.context_expr.func, ast.Name)
                and item.context_expr.func.id == "imports_without_gc"
                for item in node.items
            )
        ]
        assert len(guarded) == 1, f"{path.relative_to(ROOT)}: no imports_without_gc() block"


def test_screening_rules_load_the_cel_engine_without_the_packages_command_line() -> None:
    """The package's __init__ imports its REPL (typer, prompt_toolkit, rich): in a fresh
    interpreter the rules compile and run on the engine alone, and a later ``import cel``
    finds that same engine (its types are the types the rules hold)."""
    import subprocess

    probe = (
        "import sys\n"
        "from functions.risk.domain import rules\n"
        "heavy = sorted(m for m in ('cel.cli', 'prompt_toolkit', 'typer', 'rich') "
        "if m in sys.modules)\n"
        "assert not heavy, heavy\n"
        "program = rules.cel.compile('amount > 100')\n"
        "assert program.execute(rules.cel.Context({'amount': 150})) is True\n"
        "import cel\n"
        "assert cel.Program is rules.cel.Program and cel.compile is rules.cel.compile\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def eager_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package whose ``__init__`` imports all its modules, as Powertools' event handler does."""
    root = tmp_path / "eager_pkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        "from eager_pkg.wanted import Wanted\nfrom eager_pkg.heavy import Heavy\nWHOLE = True\n"
    )
    (root / "wanted.py").write_text("class Wanted: ...\n")
    (root / "heavy.py").write_text("class Heavy: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "eager_pkg"
    for name in [n for n in sys.modules if n.split(".")[0] == "eager_pkg"]:
        del sys.modules[name]


def test_a_package_without_init_imports_only_the_module_asked_for(eager_package: str) -> None:
    package_without_init(eager_package)
    from eager_pkg.wanted import Wanted  # type: ignore[import-not-found]

    assert Wanted.__module__ == "eager_pkg.wanted"
    assert "eager_pkg.heavy" not in sys.modules
    # A submodule asked of the package itself (``from package import module``) is imported.
    from eager_pkg import wanted  # type: ignore[import-not-found]

    assert wanted.Wanted is Wanted and "eager_pkg.heavy" not in sys.modules


def test_a_name_only_its_init_defines_runs_the_init(eager_package: str) -> None:
    package_without_init(eager_package)
    from eager_pkg import WHOLE, Heavy

    assert WHOLE is True and Heavy.__module__ == "eager_pkg.heavy"
    import eager_pkg

    assert eager_pkg.Wanted.__module__ == "eager_pkg.wanted"


def test_a_package_already_imported_is_left_alone(eager_package: str) -> None:
    import eager_pkg

    package_without_init(eager_package)
    assert sys.modules[eager_package] is eager_pkg and eager_pkg.WHOLE


def test_a_module_that_is_no_package_is_refused(eager_package: str) -> None:
    with pytest.raises(ImportError, match="not a package"):
        package_without_init(f"{eager_package}.heavy")
