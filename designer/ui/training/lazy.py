"""The Train panel made when first needed (issue 12: the window appears before pyqtgraph,
numpy and torch are imported).

Until someone brings the Train tab to the front, uses one of its actions or asks for the
panel (`panel_in`), the dock holds a light placeholder and the Training menu holds actions
standing in for the panel's: Start (enabled when the document has blocks), Pause and Stop
(disabled: no run can exist yet), Open Run Folder (it brings the panel, whose runs list
shows the runs), the ImageNet weights (enabled for torchvision's networks) and the export
formats (the panel is made when the Export Trained Model submenu opens). Once the panel
exists the stand-ins mirror its actions (text, enabled, tips) and trigger them; they keep
the keyboard shortcuts, so that each key has one owner.
"""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget

from designer.graph.presets import torchvision_model


class _Placeholder(QWidget):
    """What the Train dock holds until the panel is made (see LazyPanel)."""

    def __init__(self, loader):
        super().__init__()
        self.loader = loader


class LazyPanel:
    """The Train panel, made the first time it is needed: its tab brought to the front, one of
    its actions used, or asked for (`panel_in`). Until then the dock holds a light placeholder
    and the menus hold actions standing in for the panel's, so that what the panel imports
    (pyqtgraph, numpy) and starts (the dataset listing, which imports torch) waits until
    someone trains; once the panel exists they mirror its actions (text, enabled) and
    trigger them."""

    def __init__(self, window):
        self.window = window
        self.controller = window.controller
        self.panel = None
        self.placeholder = _Placeholder(self)
        self.stand_ins: dict[str, QAction] = {}
        self.controller.analysis_changed.connect(self._update)
        self.controller.graph_replaced.connect(self._update)

    # ---- the stand-ins ---------------------------------------------------------------------------
    def stand_in(self, key: str, text: str, shortcut=None, tip: str = "", enabled: bool = True):
        """An ActionDecl factory: the action standing for the panel's action `key`."""
        def make(parent) -> QAction:
            action = QAction(text, parent)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            if tip:
                action.setStatusTip(tip)
                action.setToolTip(tip)
            action.setEnabled(enabled)
            action.triggered.connect(lambda _checked=False: self._forward(key))
            self.stand_ins[key] = action
            self._update()
            return action
        return make

    def _update(self, *_):
        """Before the panel exists: what can be asked of it (it has no run yet)."""
        from . import PRETRAINED_ACTION
        if self.panel is not None:
            return
        graph = self.controller.graph
        if "train_start" in self.stand_ins:
            self.stand_ins["train_start"].setEnabled(bool(graph.nodes))
        if PRETRAINED_ACTION in self.stand_ins:
            self.stand_ins[PRETRAINED_ACTION].setEnabled(torchvision_model(graph) is not None)

    def _forward(self, key: str) -> None:
        panel = self.get()
        real = self._actions(panel)[key]
        if real.isEnabled():
            real.trigger()
        else:
            panel.reveal()   # Open Run Folder with no run shown: the runs are in the panel

    @staticmethod
    def _actions(panel) -> dict[str, QAction]:
        from . import PRETRAINED_ACTION
        actions = {"train_start": panel.start_action, "train_pause": panel.pause_action,
                   "train_stop": panel.stop_action, "train_folder": panel.open_folder_action,
                   PRETRAINED_ACTION: panel.finetune.pretrained_action}
        actions.update({f"train_export_{i}": a for i, a in enumerate(panel.export_actions)})
        return actions

    # ---- the panel -------------------------------------------------------------------------------
    def get(self):
        if self.panel is None:
            from .panel import TrainingPanel
            panel = self.panel = TrainingPanel(self.controller, parent=self.window)
            for key, real in self._actions(panel).items():
                stand_in = self.stand_ins.get(key)
                if stand_in is not None:
                    real.setShortcut(QKeySequence())   # the stand-in keeps the key: one owner
                    _mirror(real, stand_in)
            dock = self.placeholder.parentWidget()
            if isinstance(dock, QDockWidget):
                panel.setMinimumHeight(self.placeholder.minimumHeight())
                dock.setWidget(panel)
                self.placeholder.deleteLater()
        return self.panel

    def on_front(self) -> None:
        self.get().on_brought_to_front()

    def may_close(self) -> bool:
        return self.panel is None or self.panel.confirm_close()

    def closed(self) -> None:
        if self.panel is not None:
            self.panel.shutdown()


def _mirror(real: QAction, stand_in: QAction) -> None:
    def copy():
        stand_in.setText(real.text())
        stand_in.setEnabled(real.isEnabled())
        stand_in.setToolTip(real.toolTip())
        stand_in.setStatusTip(real.statusTip())
    real.changed.connect(copy)
    copy()


def panel_in(dock):
    """The Train panel in its dock, made now if it was not yet."""
    widget = dock.widget()
    return widget.loader.get() if isinstance(widget, _Placeholder) else widget
