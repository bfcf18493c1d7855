"""Network Designer: design convolutional networks by wiring blocks.

`load_graph(path_or_preset)` gives a graph with `.analyze()` and `.compile()`.
Importing this package imports neither Qt nor torch.
"""
from __future__ import annotations

__version__ = "0.1.0"


def load_graph(source):
    """Load a document from a `.json` file, a preset name (`"lenet5"`), or a weights
    `.pt`/`.pth` written by the state_dict export (graph and weights restored)."""
    from designer.graph.presets import resolve
    path = resolve(source)
    if path.suffix.lower() in (".pt", ".pth"):
        from designer.compile.checkpoint import load_graph_with_weights
        return load_graph_with_weights(path)
    from designer.graph.fileformat import load
    return load(path)


def save_graph(graph, path) -> None:
    from designer.graph.fileformat import save
    save(graph, path)


__all__ = ["load_graph", "save_graph", "__version__"]
