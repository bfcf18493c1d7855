"""File ▸ Export Trained Model: a run's trained network written as TorchScript, as
weights with the drawing inside (load_graph reads it back), or as ONNX.

The network is rebuilt from the run's own copy of the drawing (document.json, so
later edits do not matter) and given the weights of its last checkpoint (last.pt,
read through the safe loader); designer.compile.export writes the file. It runs
on a thread: importing torch and tracing take seconds.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from designer.train import run_listing

from .background import Background


@dataclass(frozen=True)
class TrainedFormat:
    format: str          # designer.compile.export's name
    label: str
    suffix: str
    file_filter: str


FORMATS = (
    TrainedFormat("torchscript", "TorchScript (.pt)…", ".pt", "TorchScript archive (*.pt)"),
    TrainedFormat("state_dict", "Weights with the Drawing (.pt)…", ".pt", "Network Designer weights (*.pt)"),
    TrainedFormat("onnx", "ONNX (.onnx)…", ".onnx", "ONNX model (*.onnx)"),
)


def available_formats() -> list[TrainedFormat]:
    onnx = all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript"))
    return [f for f in FORMATS if f.format != "onnx" or onnx]


def trained_network(run_dir: Path):
    """(graph as trained, its compiled network with the run's last weights, input shape or None)."""
    from designer.compile.compiler import compile_graph
    from designer.graph.fileformat import loads
    from designer.train.checkpoint import load
    run_dir = Path(run_dir)
    doc = run_dir / run_listing.DOCUMENT
    if not doc.is_file():
        raise FileNotFoundError(f"{run_dir.name} has no copy of its drawing ({run_listing.DOCUMENT})")
    graph = loads(doc.read_text(encoding="utf-8"))
    state = load(run_dir / run_listing.LAST)
    nets = state.get("nets") if isinstance(state, dict) else None
    if not isinstance(nets, dict) or not nets:
        raise ValueError(f"{run_listing.LAST} of {run_dir.name} holds no trained network")
    input_shape = _input_override(graph, run_listing.read_json(run_dir / run_listing.CONFIG))
    module = compile_graph(graph, device="cpu", input_shape=input_shape)
    if set(nets) == {"model"}:
        module.load_state_dict(nets["model"])
    else:
        for name, weights in nets.items():
            module[name].load_state_dict(weights)
    module.eval()
    return graph, module, input_shape


def _input_override(graph, config: dict):
    """The input size the run trained at when its settings resized the images."""
    size = config.get("image_size")
    if size is None:
        return None
    h, w = (size, size) if isinstance(size, int) else size
    inputs = [n for n in graph.nodes.values() if n.type == "Input"]
    if len(inputs) != 1 or len(inputs[0].params.get("shape", [])) != 3:
        return None
    return (inputs[0].params["shape"][0], h, w)


def export_run(run_dir: Path, path: Path, fmt: str, network: str | None = None) -> Path:
    from designer.compile.export import export
    graph, module, input_shape = trained_network(run_dir)
    nets = graph.networks()
    if len(nets) > 1 and fmt in ("torchscript", "onnx") and network is None:
        network = "generator" if "generator" in nets else nets[0]   # a GAN's product is its generator
    return export(graph, Path(path), format=fmt, network=network, module=module, input_shape=input_shape,
                  source=run_dir.name)


class TrainedExporter(QObject):
    """One export at a time, on a thread; `finished(path)` or `failed(message)`."""
    finished = Signal(str)
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._job = Background(self, "export-trained")
        self._job.done.connect(lambda _t, path: self._end(str(path), ""))
        self._job.failed.connect(lambda _t, message: self._end(None, message))
        self.busy = False

    def start(self, run_dir: Path, path: Path, fmt: str, network: str | None = None) -> None:
        if self.busy:
            self.failed.emit("an export is already running")
            return
        self.busy = True
        self._job.start(export_run, Path(run_dir), Path(path), fmt, network)

    def _end(self, path, message: str) -> None:
        self.busy = False
        if path is not None:
            self.finished.emit(path)
        else:
            self.failed.emit(message)
