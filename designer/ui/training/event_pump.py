"""Brings the training worker's events to the GUI thread, at most ~30 times a second.

A reader thread takes events off the worker's multiprocessing queue
(`handle.poll()`, which also notices a worker that died without a word) and puts
them in an in-process inbox; a QTimer on the GUI thread empties the inbox each
tick and hands the views one list of step events (coalesced: hundreds of steps
between two ticks cost one redraw) plus every other event in order.

Why a thread reads the queue rather than the timer itself: a worker killed in
the middle of writing a large event (an epoch's pictures) leaves half a message
in the pipe, and reading it would block forever; on a thread that costs a
thread, on the GUI thread it would freeze the window. The watchdog below ends
the run if the worker is dead and the reader has gone quiet.
"""
from __future__ import annotations

import collections
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal

from designer.train.events import TERMINAL, Step
from designer.train.worker import died

TICK_MS = 33               # ~30 Hz
READ_PAUSE_S = 0.01        # the reader's sleep when the queue is empty
DEAD_QUIET_S = 3.0         # a dead worker and no terminal event for this long: the run is over


class EventPump(QObject):
    steps = Signal(list)     # Step events since the last tick, oldest first
    event = Signal(object)   # any other event (Started, Epoch, Checkpoint, Log), in order
    ended = Signal(object)   # the last event, Done or Error, exactly once

    def __init__(self, handle, parent=None, tick_ms: int = TICK_MS):
        super().__init__(parent)
        self.handle = handle
        self._inbox: collections.deque = collections.deque()
        self._closing = threading.Event()
        self._last_read = time.monotonic()
        self.finished = False
        self.ticks = 0
        self._reader = threading.Thread(target=self._read, name="training-events", daemon=True)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        self._reader.start()
        self._timer.start()

    def close(self) -> None:
        """Stop listening (the run goes on; its events are no longer read)."""
        self._closing.set()
        self._timer.stop()

    # ---- the reader thread -----------------------------------------------------------------------
    def _read(self) -> None:
        while not self._closing.is_set():
            events = self.handle.poll()
            if events:
                self._inbox.extend(events)
                self._last_read = time.monotonic()
                if any(isinstance(e, TERMINAL) for e in events):
                    return
            else:
                time.sleep(READ_PAUSE_S)

    # ---- the GUI thread --------------------------------------------------------------------------
    def tick(self) -> None:
        self.ticks += 1
        batch = []
        while self._inbox:
            batch.append(self._inbox.popleft())
        if not batch:
            self._watchdog()
            return
        steps: list[Step] = []
        for event in batch:
            if isinstance(event, Step):
                steps.append(event)
                continue
            if steps:
                self.steps.emit(steps)
                steps = []
            if isinstance(event, TERMINAL):
                self._end(event)
                return
            self.event.emit(event)
        if steps:
            self.steps.emit(steps)

    def _watchdog(self) -> None:
        """The reader may be stuck on a half-written message from a killed worker."""
        if self.finished or self.handle.is_alive():
            return
        if time.monotonic() - self._last_read > DEAD_QUIET_S and not self._inbox:
            self._end(died(getattr(self.handle, "exitcode", None)))

    def _end(self, event) -> None:
        self.finished = True
        self.close()
        self.ended.emit(event)
