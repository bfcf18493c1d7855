"""How a view follows the document controller, and stops following it.

PySide drops a widget's connections when the widget is deleted, but a panel that
is only closed (or a dialog that has finished) stays alive and would go on being
called by the controller: dead observers after a window closes are a classic
crash. Each view keeps its connections in one `Connections` and empties it on
close; the docked panels share the whole life cycle through `ObservingPanel`.
"""
from __future__ import annotations


class Connections:
    """(signal, slot) pairs, connected together and disconnected together."""

    def __init__(self, pairs=()):
        self._pairs: list = []
        self.connect(pairs)

    def connect(self, pairs) -> None:
        for signal, slot in pairs:
            signal.connect(slot)
            self._pairs.append((signal, slot))

    def disconnect_all(self) -> None:
        """Safe to call twice, and after the controller itself is gone."""
        while self._pairs:
            signal, slot = self._pairs.pop()
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass  # the controller went first

    def __bool__(self) -> bool:
        return bool(self._pairs)


class ObservingPanel:
    """A panel (mixed in before QWidget) showing the state of `self.controller`: it
    observes the analysis, the selection and the document from `attach()`, stops on
    close, catches up when shown again, and redraws after a light/dark switch.
    The panel defines _on_analysis_changed, _on_selection_changed, _on_graph_replaced,
    _catch_up (show the controller's state now) and _on_palette_changed."""

    _connections: Connections

    def attach(self):
        """Observe the controller and show its state (again after a close; safe to call twice)."""
        if self._connections:
            return
        c = self.controller
        self._connections.connect([(c.analysis_changed, self._on_analysis_changed),
                                   (c.selection_changed, self._on_selection_changed),
                                   (c.graph_replaced, self._on_graph_replaced)])
        self._catch_up()

    def detach(self):
        """Stop observing the controller (called on close; safe to call twice)."""
        self._connections.disconnect_all()

    def closeEvent(self, event):  # noqa: N802 (Qt name)
        self.detach()
        super().closeEvent(event)

    def showEvent(self, event):  # noqa: N802 (Qt name)
        self.attach()  # a panel closed and shown again observes again
        super().showEvent(event)

    def changeEvent(self, event):  # noqa: N802 (Qt name)
        # palette changes arrive while the panel is still being built: only an observing one redraws
        if event.type() == event.Type.PaletteChange and getattr(self, "_connections", None):
            self._on_palette_changed()
        super().changeEvent(event)
