"""A handler's imports without the cyclic garbage collector: its cold start (and Lambda's init).

Importing a handler creates tens of thousands of objects that the collector tracks (modules,
classes, pydantic models and their validators, botocore's tables) and nearly all of them live
as long as the process. With the collector on, those allocations trigger collections that walk
the young objects, then the older ones again and again, and find almost nothing to free (a few
hundred objects of the lifecycle's ~78,000): 40 M instructions of the lifecycle's import (4 %),
141 M of the payout cycles' (13 %; docs/architecture.md, "Cold starts"). So a handler imports inside
``imports_without_gc()``: the collector is off while its modules load, what they made is then
frozen (moved where the collector never looks again, as it would otherwise walk it on the
first requests) and the collector is back on before the module returns, so before Lambda's
init ends and before any request. Memory is unaffected: reference counting still frees
everything as usual; only the few cycles left by the imports are never collected.

``package_without_init`` is for a package whose ``__init__`` imports every one of its
modules when a handler needs one of them.
"""

import gc
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def imports_without_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def package_without_init(name: str) -> None:
    """Make ``name`` importable submodule by submodule, its ``__init__`` run only when a name
    that only it defines is first asked for.

    Powertools' ``event_handler/__init__`` imports every resolver it has (AppSync's pulls in
    asyncio): about 8 ms of the operator API's cold start for code it never runs. The package
    is registered as an empty module over its own path, so its submodules (``api_gateway``,
    ``exceptions``, ``content_types``) import as usual; any other name asked of it runs the
    real ``__init__`` into that module first, so a caller that wants the whole package still
    gets it. Does nothing once the package is imported."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package")
    package = importlib.util.module_from_spec(spec)

    def whole_package(attribute: str) -> Any:
        if importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(f"{name}.{attribute}")
        package.__dict__.pop("__getattr__", None)
        assert spec.loader is not None
        spec.loader.exec_module(package)
        return getattr(package, attribute)

    package.__getattr__ = whole_package  # type: ignore[method-assign]
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(importlib.import_module(parent), child, package)
