"""The main window's own parts, declared like any panel's (see contributions.py): the
File, Edit, View, Block, Tools and Help menus with their actions, and the Blocks,
Inspector, Summary and Feature Maps docks. Also which actions are enabled in which
state of the editor (`enabled_actions`, no widgets), and the canvas's context menu.

Menu ids other parts may place entries in: "file" (groups "1_open", "2_save",
"3_export", "4_close"), "file.export", "edit", "view" (group "2_panels" holds the panels'
toggles), "block", "tools", "help". Top-level menus are ordered 10, 20, … so that a
panel's menu can go between two (the Training menu is 45: after Block, before Tools).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from . import model_export
from .contributions import CANVAS, ActionDecl, CloseHook, Contributions, DockDecl, MenuDecl, Place
from .inspector import InspectorPanel
from .summary_panel import SummaryPanel

K = QKeySequence.StandardKey
LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea

MENUS = [
    MenuDecl("file", "&File", order=10),
    MenuDecl("edit", "&Edit", order=20),
    MenuDecl("view", "&View", order=30),
    MenuDecl("block", "&Block", order=40),
    MenuDecl("tools", "&Tools", order=50),
    MenuDecl("help", "&Help", order=60),
    MenuDecl("file.export", "&Export", parent="file", group="3_export", order=1),
    MenuDecl("edit.nudge", "&Nudge Selection", parent="edit", group="2_clipboard", order=7),
]


def _standard_or(key: QKeySequence.StandardKey, fallback: str):
    """A standard key, or `fallback` where this platform binds none to it."""
    return key if QKeySequence(key).count() else fallback


def contributions(window) -> Contributions:
    """The window's own menus, actions and docks. `window` is the MainWindow being built:
    its canvas view, scene, controller and palette exist; the callbacks are its slots."""
    v = window.view
    c = window.controller
    recent = MenuDecl("file.recent", "Open &Recent", parent="file", group="1_open", order=4,
                      on_show=window.fill_recent_menu)

    def at(menu: str, group: str, order: float) -> tuple[Place, ...]:
        return (Place(menu, group, order),)

    def act(key, title, callback, shortcut=None, *, where, canvas=False, tip=""):
        return ActionDecl(key, title, callback, shortcut, tip, where, CANVAS if canvas else "window")

    actions = [
        act("new", "&New", window.new_document, K.New, where=at("file", "1_open", 1)),
        act("new_preset", "New from &Preset…", window.new_from_preset, "Ctrl+Shift+N",
            where=at("file", "1_open", 2), tip="Start from one of the lecture's networks"),
        act("open", "&Open…", window.open_dialog, K.Open, where=at("file", "1_open", 3)),
        act("import", "&Import…", lambda: _import(window), where=at("file", "1_open", 3.5),
            tip="Bring a network in: a torchvision model, a Python module's class, an .onnx or .pt2 file"),
        act("save", "&Save", window.save, K.Save, where=at("file", "2_save", 1)),
        act("save_as", "Save &As…", window.save_as, _standard_or(K.SaveAs, "Ctrl+Shift+S"),
            where=at("file", "2_save", 2)),
        act("revert", "&Revert to Saved", window.revert, where=at("file", "2_save", 3)),
        act("compare", "Compare &With…", lambda: _compare(window), where=at("file", "2_save", 4),
            tip="This document against another file, a preset or its last saved version: what changed, what it costs"),
        act("close", "&Close", window.close_document, K.Close, where=at("file", "4_close", 1)),
        act("quit", "&Quit", window.close, _standard_or(K.Quit, "Ctrl+Q"), where=at("file", "4_close", 2)),
    ]
    for i, fmt in enumerate(model_export.available_formats()):
        actions.append(act("export_" + fmt.format, fmt.label, lambda f=fmt: window.export_model(f),
                           where=at("file.export", "1_model", i)))
    actions += [
        act("png", "Diagram as &PNG…", lambda: window.export_diagram("png"), where=at("file.export", "2_diagram", 1)),
        act("svg", "Diagram as &SVG…", lambda: window.export_diagram("svg"), where=at("file.export", "2_diagram", 2)),

        ActionDecl("undo", factory=c.undo_action, shortcut=QKeySequence.keyBindings(K.Undo),
                   places=at("edit", "1_undo", 1)),
        ActionDecl("redo", factory=c.redo_action, shortcut=QKeySequence.keyBindings(K.Redo),
                   places=at("edit", "1_undo", 2)),
        act("cut", "Cu&t", v.cut, K.Cut, canvas=True, where=at("edit", "2_clipboard", 1)),
        act("copy", "&Copy", v.copy, K.Copy, canvas=True, where=at("edit", "2_clipboard", 2)),
        act("paste", "&Paste", v.paste, K.Paste, canvas=True, where=at("edit", "2_clipboard", 3)),
        act("duplicate", "D&uplicate", v.duplicate, "Ctrl+D", canvas=True, where=at("edit", "2_clipboard", 4)),
        act("delete", "&Delete", v.delete_selection, [K.Delete, "Backspace"], canvas=True,
            where=at("edit", "2_clipboard", 5)),
        act("select_all", "Select &All", v.select_all, K.SelectAll, canvas=True, where=at("edit", "2_clipboard", 6)),
        act("nudge_left", "Left", lambda: v.nudge(-10, 0), "Left", canvas=True, where=at("edit.nudge", "", 1)),
        act("nudge_right", "Right", lambda: v.nudge(10, 0), "Right", canvas=True, where=at("edit.nudge", "", 2)),
        act("nudge_up", "Up", lambda: v.nudge(0, -10), "Up", canvas=True, where=at("edit.nudge", "", 3)),
        act("nudge_down", "Down", lambda: v.nudge(0, 10), "Down", canvas=True, where=at("edit.nudge", "", 4)),
        act("history", "&History…", window.show_history, "Ctrl+Shift+H", where=at("edit", "3_history", 1)),

        act("fit", "&Fit to View", lambda: v.fit(), "F", canvas=True, where=at("view", "1_zoom", 1)),
        act("fit_selection", "Fit &Selection", lambda: v.fit(window.scene.selected_ids() or None), "Shift+F",
            canvas=True, where=at("view", "1_zoom", 2)),
        act("zoom_in", "Zoom &In", lambda: v.zoom_by(1.25, False), K.ZoomIn, where=at("view", "1_zoom", 3)),
        act("zoom_out", "Zoom &Out", lambda: v.zoom_by(0.8, False), K.ZoomOut, where=at("view", "1_zoom", 4)),
        act("zoom_reset", "&Actual Size", v.zoom_reset, "Ctrl+0", where=at("view", "1_zoom", 5)),
        act("reset_layout", "&Reset Window Layout", window.reset_layout, where=at("view", "2_panels", 100)),
        act("filters", "&Filters of Selected Conv…", window.open_filters, "Ctrl+Shift+K",
            where=at("view", "3_inspect", 1), tip="Show the kernels of the selected Conv2d as images"),

        act("quick_add", "&Add Block…", v.quick_add, "Tab", canvas=True, where=at("block", "1_navigate", 1),
            tip="Search for a block and add it at the cursor (fed from the selected block)"),
        act("open_inside", "&Open Inside", window.open_inside, "Return", canvas=True,
            where=at("block", "1_navigate", 2)),
        act("go_up", "Go &Up / Cancel", v.escape, "Escape", canvas=True, where=at("block", "1_navigate", 3),
            tip="Leave the composite you are looking into, cancel a link, or clear the selection"),
        act("group", "&Group into Composite…", v.group_selection, "Ctrl+G", canvas=True,
            where=at("block", "2_group", 1)),
        act("ungroup", "&Ungroup", v.ungroup_selection, "Ctrl+Shift+G", canvas=True, where=at("block", "2_group", 2)),
        act("save_block", "&Save to My Blocks…", window.save_to_library, where=at("block", "2_group", 3)),
        act("freeze", "&Freeze / Unfreeze", v.toggle_frozen, "Ctrl+Shift+F", canvas=True,
            where=at("block", "3_arrange", 1), tip="Frozen blocks keep their weights during training"),
        act("layout", "Auto-&Layout", v.auto_layout, "Ctrl+L", canvas=True, where=at("block", "3_arrange", 2)),

        act("playground", "&Convolution Playground", window.open_playground, where=at("tools", "", 1)),
        act("explain", "&Explain Selected Block…", window.open_explain, "Shift+F1", where=at("help", "", 1),
            tip="Walk from the input shape to the output shape, with the numbers"),
        act("shortcuts", "&Keyboard Shortcuts", window.show_shortcuts, [K.HelpContents, "Ctrl+/"],
            where=at("help", "", 2)),
        act("about", "&About Network Designer", window.about, where=at("help", "", 3)),
    ]

    inspector, summary = InspectorPanel(c), SummaryPanel(c)
    made: dict[str, QWidget] = {}

    def feature_maps() -> QWidget:   # made when first shown: its modules and threads wait until asked for
        from .feature_maps import FeatureMapPanel
        made["feature_maps"] = FeatureMapPanel(c)
        return made["feature_maps"]

    def detach_feature_maps() -> None:
        if "feature_maps" in made:
            made["feature_maps"].detach()
    docks = [
        DockDecl("palette", "Blocks", window.palette, LEFT, size=220, min_width=200,
                 toggle_places=(Place("view", "2_panels", 1),)),
        DockDecl("inspector", "Inspector", inspector, RIGHT, size=330, min_width=280,
                 toggle_places=(Place("view", "2_panels", 2),)),
        DockDecl("summary", "Summary", summary, BOTTOM, size=230, toggle_places=(Place("view", "2_panels", 3),)),
        DockDecl("feature_maps", "Feature Maps", feature_maps, BOTTOM, tab_with="summary", hidden=True,
                 toggle_places=(Place("view", "2_panels", 4),)),   # View ▸ Feature Maps opens it
    ]
    # closing, the panels stop observing the document before the controller goes
    hooks = [CloseHook(closed=panel.detach) for panel in (inspector, summary)] + [CloseHook(closed=detach_feature_maps)]
    return Contributions(menus=[*MENUS, recent], actions=actions, docks=docks, close_hooks=hooks)


def _import(window):
    from designer.ui.import_dialog import import_dialog
    import_dialog(window)


def _compare(window):
    from .compare_dialog import open_compare_dialog   # its modules load when first asked for
    return open_compare_dialog(window)


# ---- which actions can be used ----------------------------------------------------------------

EDITING = ("cut", "paste", "duplicate", "delete", "quick_add", "layout", "freeze",
           "nudge_left", "nudge_right", "nudge_up", "nudge_down")
NEEDS_DOCUMENT = ("save", "save_as", "close", "png", "svg", "fit", "fit_selection", "copy", "select_all",
                  "compare")


@dataclass(frozen=True)
class EditorState:
    """What the enabled actions depend on. `single_type`: the type of the one block selected
    at the top level (None when none, several, or inside a composite); `single_is_composite`:
    whether that type is one of the document's composites."""
    editor: bool                  # the canvas page is shown (not the start screen)
    editable: bool                # the scope shown can be edited (not a composite's read-only inside)
    root: bool                    # the top level is shown
    single_type: str | None = None
    single_is_composite: bool = False
    has_path: bool = False        # the document has a file


