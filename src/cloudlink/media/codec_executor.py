"""The thread pool codec calls run on, off the asyncio event loop.

libvpx encodes and decodes in native code that releases the GIL, so on
worker threads they use a second core and no longer stall every other
stream on the loop (a 360p keyframe takes tens of ms). The pool is small
and shared by every stream of the process; each stream keeps at most one
call in flight on its own codec object, so a codec is never entered from
two threads at once.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final

__all__ = ["codec_executor"]

# One worker per core, at most 4: more threads than cores only queue in the
# kernel, and a pool this size keeps every stream's frames moving.
_MAX_WORKERS: Final = 4

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def codec_executor() -> ThreadPoolExecutor:
    """The process's codec pool, made on first use (its threads end with
    the interpreter)."""
    global _executor
    with _lock:
        if _executor is None:
            workers = min(os.cpu_count() or 1, _MAX_WORKERS)
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="codec")
        return _executor
