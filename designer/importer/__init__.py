"""Bringing existing networks in: an nn.Module (through torch.fx), `torchvision:NAME`,
`file.py:Class`, a `torch.export` `.pt2`, an `.onnx` file, or a `.pt` / `.pt2` this application
exported (the drawing inside) becomes an editable document carrying the source's weights. Sits
between designer.document and designer.compile."""
from __future__ import annotations

from .errors import ImportFailure, Imported


def import_network(source, input_shape=None, weights: str | None = None):
    """An `Imported` (graph, weights, notes) of `source`: an nn.Module, `torchvision:NAME`,
    `path/file.py:Class`, or a .onnx / .pt2 / .pt file. `input_shape` is C,H,W (or a list of them for several inputs), needed
    where the source does not say it. `weights` ("IMAGENET1K_V1"): a torchvision source starts from
    torchvision's trained weights (torch hub's cache; designer.compile.pretrained) instead of random ones.
    `designer.import_model` wraps this in a Document."""
    from .sources import import_source
    return import_source(source, input_shape, weights)


__all__ = ["import_network", "Imported", "ImportFailure"]
