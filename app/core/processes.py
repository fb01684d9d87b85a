"""CPU-bound work (the route solver) runs in a pool of separate processes: never on the event loop
and never holding this interpreter's lock, so a 30 s solve leaves every other request of the process
served at its usual speed. Used by the API (previews, auto-optimize in the request) and the workers.

The pool forks its processes from a forkserver that has already imported the solver engines, so a
new process is ready at once instead of importing OR-Tools and PyVRP on its first solve.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

from app.core.logging import get_logger
from app.settings import get_settings

T = TypeVar("T")
PRELOADED = ["app.optimization.vrp", "app.optimization.engine_pyvrp", "app.optimization.engine_ortools"]

log = get_logger("rouptimize.processes")
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOADED)
            _pool = ProcessPoolExecutor(max_workers=get_settings().solver_processes, mp_context=context)
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def run(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a pool process; `fn` and its arguments must be picklable."""
    executor = _executor()
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, partial(fn, *args))
    except BrokenProcessPool:
        # One of its processes died (killed, out of memory): this call fails, the next gets a new pool.
        log.warning("process_pool_broken")
        _discard(executor)
        raise


def shutdown() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
