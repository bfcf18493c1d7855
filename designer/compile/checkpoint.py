"""Weights files: a graph document and its trained weights in one `.pt`.

The file is a plain dictionary that `torch.load(..., weights_only=True)` reads:

    {"format": "network-designer-weights", "version": 1,
     "graph": <the document as JSON text, exactly what save_graph writes>,
     "state_dict": {"c1.weight": tensor, ...},   # keys as compile_graph names them
     "torch_version": "2.14.1"}

How weights travel with a Graph: a Graph object holds no tensors. Weights that
belong to one (read by `load_graph("x.pt")`, or put there by
`load_weights(graph, path)`) are attached to that object in a side table here,
`attached_weights(graph)`; `graph.compile()` loads the entries whose names and
shapes still fit, so editing the drawing afterwards (replacing the head, say)
keeps the weights of every layer that did not change. The attachment belongs to
the object: `graph.copy()`, a file saved as JSON, or a document sent to another
process carry no weights; it is dropped when the graph is garbage collected.
"""
from __future__ import annotations

import weakref
from pathlib import Path

import torch

from designer.graph.errors import GraphFileError
from designer.atomic import atomic_path
from .errors import ExportError, WeightsFileError
from .safe_load import load_torch_file
from .transfer import WeightsReport, load_matching, network_share, state_dict_of

FORMAT = "network-designer-weights"
VERSION = 1

_ATTACHED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def attach_weights(graph, state_dict) -> None:
    """Let every later `graph.compile()` start from these weights (CPU copies kept)."""
    _ATTACHED[graph] = _on_cpu(state_dict)


def _on_cpu(state_dict) -> dict:
    return {k: v.detach().to("cpu") for k, v in state_dict.items()}


def attached_weights(graph) -> dict | None:
    return _ATTACHED.get(graph)


def detach_weights(graph) -> None:
    _ATTACHED.pop(graph, None)


def apply_attached_weights(graph, module, network: str | None = None) -> WeightsReport | None:
    """Load the graph's attached weights into a freshly compiled module by name;
    `network` selects one network's share (`generator.…`) of a several-network document."""
    state = _ATTACHED.get(graph)
    if not state:
        return None
    return load_matching(module, network_share(state, network) if network else state)


def weights_payload(graph, module) -> dict:
    from designer.graph.fileformat import dumps
    return {"format": FORMAT, "version": VERSION, "graph": dumps(graph),
            "state_dict": _on_cpu(module.state_dict()),
            "torch_version": torch.__version__.split("+")[0]}


def save_weights_file(graph, path, module=None) -> Path:
    """Write graph and weights (of `module`, else of `graph.compile()`) atomically."""
    if module is None:
        from .compiler import compile_graph
        module = compile_graph(graph)
    require_weights(module, "save")
    payload = weights_payload(graph, module)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def require_weights(module, doing: str) -> None:
    """Refuse a network built on the meta device: it has shapes, but no values to `doing`."""
    if any(t.is_meta for t in module.state_dict().values()):
        raise ExportError(f"the network was built on the meta device and has no weights to {doing}")


def load_graph_with_weights(path):
    """The Graph stored in a weights file, with its weights attached (see above)."""
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
    attach_weights(graph, state_dict_of(obj, path.name))
    return graph