def enabled_actions(state: EditorState, keys) -> dict[str, bool]:
    """Whether each of the actions that depend on the editor's state is enabled (only those
    among `keys`, the window's action ids; the others are always enabled)."""
    editable = state.editor and state.editable
    out = {k: editable for k in EDITING}
    out.update(group=editable and state.root, ungroup=editable and state.root)
    out["save_block"] = state.single_type is not None and state.single_is_composite
    out["explain"] = state.single_type is not None
    out["filters"] = state.single_type == "Conv2d"
    out.update({k: state.editor for k in NEEDS_DOCUMENT})
    out["revert"] = state.editor and state.has_path
    out.update({k: state.editor for k in keys if k.startswith("export_")})
    return {k: on for k, on in out.items() if k in keys}


def context_entries(actions: dict, item, composites) -> list:
    """The canvas's context menu: for the empty canvas (`item` None) or a block; None is a
    separator. `composites`: the document's composite type names."""
    if item is None:
        return [actions["quick_add"], actions["paste"], None, actions["layout"], actions["fit"]]
    entries = []
    if item.is_composite:
        entries.append(actions["open_inside"])
    entries += [actions["cut"], actions["copy"], actions["duplicate"], actions["delete"], None,
                actions["group"], actions["ungroup"]]
    if item.node.type in composites:
        entries.append(actions["save_block"])
    entries += [None, actions["freeze"]]
    if item.node.type == "Conv2d":
        entries.append(actions["filters"])
    entries.append(actions["explain"])
    return entries
