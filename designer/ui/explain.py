"""Help ▸ Explain: the shape story of the selected block in a small window.

The words come from `designer.introspection.explain` (no Qt there); this dialog only
lays them out, follows edits (change the kernel size, read the new story) and
stops listening when it closes.
"""
from __future__ import annotations

import html
import re

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from designer.introspection.explain import PARAGRAPH, explain_node
from designer.ui.observing import Connections

# formulas: ⌊…⌋ + 1 = 28, (5×5×6)×16 + 16 = 2,416, 28 + 2·2 = 32 …
_FORMULA = re.compile(r"(⌊[^⌋]*⌋ \+ 1 = \d+|⌈[^⌉]*⌉ \+ 1 = \d+|\([^()]*[×·][^()]*\)[^,.;]*= [\d,]+"
                      r"|\d+ \+ 2·\d+ = \d+)")


def story_html(text: str) -> str:
    """Paragraphs as HTML: the headline bold, formulas in a monospace font, the inner
    blocks of a composite as a list."""
    parts = text.split(PARAGRAPH)
    out = []
    for i, part in enumerate(parts):
        lines = part.split("\n")
        body = _formulas(html.escape(lines[0]))
        if i == 0:
            out.append(f"<h3 style='margin-bottom:4px'>{body}</h3>")
            continue
        items = [line.strip().lstrip("•").strip() for line in lines[1:]]
        paragraph = f"<p style='margin-top:2px'>{body}</p>"
        if items:
            paragraph += "<ul style='margin-top:0'>" + "".join(
                f"<li>{_formulas(html.escape(item))}</li>" for item in items) + "</ul>"
        out.append(paragraph)
    return "\n".join(out)


def _formulas(escaped: str) -> str:
    return _FORMULA.sub(lambda m: f"<span style='font-family:monospace; white-space:nowrap'>{m.group(0)}</span>",
                        escaped)


class ExplainDialog(QDialog):
    """The story of one node; it follows the document while open."""

    def __init__(self, controller, node_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller, self.node_id = controller, node_id
        self.setWindowTitle("Explain")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self._connections = Connections([(controller.analysis_changed, self._refresh),
                                         (controller.graph_replaced, self._refresh)])
        self.finished.connect(lambda _r: self.detach())
        self._refresh()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(560, 460)

    def text(self) -> str:
        """The story as plain text (what the dialog shows, without the layout)."""
        return self._text

    def show_node(self, node_id: str) -> None:
        self.node_id = node_id
        self._refresh()

    def detach(self) -> None:
        self._connections.disconnect_all()

    def _refresh(self, *_args) -> None:
        graph = self.controller.graph
        if self.node_id not in graph.nodes:
            self._text = "This block is no longer in the document."
        else:
            self._text = explain_node(graph, self.controller.analysis, self.node_id)
            self.setWindowTitle(f"Explain — {graph.nodes[self.node_id].title}")
        self.browser.setHtml(story_html(self._text))


def open_explain(controller, node_id: str, parent: QWidget | None = None) -> ExplainDialog:
    """Help ▸ Explain: a non-modal dialog for `node_id`; the caller keeps the reference."""
    dialog = ExplainDialog(controller, node_id, parent)
    dialog.setAttribute(Qt.WA_DeleteOnClose, True)
    dialog.resize(dialog.sizeHint())
    dialog.show()
    dialog.raise_()
    return dialog
