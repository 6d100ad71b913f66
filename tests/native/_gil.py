"""Checks that native code releases the GIL while it works."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

__all__ = ["python_progress_during"]


def python_progress_during(work: Callable[[], object]) -> int:
    """Runs `work` in this thread while a second thread counts how often it
    gets to run Python. The switch interval is raised far above the work's
    duration, so the counter only moves when `work` releases the GIL."""
    stop = threading.Event()
    started = threading.Event()
    count = 0

    def counter() -> None:
        nonlocal count
        started.set()
        while not stop.is_set():
            count += 1
            time.sleep(0)  # hand the GIL back at once

    old_interval = sys.getswitchinterval()
    thread = threading.Thread(target=counter)
    thread.start()
    started.wait()
    sys.setswitchinterval(5.0)
    try:
        before = count
        work()
        progress = count - before
    finally:
        sys.setswitchinterval(old_interval)
        stop.set()
        thread.join()
    return progress
