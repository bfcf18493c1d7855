"""Weights files: a graph document and its trained weights in one `.pt`.

The file is a plain dictionary that `torch.load(..., weights_only=True)` reads:

    {"format": "network-designer-weights", "version": 1,
     "graph": <the document as JSON text, exactly what save_graph writes>,
     "state_dict": {"c1.weight": tensor, ...},   # keys as compile_graph names them
     "torch_version": "2.14.1"}

A Graph holds no tensors: weights travel beside it, explicitly, as a state dict
(`designer.document.Document.weights`), and `compile_graph(graph, weights=...)`
loads the entries whose names and shapes still fit, so editing the drawing
(replacing the head, say) keeps the weights of every layer that did not change.
"""
from __future__ import annotations

from pathlib import Path

import torch

from designer.graph.errors import GraphFileError
from designer.atomic import atomic_path
from .errors import ExportError, WeightsFileError
from .safe_load import load_torch_file
from .compiler import compile_graph
from .transfer import WeightsReport, fitting_entries, read_state, state_dict_of

FORMAT = "network-designer-weights"
VERSION = 1


def on_cpu(state_dict, copy: bool = False) -> dict:
    """A state dict's tensors detached and on the CPU; those already there are copied only
    when `copy` (a document treats its tensors as values and never changes them in place)."""
    return {k: v.detach().to("cpu", copy=copy) for k, v in state_dict.items()}


def fit_weights(graph, source, strict: bool = False) -> tuple[dict, WeightsReport]:
    """The entries of `source` (a .pt path or a state dict) that fit the drawing by name and
    shape, on the CPU, and the report. Nothing is allocated for the network itself."""
    skeleton = compile_graph(graph, device="meta")   # names and shapes only
    fitting, report = fitting_entries(skeleton, read_state(source), strict)
    # tensors just read from a file belong to nobody else; a live module's may change under us
    return on_cpu(fitting, copy=not isinstance(source, (str, Path))), report


def weights_payload(graph, module) -> dict:
    from designer.graph.fileformat import dumps
    return {"format": FORMAT, "version": VERSION, "graph": dumps(graph),
            "state_dict": on_cpu(module.state_dict()),
            "torch_version": torch.__version__.split("+")[0]}


def save_weights_file(graph, path, module=None, weights=None) -> Path:
    """Write graph and weights (of `module`, else of the graph compiled with `weights`) atomically."""
    if module is None:
        module = compile_graph(graph, weights=weights)
    require_weights(module, "save")
    payload = weights_payload(graph, module)
    needed = sum(t.numel() * t.element_size() for t in payload["state_dict"].values()) + len(payload["graph"])
    with atomic_path(path, size_hint=needed) as tmp:   # the size a full disk's sentence names
        torch.save(payload, tmp)
    return Path(path)


def require_weights(module, doing: str) -> None:
    """Refuse a network built on the meta device: it has shapes, but no values to `doing`."""
    if any(t.is_meta for t in module.state_dict().values()):
        raise ExportError(f"the network was built on the meta device and has no weights to {doing}")


def read_weights_file(path) -> tuple:
    """(the Graph stored in a weights file, its state dict)."""
    from designer.graph.fileformat import loads
    path = Path(path)
    obj = load_torch_file(path)
    if not isinstance(obj, dict) or not isinstance(obj.get("graph"), str):
        raise WeightsFileError(f"{path.name}: holds weights but no network drawing; open the drawing "
                               "and load these weights onto it instead")
    version = obj.get("version", VERSION)
    if isinstance(version, int) and version > VERSION:
        raise WeightsFileError(f"{path.name}: written by a newer Network Designer (weights format {version})")
    try:
        graph = loads(obj["graph"])
    except GraphFileError as exc:
        raise WeightsFileError(f"{path.name}: its drawing is damaged: {exc}") from None
    return graph, state_dict_of(obj, path.name)
