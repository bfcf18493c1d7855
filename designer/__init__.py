"""Network Designer: design convolutional networks by wiring blocks.

`load_graph(path_or_preset)` gives a Document (graph and weights) with `.analyze()`
and `.compile()`; `save_graph(document, path)` writes it.
Importing this package imports neither Qt nor torch.
"""
from __future__ import annotations

__version__ = "0.1.0"


def load_graph(source):
    """Open a document: a `.json` file, a preset name (`"lenet5"`), or a weights
    `.pt`/`.pth` written by the state_dict export (graph and weights restored).
    Returns a `designer.document.Document`; its `.graph` is the drawing."""
    from designer.document import open_document
    return open_document(source)


def save_graph(document, path) -> None:
    """Write a Document (or a bare Graph): `.json` the drawing, `.pth` the drawing and weights."""
    from designer.document import Document
    if not isinstance(document, Document):
        document = Document(document)
    document.save(path)


def import_model(source, input_shape=None, weights=None):
    """A Document of an existing network with its weights: an nn.Module, `torchvision:NAME`,
    `path/file.py:Class` (built with no arguments), an `.onnx` file, a torch.export `.pt2`, or a
    TorchScript `.pt`. `input_shape` (C, H, W) is needed where the source does not say it
    (torchvision's models, .onnx and .pt2 files and our own .pt exports do).
    `weights="IMAGENET1K_V1"` starts a torchvision model from torchvision's trained weights.
    See designer.importer."""
    from designer.document import Document
    from designer.importer import import_network
    imported = import_network(source, input_shape, weights)
    return Document(imported.graph, imported.weights)


__all__ = ["load_graph", "save_graph", "import_model", "__version__"]
