"""Autosave to a recovery file every minute while a document has unsaved changes,
and finding the files a crashed session left behind so they can be offered back.

A recovery file is JSON: {"recovery": 1, "pid", "path" (the document's own file
or null), "title", "time", "document" (the file format's dict)}. It is removed
when its document is saved, closed, or its changes are discarded.
"""
from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from designer.atomic import WriteFailed, atomic_path, pid_alive
from designer.graph.errors import GraphError
from designer.graph.fileformat import from_dict, to_dict

from .settings import data_dir

INTERVAL_MS = 60_000
_counter = itertools.count(1)


def recovery_dir() -> Path:
    path = data_dir() / "recovery"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Recovery:
    file: Path
    path: Path | None
    title: str
    time: float

    def load(self):
        data = json.loads(self.file.read_text(encoding="utf-8"))
        return from_dict(data["document"])

    def discard(self):
        try:
            self.file.unlink()
        except OSError:
            pass


def pending() -> list[Recovery]:
    """Recovery files of sessions that ended without cleaning up (newest first)."""
    found = []
    for file in recovery_dir().glob("recovery-*.json"):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            pid = int(data["pid"])
            if pid_alive(pid):
                continue
            found.append(Recovery(file, Path(data["path"]) if data.get("path") else None,
                                  str(data.get("title") or "Untitled"), float(data.get("time", 0))))
        except (OSError, ValueError, KeyError, TypeError):
            continue   # not ours or half-written: leave it
    return sorted(found, key=lambda r: -r.time)


class Autosave(QObject):
    """Writes the controller's document to its recovery file on a timer while modified."""

    def __init__(self, controller, interval_ms: int = INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.file = recovery_dir() / f"recovery-{os.getpid()}-{next(_counter)}.json"
        self.failing = False   # the last write failed (said once in the status bar, until one works)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        controller.modified_changed.connect(self._on_modified)

    def tick(self):
        if self.controller.modified:
            self.write()

    def write(self) -> bool:
        """Write the recovery file; a failure is said once (until a write works again) and
        leaves the document as it is: modified, for the person to save."""
        c = self.controller
        try:
            data = {"recovery": 1, "pid": os.getpid(), "path": str(c.path) if c.path else None,
                    "title": c.title, "time": time.time(), "document": to_dict(c.graph)}
            with atomic_path(self.file) as tmp:
                tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        except (OSError, GraphError, TypeError, ValueError) as exc:
            if not self.failing:
                why = exc.reason() if isinstance(exc, WriteFailed) else str(exc)
                c.message.emit(f"Autosave failed ({why}); your changes are only in this window "
                               "until you save them.")
            self.failing = True
            return False
        if self.failing:
            c.message.emit("Autosave works again.")
        self.failing = False
        return True

    def _on_modified(self, modified: bool):
        if not modified:
            self.discard()

    def discard(self):
        try:
            self.file.unlink()
        except OSError:
            pass

    def stop(self):
        self.timer.stop()
        self.discard()
