"""File ▸ Export of the network itself, through the compiler's exports
(designer.compile.export), run on a worker thread: importing torch and tracing a
large network takes seconds, and the window must stay responsive meanwhile.

Which formats are offered is decided without importing torch: an entry whose
backend is missing is left out of the menu rather than shown dead."""
from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from designer.atomic import WriteFailed
from designer.graph.errors import GraphError
from designer.ui.torch_loader import load_torch


@dataclass(frozen=True)
class ExportFormat:
    format: str        # the name designer.compile.export knows
    label: str         # the menu entry
    suffix: str
    file_filter: str


FORMATS = (
    ExportFormat("python", "PyTorch Code (.py)…", ".py", "Python source (*.py)"),
    ExportFormat("torchscript", "TorchScript (.pt)…", ".pt", "TorchScript archive (*.pt)"),
    ExportFormat("program", "torch.export Program (.pt2)…", ".pt2", "torch.export program (*.pt2)"),
    ExportFormat("state_dict", "Weights and Drawing (.pth)…", ".pth", "Weights (*.pth)"),
    ExportFormat("onnx", "ONNX (.onnx)…", ".onnx", "ONNX model (*.onnx)"),
)


def available_formats() -> list[ExportFormat]:
    if importlib.util.find_spec("torch") is None:
        return []
    onnx = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript"))
    return [f for f in FORMATS if f.format != "onnx" or onnx]


class ModelExporter(QObject):
    """Runs one export at a time; `finished(path)` or `failed(message)` come back on the GUI thread."""
    finished = Signal(str)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.busy = False

    def start(self, document, path, format: str, network: str | None = None, source: str = ""):
        """Export a copy of `document` (a designer.document.Document: drawing and weights)."""
        if self.busy:
            self.failed.emit("an export is already running")
            return
        self.busy = True
        snapshot = document.copy()   # the person may go on editing while it runs
        threading.Thread(target=self._run, args=(snapshot, Path(path), format, network, source),
                         name="export", daemon=True).start()

    def _run(self, document, path: Path, format: str, network, source: str):
        try:
            load_torch()
            from designer.compile.export import export
            export(document.graph, path, format=format, network=network, source=source, weights=document.weights)
        except GraphError as exc:
            self._done(None, str(exc))
        except WriteFailed as exc:   # a full or read-only disk: the sentence says where and what is kept
            self._done(None, str(exc))
        except (OSError, MemoryError) as exc:
            self._done(None, f"could not write {path.name}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a failed export must never take the window down
            self._done(None, f"export failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        else:
            self._done(str(path), "")

    def _done(self, path, message):
        self.busy = False
        if path is not None:
            self.finished.emit(path)
        else:
            self.failed.emit(message)
