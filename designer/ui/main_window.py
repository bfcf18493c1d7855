"""The main window: palette left, canvas centre, inspector right, summary below,
totals in the status bar; documents (new, open, save, recent, presets, recovery)
and exports.

The window does not decide its menus and docks itself: each part declares them
(window_contributions.py for the window's own, training/ for the Train panel; see
contributions.py) and the window assembles them. What it decides about files is in
document_files.py, without widgets; here are the dialogs and the widgets.

Nothing imported here imports torch: exports and weight files import it when
they are used, so the window is on screen first.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QByteArray, QPointF, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QInputDialog, QMainWindow, QMenu,
                               QMessageBox, QStackedWidget, QVBoxLayout, QWidget)

from designer.atomic import WriteFailed
from designer.document import Document, is_weights_file
from designer.graph.errors import GraphError, GraphFileError
from designer.graph.fileformat import save
from designer.graph.model import CompositeDef

from . import diagram, document_files, model_export, recovery, training, window_contributions
from .block_library import BlockLibrary
from .canvas.scene import CanvasScene
from .canvas.view import CanvasView
from .canvas_header import CanvasHeader
from .contributions import CloseHook, Contributions, arrange_docks, build_menus, dock_toggles, make_action, make_dock
from .dialogs import HistoryDialog, ShortcutsDialog
from .document import DocumentController
from .document_files import problem_text
from .palette import PaletteWidget
from .settings import settings
from .start_screen import StartScreen
from .status_bar import DocumentStatus
from .window_contributions import EditorState, context_entries, enabled_actions

APP_NAME = "Network Designer"
# the parts that declare menus, actions and docks, in the order their docks are added
PARTS = (window_contributions.contributions, training.contributions)


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
        self.status = DocumentStatus(self.controller, self.statusBar())

        self.contributions = Contributions()
        for part in PARTS:
            self.contributions.extend(part(self))
        self.docks: dict[str, QDockWidget] = {}
        self.actions: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self._assemble(self.contributions)

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

    # ---- assembly -------------------------------------------------------------------------------
    def _assemble(self, parts: Contributions):
        """The docks, actions and menus the parts declared."""
        for decl in parts.docks:
            self.docks[decl.key] = make_dock(self, decl)
        arrange_docks(self, parts.docks, self.docks)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        toggles = dock_toggles(parts.docks)
        for decl in toggles:
            self.actions[decl.id] = self.docks[decl.id.removeprefix("panel_")].toggleViewAction()
        for decl in parts.actions:
            self.actions[decl.id] = make_action(decl, self, canvas=self.view)
        self.menus = build_menus(self.menuBar(), parts.menus, [*parts.actions, *toggles], self.actions)

    @property
    def close_hooks(self) -> list[CloseHook]:
        return self.contributions.close_hooks

    @property
    def training_panel(self):
        """The Train panel (the one the Train dock holds)."""
        return training.panel_in(self.docks[training.DOCK_KEY])   # made now if it was not yet

    def _context_actions(self, item):
        return context_entries(self.actions, item, self.scene.graph.composites)

    # ---- state of the actions and the title -----------------------------------------------------
    def _update_title(self, *_):
        self.setWindowTitle(f"{self.controller.title}[*] — {APP_NAME}")
        self.setWindowModified(self.controller.modified)

    def editor_state(self) -> EditorState:
        editor = not self.on_start_page()
        scope = self.scene.scope
        root = scope is None or scope.is_root
        selection = self.scene.selected_ids() if editor else []
        graph = self.controller.graph
        single = graph.nodes.get(selection[0]) if root and len(selection) == 1 else None
        return EditorState(editor=editor, editable=scope is None or scope.editable, root=root,
                           single_type=single.type if single is not None else None,
                           single_is_composite=single is not None and single.type in graph.composites,
                           has_path=self.controller.path is not None)

    def _update_actions(self, *_):
        for key, enabled in enabled_actions(self.editor_state(), self.actions).items():
            self.actions[key].setEnabled(enabled)

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
    def set_document(self, document: Document, recovered: bool = False):
        self.controller.set_document(document)
        self.view.show_hint = True
        if recovered:
            self.controller.history.reset_clean()   # unsaved work: the title shows *
        self.show_editor()
        self.view.setFocus()
        QTimer.singleShot(0, self.view.fit)
        if document.path is not None:
            self.add_recent(document.path)

    def load_source(self, source) -> Document:
        """The document of a file or preset; its path is None for templates (presets and
        weights files), which are laid out afresh for this canvas (document_files)."""
        weights_file = is_weights_file(source)
        if weights_file:   # reading tensors takes a moment
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return document_files.load_document(source)
        finally:
            if weights_file:
                QApplication.restoreOverrideCursor()

    def open_source(self, source, ask: bool = True) -> bool:
        """Open a file or a preset name; a problem is shown to the person, never raised."""
        if ask and not self.maybe_save():
            return False
        try:
            document = self.load_source(source)
        except Exception as exc:  # noqa: BLE001 - whatever the file holds, the person gets one message
            self.show_problem("Cannot open", problem_text(source, exc))
            return False
        self.set_document(document)
        self.statusBar().showMessage(document_files.opened_message(document, source), 5000)
        return True

    def new_document(self):
        if self.maybe_save():
            self.set_document(Document())

    def new_from_preset(self):
        from .preset_gallery import PresetGalleryDialog
        dialog = PresetGalleryDialog(self)
        if dialog.exec() and dialog.chosen_name():
            if self.open_source(dialog.chosen_name()) and dialog.with_pretrained():
                self.actions[training.PRETRAINED_ACTION].trigger()   # the Train panel loads and reports

    def open_dialog(self):
        start = str(self.controller.path.parent) if self.controller.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open Network", start, document_files.DOCUMENT_FILTER)
        if path:
            self.open_source(path)

    def save(self) -> bool:
        if self.controller.path is None:
            return self.save_as()
        return self._write(self.controller.path)

    def save_as(self) -> bool:
        c = self.controller
        suggestion = document_files.save_suggestion(c.path, c.title, Path.home())
        path, _ = QFileDialog.getSaveFileName(self, "Save Network As", str(suggestion), document_files.SAVE_FILTER)
        if not path:
            return False
        return self._write(document_files.save_target(path))

    def _write(self, path: Path) -> bool:
        try:
            save(self.controller.graph, path)
        except (OSError, GraphError, ValueError) as exc:   # the document stays modified
            named = isinstance(exc, (WriteFailed, GraphFileError))   # their sentence names the file already
            self.show_problem("Cannot save", str(exc) if named else f"{path}: {exc}")
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
            self.controller.set_document(Document())
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
                self.set_document(Document(newest.load(), path=newest.path), recovered=True)
                taken = True
            except (GraphError, OSError, ValueError, KeyError) as exc:
                self.show_problem("Cannot recover", str(exc))
        for r in found:
            r.discard()
        return taken

    # ---- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return document_files.recent_list(settings().value("recent", [])) if self.remember else []

    def add_recent(self, path):
        if self.remember:
            settings().setValue("recent", document_files.with_recent(self.recent_files(), path))

    def fill_recent_menu(self, menu: QMenu):
        """File ▸ Open Recent, filled each time it opens."""
        menu.clear()
        files = self.recent_files()
        for f in files:
            menu.addAction(Path(f).name, lambda p=f: self.open_source(p)).setToolTip(f)
        if files:
            menu.addSeparator()
            menu.addAction("Clear Menu", lambda: settings().setValue("recent", []))
        else:
            menu.addAction("No recent files").setEnabled(False)

    # ---- blocks ---------------------------------------------------------------------------------
    def add_from_palette(self, payload: str):
        if self.on_start_page():
            self.set_document(Document())
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
        base = document_files.export_base(c.path, c.title, Path.home())
        path, _ = QFileDialog.getSaveFileName(self, title, str(base) + suffix, file_filter)
        return document_files.export_target(path, suffix) if path else None

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
        self.exporter.start(self.controller.document, path, fmt.format, network,
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
        dialog = HistoryDialog(self.controller, self)
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
        self.scene.changed_drawing()   # the far layer and the minimap keep colours: collected again
        self.view.viewport().update()

    # ---- window events --------------------------------------------------------------------------
    def closeEvent(self, event):
        # the parts first (a run asks whether to stop), then the unsaved changes
        if not all(hook.may_close() for hook in self.close_hooks) or not self.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.autosave.stop()
        self.scene.detach()
        for hook in self.close_hooks:   # the window really closes: the panels stop, a run ends
            hook.closed()
        self.controller.close()
        event.accept()

    def dragEnterEvent(self, event):
        if any(document_files.is_openable(u.toLocalFile()) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.toLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_source(files[0])
