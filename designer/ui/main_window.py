"""The main window: palette left, canvas centre, inspector right, summary below,
totals in the status bar; the menus; documents (new, open, save, recent,
presets, recovery) and exports.

Nothing imported here imports torch: exports and weight files import it when
they are used, so the window is on screen first.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QByteArray, QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QInputDialog, QMainWindow, QMessageBox,
                               QStackedWidget, QVBoxLayout, QWidget)

from designer.graph.errors import GraphError
from designer.graph.fileformat import load, save
from designer.graph.model import CompositeDef, Graph
from designer.graph.presets import PRESET_DIR, resolve

from . import diagram, model_export, recovery
from .block_library import BlockLibrary
from .canvas.layout import layout_ops, needs_layout
from .canvas.scene import CanvasScene
from .canvas.view import CanvasView
from .canvas_header import CanvasHeader
from .dialogs import HistoryDialog, ShortcutsDialog
from .document import DocumentController
from .feature_maps import FeatureMapPanel
from .inspector import InspectorPanel
from .palette import PaletteWidget
from .settings import settings
from .start_screen import StartScreen
from .status_bar import DocumentStatus
from .summary_panel import SummaryPanel

APP_NAME = "Network Designer"
MAX_RECENT = 10
TEMPLATE_ASPECT = 1.5   # the canvas of the default window, width / height
DOCUMENT_FILTER = "Network documents (*.json);;Weights with their drawing (*.pth *.pt);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, controller: DocumentController | None = None, remember: bool = True, parent=None):
        super().__init__(parent)
        self.remember = remember   # False: neither read nor write the saved layout (screenshots)
        self.controller = controller or DocumentController(parent=self)
        self.library = BlockLibrary()
        self.exporter = model_export.ModelExporter(self)
        self.exporter.finished.connect(lambda p: self.statusBar().showMessage(f"Exported {p}", 10000))
        self.exporter.failed.connect(lambda m: self.show_problem("Export failed", m))
        self.setObjectName("MainWindow")
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.scene = CanvasScene(self.controller, self)
        self.view = CanvasView(self.scene)
        self.view.library = self.library
        self.view.context_actions = self._context_actions
        self.view.files_dropped.connect(lambda files: self.open_source(files[0]))
        self.header = CanvasHeader(self.controller, self.view)
        editor = QWidget()
        column = QVBoxLayout(editor)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.header)
        column.addWidget(self.view, 1)
        self.start = StartScreen()
        self.start.new_requested.connect(self.new_document)
        self.start.open_requested.connect(self.open_dialog)
        self.start.open_path.connect(self.open_source)
        self.start.preset_chosen.connect(self.open_source)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start)
        self.stack.addWidget(editor)
        self.editor_page = editor
        self.setCentralWidget(self.stack)

        self.palette = PaletteWidget(self.controller, self.library)
        self.palette.block_activated.connect(self.add_from_palette)
        self.palette.remove_from_library.connect(self.remove_from_library)
        self.docks: dict[str, QDockWidget] = {}
        self._dock("palette", "Blocks", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("inspector", "Inspector", InspectorPanel(self.controller), Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("summary", "Summary", SummaryPanel(self.controller), Qt.DockWidgetArea.BottomDockWidgetArea)
        # idle until shown: no torch import and no thread before the user asks for maps
        self._dock("feature_maps", "Feature Maps", FeatureMapPanel(self.controller),
                   Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["summary"], self.docks["feature_maps"])
        self.docks["feature_maps"].hide()  # View ▸ Feature Maps opens it
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.status = DocumentStatus(self.controller, self.statusBar())
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus()
        from .training import install as install_training  # Train dock, Training menu, Export Trained Model
        self.training = install_training(self)

        self.controller.modified_changed.connect(self._update_title)
        self.controller.path_changed.connect(self._update_title)
        self.controller.graph_replaced.connect(self._update_title)
        self.controller.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.controller.selection_changed.connect(self._update_actions)
        self.controller.scope_changed.connect(self._update_actions)
        self.autosave = recovery.Autosave(self.controller, parent=self)

        self.resize(1440, 900)
        if "summary" in self.docks:  # the canvas gets most of the height
            self.resizeDocks([self.docks["summary"]], [270], Qt.Orientation.Vertical)
        self._default_state = self.saveState()
        if self.remember:
            self._restore_layout()
        self._editor_state = self.saveState()   # the docks as the editor page wants them
        self.show_start()
        self._update_title()
        self._update_actions()

    # ---- construction ---------------------------------------------------------------------------
    def _dock(self, key: str, title: str, widget: QWidget, area):
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        if key == "palette":
            dock.setMinimumWidth(200)
            self.resizeDocks([dock], [220], Qt.Orientation.Horizontal)
        elif key == "inspector":
            dock.setMinimumWidth(280)
            self.resizeDocks([dock], [330], Qt.Orientation.Horizontal)
        elif key == "summary":
            self.resizeDocks([dock], [230], Qt.Orientation.Vertical)

    def _action(self, key: str, text: str, slot, shortcut=None, canvas: bool = False, tip: str = "") -> QAction:
        """An action; `canvas` ones only fire while the canvas has the focus, so that keys like
        Delete or F keep working in the inspector's fields."""
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        if canvas:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        self.actions[key] = action
        return action

    def _build_actions(self):
        K = QKeySequence.StandardKey
        v = self.view
        a = self._action
        a("new", "&New", self.new_document, K.New)
        a("new_preset", "New from &Preset…", self.new_from_preset, "Ctrl+Shift+N",
          tip="Start from one of the lecture's networks")
        a("open", "&Open…", self.open_dialog, K.Open)
        a("save", "&Save", self.save, K.Save)
        a("save_as", "Save &As…", self.save_as, K.SaveAs if QKeySequence(K.SaveAs).count() else "Ctrl+Shift+S")
        a("revert", "&Revert to Saved", self.revert)
        a("close", "&Close", self.close_document, K.Close)
        a("quit", "&Quit", self.close, K.Quit if QKeySequence(K.Quit).count() else "Ctrl+Q")
        a("png", "Diagram as &PNG…", lambda: self.export_diagram("png"))
        a("svg", "Diagram as &SVG…", lambda: self.export_diagram("svg"))
        for fmt in model_export.available_formats():
            a("export_" + fmt.format, fmt.label, lambda f=fmt: self.export_model(f))

        undo = self.controller.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(QKeySequence.keyBindings(K.Undo))
        redo = self.controller.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts(QKeySequence.keyBindings(K.Redo))
        self.actions["undo"], self.actions["redo"] = undo, redo
        a("cut", "Cu&t", v.cut, K.Cut, canvas=True)
        a("copy", "&Copy", v.copy, K.Copy, canvas=True)
        a("paste", "&Paste", v.paste, K.Paste, canvas=True)
        a("duplicate", "D&uplicate", v.duplicate, "Ctrl+D", canvas=True)
        a("delete", "&Delete", v.delete_selection, [QKeySequence(K.Delete), QKeySequence("Backspace")], canvas=True)
        a("select_all", "Select &All", v.select_all, K.SelectAll, canvas=True)
        a("nudge_left", "Left", lambda: v.nudge(-10, 0), "Left", canvas=True)
        a("nudge_right", "Right", lambda: v.nudge(10, 0), "Right", canvas=True)
        a("nudge_up", "Up", lambda: v.nudge(0, -10), "Up", canvas=True)
        a("nudge_down", "Down", lambda: v.nudge(0, 10), "Down", canvas=True)
        a("history", "&History…", self.show_history, "Ctrl+Shift+H")

        a("fit", "&Fit to View", lambda: v.fit(), "F", canvas=True)
        a("fit_selection", "Fit &Selection", lambda: v.fit(self.scene.selected_ids() or None), "Shift+F",
          canvas=True)
        a("zoom_in", "Zoom &In", lambda: v.zoom_by(1.25, False), K.ZoomIn)
        a("zoom_out", "Zoom &Out", lambda: v.zoom_by(0.8, False), K.ZoomOut)
        a("zoom_reset", "&Actual Size", v.zoom_reset, "Ctrl+0")
        a("reset_layout", "&Reset Window Layout", self.reset_layout)

        a("quick_add", "&Add Block…", v.quick_add, "Tab", canvas=True,
          tip="Search for a block and add it at the cursor (fed from the selected block)")
        a("open_inside", "&Open Inside", self.open_inside, "Return", canvas=True)
        a("go_up", "Go &Up / Cancel", v.escape, "Escape", canvas=True,
          tip="Leave the composite you are looking into, cancel a link, or clear the selection")
        a("group", "&Group into Composite…", v.group_selection, "Ctrl+G", canvas=True)
        a("ungroup", "&Ungroup", v.ungroup_selection, "Ctrl+Shift+G", canvas=True)
        a("freeze", "&Freeze / Unfreeze", v.toggle_frozen, "Ctrl+Shift+F", canvas=True,
          tip="Frozen blocks keep their weights during training")
        a("layout", "Auto-&Layout", v.auto_layout, "Ctrl+L", canvas=True)
        a("save_block", "&Save to My Blocks…", self.save_to_library)

        a("playground", "&Convolution Playground", self.open_playground)
        a("filters", "&Filters of Selected Conv…", self.open_filters, "Ctrl+Shift+K",
          tip="Show the kernels of the selected Conv2d as images")
        a("explain", "&Explain Selected Block…", self.open_explain, "Shift+F1",
          tip="Walk from the input shape to the output shape, with the numbers")
        a("shortcuts", "&Keyboard Shortcuts", self.show_shortcuts, [QKeySequence(K.HelpContents), "Ctrl+/"])
        a("about", "&About Network Designer", self.about)

    def _build_menus(self):
        act = self.actions
        bar = self.menuBar()
        m = bar.addMenu("&File")
        for key in ("new", "new_preset", "open"):
            m.addAction(act[key])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addSeparator()
        for key in ("save", "save_as", "revert"):
            m.addAction(act[key])
        m.addSeparator()
        export = m.addMenu("&Export")
        models = [k for k in act if k.startswith("export_")]
        for key in models:
            export.addAction(act[key])
        if models:
            export.addSeparator()
        export.addAction(act["png"])
        export.addAction(act["svg"])
        m.addSeparator()
        m.addAction(act["close"])
        m.addAction(act["quit"])

        m = bar.addMenu("&Edit")
        m.addAction(act["undo"])
        m.addAction(act["redo"])
        m.addSeparator()
        for key in ("cut", "copy", "paste", "duplicate", "delete", "select_all"):
            m.addAction(act[key])
        nudge = m.addMenu("&Nudge Selection")
        for key in ("nudge_left", "nudge_right", "nudge_up", "nudge_down"):
            nudge.addAction(act[key])
        m.addSeparator()
        m.addAction(act["history"])

        m = bar.addMenu("&View")
        for key in ("fit", "fit_selection", "zoom_in", "zoom_out", "zoom_reset"):
            m.addAction(act[key])
        m.addSeparator()
        for dock in self.docks.values():
            m.addAction(dock.toggleViewAction())
        m.addAction(act["reset_layout"])
        m.addSeparator()
        m.addAction(act["filters"])

        m = bar.addMenu("&Block")
        for key in ("quick_add", "open_inside", "go_up"):
            m.addAction(act[key])
        m.addSeparator()
        for key in ("group", "ungroup", "save_block"):
            m.addAction(act[key])
        m.addSeparator()
        m.addAction(act["freeze"])
        m.addAction(act["layout"])

        m = bar.addMenu("&Tools")
        m.addAction(act["playground"])
        m = bar.addMenu("&Help")
        m.addAction(act["explain"])
        m.addAction(act["shortcuts"])
        m.addAction(act["about"])

    def _context_actions(self, item):
        act = self.actions
        if item is None:
            return [act["quick_add"], act["paste"], None, act["layout"], act["fit"]]
        entries = []
        if item.is_composite:
            entries.append(act["open_inside"])
        entries += [act["cut"], act["copy"], act["duplicate"], act["delete"], None,
                    act["group"], act["ungroup"]]
        if item.node.type in self.scene.graph.composites:
            entries.append(act["save_block"])
        entries += [None, act["freeze"]]
        if item.node.type == "Conv2d":
            entries.append(act["filters"])
        entries.append(act["explain"])
        return entries

    # ---- state of the actions and the title -----------------------------------------------------
    def _update_title(self, *_):
        self.setWindowTitle(f"{self.controller.title}[*] — {APP_NAME}")
        self.setWindowModified(self.controller.modified)

    def _update_actions(self, *_):
        editor = not self.on_start_page()
        scope = self.scene.scope
        editable = editor and (scope is None or scope.editable)
        selection = self.scene.selected_ids() if editor else []
        root = scope is None or scope.is_root
        for key in ("cut", "paste", "duplicate", "delete", "quick_add", "layout", "freeze",
                    "nudge_left", "nudge_right", "nudge_up", "nudge_down"):
            self.actions[key].setEnabled(editable)
        for key in ("group", "ungroup"):
            self.actions[key].setEnabled(editable and root)
        graph = self.controller.graph
        single = graph.nodes.get(selection[0]) if root and len(selection) == 1 else None
        self.actions["save_block"].setEnabled(single is not None and single.type in graph.composites)
        self.actions["explain"].setEnabled(single is not None)
        self.actions["filters"].setEnabled(single is not None and single.type == "Conv2d")
        for key in ("save", "save_as", "close", "png", "svg", "fit", "fit_selection", "copy", "select_all"):
            self.actions[key].setEnabled(editor)
        self.actions["revert"].setEnabled(editor and self.controller.path is not None)
        for key in [k for k in self.actions if k.startswith("export_")]:
            self.actions[key].setEnabled(editor)

    # ---- pages ----------------------------------------------------------------------------------
    def on_start_page(self) -> bool:
        return self.stack.currentWidget() is self.start

    def show_start(self):
        """The start screen takes the whole window: the panels have nothing to show yet."""
        if not self.on_start_page():
            self._editor_state = self.saveState()
        self.start.set_recent(self.recent_files())
        self.stack.setCurrentWidget(self.start)
        for dock in self.docks.values():
            dock.hide()
        self.status.set_visible(False)
        self._update_actions()

    def show_editor(self, hint: bool = True):
        """The canvas page; hint=False hides the empty canvas's hint (a document is on its way)."""
        self.view.show_hint = hint
        if self.on_start_page():
            self.stack.setCurrentWidget(self.editor_page)
            self.restoreState(self._editor_state)
            self.status.set_visible(True)
        self._update_actions()

    # ---- documents ------------------------------------------------------------------------------
    def set_document(self, graph: Graph, path: Path | None, recovered: bool = False):
        self.controller.set_graph(graph, path)
        self.view.show_hint = True
        if recovered:
            self.controller.undo_stack.resetClean()   # unsaved work: the title shows *
        self.show_editor()
        self.view.setFocus()
        QTimer.singleShot(0, self.view.fit)
        if path is not None:
            self.add_recent(path)

    def load_source(self, source) -> tuple[Graph, Path | None]:
        """A graph and the path it should be saved to (None for presets: they are templates)."""
        path = resolve(source)
        if path.suffix.lower() in (".pt", ".pth"):
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                from designer.compile.checkpoint import load_graph_with_weights
                graph = load_graph_with_weights(path)
            finally:
                QApplication.restoreOverrideCursor()
            _tidy(graph)
            return graph, None
        graph = load(path)
        if path.resolve().parent == PRESET_DIR.resolve():
            _tidy(graph)
            return graph, None
        return graph, path

    def open_source(self, source, ask: bool = True) -> bool:
        """Open a file or a preset name; a problem is shown to the person, never raised."""
        if ask and not self.maybe_save():
            return False
        try:
            graph, path = self.load_source(source)
        except Exception as exc:  # noqa: BLE001 - whatever the file holds, the person gets one message
            self.show_problem("Cannot open", problem_text(source, exc))
            return False
        self.set_document(graph, path)
        what = graph.meta.get("title") or (path.name if path else str(source))
        self.statusBar().showMessage(f"Opened {what}", 5000)
        return True

    def new_document(self):
        if self.maybe_save():
            self.set_document(Graph(), None)

    def new_from_preset(self):
        from .preset_gallery import PresetGalleryDialog
        dialog = PresetGalleryDialog(self)
        if dialog.exec() and dialog.chosen_name():
            self.open_source(dialog.chosen_name())

    def open_dialog(self):
        start = str(self.controller.path.parent) if self.controller.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open Network", start, DOCUMENT_FILTER)
        if path:
            self.open_source(path)

    def save(self) -> bool:
        if self.controller.path is None:
            return self.save_as()
        return self._write(self.controller.path)

    def save_as(self) -> bool:
        c = self.controller
        suggestion = str(c.path) if c.path else str(Path.home() / (_file_stem(c.title) + ".json"))
        path, _ = QFileDialog.getSaveFileName(self, "Save Network As", suggestion, "Network documents (*.json)")
        if not path:
            return False
        path = Path(path)
        if path.suffix.lower() != ".json":
            path = path.with_suffix(path.suffix + ".json") if path.suffix else path.with_suffix(".json")
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            save(self.controller.graph, path)
        except (OSError, GraphError, ValueError) as exc:
            self.show_problem("Cannot save", f"{path}: {exc}")
            return False
        self.controller.mark_saved(path)
        self.add_recent(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def revert(self):
        c = self.controller
        if c.path is None:
            return
        if c.modified and QMessageBox.question(
                self, "Revert", f"Throw away your changes to {c.path.name} and reload it?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Discard:
            return
        self.open_source(str(c.path), ask=False)

    def close_document(self):
        if self.maybe_save():
            self.controller.set_graph(Graph(), None)
            self.show_start()

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, or the person said so)."""
        c = self.controller
        if not c.modified:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {c.title} first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            self.autosave.discard()
            return True
        return False

    def offer_recovery(self) -> bool:
        """After a crash: offer back the newest unsaved work. True if it was taken."""
        found = recovery.pending()
        if not found:
            return False
        newest = found[0]
        when = datetime.fromtimestamp(newest.time).strftime("%d %b %H:%M")
        answer = QMessageBox.question(
            self, "Recover unsaved work",
            f"Network Designer closed without saving your changes to {newest.title} ({when}).\n"
            "Recover them?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        taken = False
        if answer == QMessageBox.StandardButton.Yes:
            try:
                self.set_document(newest.load(), newest.path, recovered=True)
                taken = True
            except (GraphError, OSError, ValueError, KeyError) as exc:
                self.show_problem("Cannot recover", str(exc))
        for r in found:
            r.discard()
        return taken

    # ---- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        if not self.remember:
            return []
        value = settings().value("recent", [])
        files = [value] if isinstance(value, str) else list(value or [])
        return [f for f in files if Path(f).is_file()][:MAX_RECENT]

    def add_recent(self, path):
        if not self.remember:
            return
        path = str(Path(path).resolve())
        files = [path] + [f for f in self.recent_files() if f != path]
        settings().setValue("recent", files[:MAX_RECENT])

    def _fill_recent(self):
        self.recent_menu.clear()
        files = self.recent_files()
        for f in files:
            self.recent_menu.addAction(Path(f).name, lambda p=f: self.open_source(p)).setToolTip(f)
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu", lambda: settings().setValue("recent", []))
        else:
            self.recent_menu.addAction("No recent files").setEnabled(False)

    # ---- blocks ---------------------------------------------------------------------------------
    def add_from_palette(self, payload: str):
        if self.on_start_page():
            self.set_document(Graph(), None)
        pos = self.view.view_centre()
        taken = [item.pos() for item in self.scene.nodes.values()]
        while any((p - pos).manhattanLength() < 40 for p in taken):
            pos += QPointF(0, 110)
        self.view.add_block(payload, pos)

    def open_inside(self):
        ids = [i for i in self.scene.selected_ids() if self.scene.nodes[i].is_composite]
        if len(ids) == 1:
            self.view.open_composite(ids[0])

    def save_to_library(self):
        ids = self.scene.selected_ids()
        graph = self.controller.graph
        if len(ids) != 1 or graph.nodes[ids[0]].type not in graph.composites:
            self.statusBar().showMessage("Select one of your composite blocks to save it", 6000)
            return
        definition = graph.composites[graph.nodes[ids[0]].type]
        doc, ok = QInputDialog.getText(self, "Save to My Blocks",
                                       f"A line saying what {definition.name} does (optional):",
                                       text=definition.doc)
        if not ok:
            return
        if definition.name in self.library.blocks and QMessageBox.question(
                self, "Save to My Blocks", f"Replace {definition.name} in your library?") \
                != QMessageBox.StandardButton.Yes:
            return
        try:
            self.library.put(CompositeDef(definition.name, definition.graph, doc.strip()))
        except (OSError, GraphError) as exc:
            self.show_problem("Cannot save the block", str(exc))
            return
        self.palette.refresh_user_blocks()
        self.statusBar().showMessage(f"{definition.name} is in My blocks: drag it into any document", 8000)

    def remove_from_library(self, name: str):
        if QMessageBox.question(self, "My blocks", f"Remove {name} from your block library?") \
                == QMessageBox.StandardButton.Yes:
            try:
                self.library.remove(name)
            except (OSError, GraphError) as exc:
                self.show_problem("Cannot change the library", str(exc))
            self.palette.refresh_user_blocks()

    # ---- export ---------------------------------------------------------------------------------
    def _export_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        c = self.controller
        base = (c.path.parent / c.path.stem) if c.path else Path.home() / _file_stem(c.title)
        path, _ = QFileDialog.getSaveFileName(self, title, str(base) + suffix, file_filter)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)

    def export_model(self, fmt):
        graph = self.controller.graph
        if self.controller.analysis.errors:
            self.show_problem("Export", "Fix the errors first (the status bar lists them); "
                                        "a network with errors cannot be compiled.")
            return
        network = None
        nets = graph.networks()
        if len(nets) > 1 and fmt.format in ("torchscript", "onnx"):
            network, ok = QInputDialog.getItem(self, "Export", "Which network?", nets, 0, False)
            if not ok:
                return
        path = self._export_path("Export " + fmt.label.rstrip("…"), fmt.suffix, fmt.file_filter)
        if path is None:
            return
        self.statusBar().showMessage(f"Exporting {path.name}… (the window stays usable)")
        self.exporter.start(graph, path, fmt.format, network,
                            source=self.controller.path.name if self.controller.path else "")

    def export_diagram(self, kind: str):
        path = self._export_path(f"Export Diagram as {kind.upper()}", f".{kind}",
                                 "PNG image (*.png)" if kind == "png" else "SVG drawing (*.svg)")
        if path is None:
            return
        try:
            if kind == "png":
                diagram.save_png(self.scene, path)
            else:
                diagram.save_svg(self.scene, path, self.controller.title)
        except (OSError, ValueError) as exc:
            self.show_problem("Export", str(exc))
            return
        self.statusBar().showMessage(f"Saved the diagram to {path}", 8000)

    # ---- dialogs and tools ----------------------------------------------------------------------
    def show_problem(self, title: str, text: str):
        self.statusBar().showMessage(text.splitlines()[0] if text else title, 10000)
        QMessageBox.warning(self, title, text)

    def show_history(self):
        dialog = HistoryDialog(self.controller.undo_stack, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def show_shortcuts(self):
        ShortcutsDialog(self.menuBar(), self).exec()

    def open_playground(self):
        from .playground import open_playground
        open_playground(self)

    def _selected_node_id(self) -> str | None:
        ids = self.scene.selected_ids()
        return ids[0] if len(ids) == 1 and ids[0] in self.controller.graph.nodes else None

    def open_filters(self):
        node_id = self._selected_node_id()
        if node_id is not None:
            from .filters_view import open_filters
            open_filters(self.controller, node_id, self)

    def open_explain(self):
        node_id = self._selected_node_id()
        if node_id is not None:
            from .explain import open_explain
            open_explain(self.controller, node_id, self)

    def about(self):
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b><br>Design convolutional networks by wiring blocks; every shape "
                          "and parameter count live; compile to PyTorch, train, export.")

    # ---- layout memory --------------------------------------------------------------------------
    def _restore_layout(self):
        s = settings()
        geometry, state = s.value("window/geometry"), s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_layout(self):
        if self.remember:
            s = settings()
            s.setValue("window/geometry", self.saveGeometry())
            s.setValue("window/state", self._editor_state if self.on_start_page() else self.saveState())
            s.sync()

    def reset_layout(self):
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.show()
        self._editor_state = self.saveState()

    def apply_theme(self):
        """After the system switched between light and dark."""
        self.header.apply_theme()
        self.start.apply_theme()
        self.status.update(self.controller.analysis)
        for item in self.scene.items():
            item.update()
        self.view.viewport().update()

    # ---- window events --------------------------------------------------------------------------
    def closeEvent(self, event):
        if not self.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.autosave.stop()
        self.scene.detach()
        for dock in self.docks.values():
            detach = getattr(dock.widget(), "detach", None)
            if detach is not None:
                detach()
        self.controller.close()
        event.accept()

    def dragEnterEvent(self, event):
        if any(u.toLocalFile().lower().endswith((".json", ".pt", ".pth")) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.toLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_source(files[0])


def problem_text(source, exc: BaseException) -> str:
    """One message for a file that could not be opened; the model's own errors are written
    for people already, anything else is named by its kind."""
    text = str(exc) if isinstance(exc, (GraphError, OSError, ValueError)) else \
        f"unexpected problem ({type(exc).__name__}: {exc})"
    return text if str(source) in text else f"{source}: {text}"


def _file_stem(title: str) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in title).strip("_")
    return stem.lower() or "network"


def _tidy(graph: Graph):
    """A template (a preset, a graph from a weights file) is laid out afresh for this
    canvas when its drawing would not read well here (see layout.needs_layout)."""
    for g in [graph] + [d.graph for d in graph.composites.values()]:
        if needs_layout(g, TEMPLATE_ASPECT):
            for op in layout_ops(g, aspect=TEMPLATE_ASPECT):
                g.apply(op)
