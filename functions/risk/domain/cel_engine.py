"""The CEL engine without its command line.

The ``common-expression-language`` package's ``__init__`` imports its interactive REPL
(``cel.cli``: typer, prompt_toolkit, rich, asyncio) before the compiled engine it wraps. A
function screening orders has no terminal, and that import was 215 to 330 ms of the first
screening in every new container, against 11 to 13 ms for the engine alone (more than
``import boto3``; docs/architecture.md, "Cold starts"). The engine is the package's compiled
extension, ``cel.cel``: this loads it alone, from where the package is installed, under the
name the package gives it, so an ``import cel`` elsewhere (the CLI, a test) finds the same
module and its types are the same types. If the layout ever changes, the whole package is
imported as before.
"""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ENGINE = "cel.cel"


def load_engine() -> ModuleType:
    loaded = sys.modules.get(ENGINE)
    if loaded is not None:
        return loaded
    package = importlib.util.find_spec("cel")  # finds it without running its __init__
    for location in (package.submodule_search_locations or []) if package else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(location) / f"cel{suffix}"
            spec = importlib.util.spec_from_file_location(ENGINE, path)
            if not path.is_file() or spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            sys.modules[ENGINE] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[ENGINE]
                raise
            return module
    import cel

    return cel
