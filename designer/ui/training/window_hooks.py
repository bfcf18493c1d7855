"""How the training panel joins the main window: a dock, menu entries, and a guard
that ends the run when the window closes (the worker is a separate process)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMenu

from .panel import TrainingPanel

DOCK_KEY = "training"


def install_into(window) -> TrainingPanel:
    panel = TrainingPanel(window.controller, parent=window)
    dock = QDockWidget("Train", window)
    dock.setObjectName(f"dock_{DOCK_KEY}")
    dock.setWidget(panel)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    # a tabbed dock brought to the front gets no showEvent: start the lazy probes from here
    dock.visibilityChanged.connect(lambda visible: visible and QTimer.singleShot(0, panel.on_brought_to_front))
    # tabbed with the summary, the panel must not make the bottom area tall while it is out of
    # sight; brought to the front it takes the height it needs
    panel.setMinimumHeight(200)
    dock.visibilityChanged.connect(
        lambda visible: visible and dock.height() < 480 and not dock.isFloating()
        and window.resizeDocks([dock], [520], Qt.Orientation.Vertical))
    # Called while the window is being built (not shown yet), the dock joins the layout the
    # window saves for its editor page; called on a start page already on screen, it waits
    # hidden until Start or View ▸ Train Panel asks for it.
    late_on_start_page = window.isVisible() and window.on_start_page()
    summary = getattr(window, "docks", {}).get("summary")
    if summary is not None and not late_on_start_page:
        window.tabifyDockWidget(summary, dock)
        summary.raise_()
    if hasattr(window, "docks"):
        window.docks[DOCK_KEY] = dock
    if late_on_start_page:
        dock.hide()

    show_action = dock.toggleViewAction()
    show_action.setText("&Train Panel")

    bar = window.menuBar()
    training = QMenu("T&raining", window)
    training.addAction(panel.start_action)
    training.addAction(panel.pause_action)
    training.addAction(panel.stop_action)
    training.addSeparator()
    training.addAction(panel.open_folder_action)
    training.addAction(show_action)
    anchor = _menu(bar, "&Tools")
    bar.insertMenu(anchor.menuAction(), training) if anchor is not None else bar.addMenu(training)
    panel.training_menu = training

    file_menu = _menu(bar, "&File")
    if file_menu is not None and panel.export_actions:
        export = QMenu("Export &Trained Model", window)
        for action in panel.export_actions:
            export.addAction(action)
        before = next((a for a in file_menu.actions() if a.menu() is not None and a.text() == "&Export"), None)
        index = file_menu.actions().index(before) + 1 if before is not None else None
        following = file_menu.actions()[index] if index is not None and index < len(file_menu.actions()) else None
        file_menu.insertMenu(following, export) if following is not None else file_menu.addMenu(export)
        panel.export_menu = export
    view = _menu(bar, "&View")
    if view is not None:
        view.addAction(show_action)
    actions = getattr(window, "actions", None)
    if isinstance(actions, dict):
        actions.update({"train_start": panel.start_action, "train_pause": panel.pause_action,
                        "train_stop": panel.stop_action, "train_folder": panel.open_folder_action})
    for action in (panel.start_action, panel.pause_action, panel.stop_action):
        window.addAction(action)   # the shortcuts work wherever the focus is in the window

    guard = _CloseGuard(window, panel)
    window.installEventFilter(guard)
    panel.close_guard = guard
    window.training_panel = panel
    return panel


def _menu(bar, title: str) -> QMenu | None:
    for action in bar.actions():
        if action.menu() is not None and action.text() == title:
            return action.menu()
    return None


class _CloseGuard(QObject):
    """Asks before closing on a run; once the window is really closed, ends the run."""

    def __init__(self, window, panel: TrainingPanel):
        super().__init__(window)
        self.window = window
        self.panel = panel

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            if not self.panel.confirm_close():
                event.ignore()
                return True
            # the window may still refuse (unsaved changes): end the run only once it is gone
            QTimer.singleShot(0, self._after_close)
        return False

    def _after_close(self) -> None:
        if not self.window.isVisible():
            self.panel.shutdown()
