"""Torch is imported off the GUI thread, once, with the garbage collector paused.

A collection on the GUI thread while torch initialised on a worker thread crashed
the test process here (Python 3.11, torch 2.14, PySide6 6.11); pausing collection
for the seconds the import takes avoids it. Every thread that may be first to
import torch calls `load_torch()` before it does."""
from __future__ import annotations

import gc
import threading

_lock = threading.Lock()


def load_torch() -> None:
    with _lock:
        paused = gc.isenabled()
        gc.disable()
        try:
            import torch  # noqa: F401
        finally:
            if paused:
                gc.enable()


def preload_in_background() -> threading.Thread:
    """Start importing torch now, so that the first training or export does not wait for it."""
    thread = threading.Thread(target=load_torch, name="torch-preload", daemon=True)
    thread.start()
    return thread
