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
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
