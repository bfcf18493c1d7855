"""Run a slow call (importing torch, reading a dataset, probing the GPU, exporting)
on a thread and hear of its result on the GUI thread.

    job = Background(self)
    job.done.connect(lambda token, result: ...)
    job.failed.connect(lambda token, message: ...)
    token = job.start(fn, *args)

A result whose token is no longer the latest one asked for is still delivered with
its token, so that a view can drop answers to questions it no longer asks.
"""
from __future__ import annotations

import itertools
import threading

from PySide6.QtCore import QObject, Signal

from designer.ui.torch_loader import load_torch


class Background(QObject):
    done = Signal(int, object)
    failed = Signal(int, str)

    _tokens = itertools.count(1)

    def __init__(self, parent=None, name: str = "background"):
        super().__init__(parent)
        self.name = name
        self.latest = 0

    def start(self, fn, *args, **kwargs) -> int:
        token = next(self._tokens)
        self.latest = token
        threading.Thread(target=self._run, args=(token, fn, args, kwargs), name=self.name, daemon=True).start()
        return token

    def _run(self, token, fn, args, kwargs):
        # signals emitted here are queued to the GUI thread, where this object lives
        try:
            load_torch()  # every job here reaches for torch; the first import must be guarded
            result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - whatever fails is reported in one line, never raised
            self._finish(token, None, one_line(exc))
        else:
            self._finish(token, result, None)

    def _finish(self, token, result, message):
        try:
            if message is None:
                self.done.emit(token, result)
            else:
                self.failed.emit(token, message)
        except RuntimeError:
            pass  # the object was deleted while the call ran (its window closed)

    def is_latest(self, token: int) -> bool:
        return token == self.latest


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return first if first else type(exc).__name__
