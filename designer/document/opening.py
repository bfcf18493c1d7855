"""Reading a document from wherever a user names one: a preset name (`lenet5`), a
`.json` drawing, or a `.pth`/`.pt` weights file written by the export (the drawing
and its weights)."""
from __future__ import annotations

from pathlib import Path

from designer.graph.presets import is_preset_path, resolve

from .document import Document, is_weights_file


def open_document(source) -> Document:
    """The Document of `source`; a preset or a weights file opens as a template
    (no path: saving asks where), a `.json` file as itself."""
    path = resolve(source)
    if is_weights_file(path):
        from designer.compile.checkpoint import read_weights_file
        graph, weights = read_weights_file(path)
        return Document(graph, weights, origin=path.name)
    from designer.graph.fileformat import load
    return Document(load(path), path=None if is_preset_path(path) else path)
