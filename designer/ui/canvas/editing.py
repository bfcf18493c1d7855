"""The clipboard glue of the canvas: a copied selection goes onto the system clipboard
as a document (designer.graph.clipboard), under the project's mime type and as plain
text; pasting reads either back."""
from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from designer.graph.clipboard import clip_text, parse_clip
from designer.graph.model import Graph

from ..mime import CLIPBOARD_MIME


def copy_to_clipboard(graph: Graph, ids) -> None:
    """Put the nodes `ids` of `graph` (their edges and user composites with them) on the clipboard."""
    text = clip_text(graph, ids)
    md = QMimeData()
    md.setData(CLIPBOARD_MIME, text.encode("utf-8"))
    md.setText(text)
    QGuiApplication.clipboard().setMimeData(md)


def clipboard_document() -> Graph | None:
    """The document on the clipboard, or None when it holds none."""
    md = QGuiApplication.clipboard().mimeData()
    if md is None:
        return None
    text = bytes(md.data(CLIPBOARD_MIME)).decode("utf-8") if md.hasFormat(CLIPBOARD_MIME) else md.text()
    return parse_clip(text) if text else None
