"""What a panel offers the main window, declared as plain objects: its menus, its
actions and where they go, its dock, and what it needs when the window closes.
`MainWindow` collects these from every part (its own file, edit, view… menus and
panels, and the training panel) and assembles the menu bar and the docks from them,
in the spirit of napari's app-model: no part looks for another's menu by its label,
no part reaches into the window.

Placement: an entry (action or submenu) sits in a menu, in a *group*, at an *order*
inside that group. Groups are sorted by name ("1_open" before "2_save") and drawn with a
separator between them; entries inside a group are sorted by order, then by the order
they were declared in. `arrange(...)` works that out without Qt, so it can be tested
and read on its own; the functions below it turn declarations into Qt objects.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QMenuBar, QWidget

MENU_BAR = ""              # the parent id of a top-level menu
WINDOW = "window"          # an action's shortcut works wherever the focus is in the window
CANVAS = "canvas"          # … only while the canvas has the focus (Delete, F, arrows: the
                           # inspector's fields keep those keys)


@dataclass(frozen=True)
class Place:
    """Where an entry goes: menu id, group in it, order in the group."""
    menu: str
    group: str = ""
    order: float = 0


@dataclass(frozen=True)
class MenuDecl:
    """A menu: top-level when `parent` is MENU_BAR (placed by `order` alone), else a submenu
    placed in its parent like an action. `on_show` refills it each time it opens."""
    id: str
    title: str
    parent: str = MENU_BAR
    group: str = ""
    order: float = 0
    on_show: Callable[[QMenu], None] | None = None

    @property
    def place(self) -> Place:
        return Place(self.parent, self.group, self.order)


@dataclass(frozen=True)
class ActionDecl:
    """An action. Either the window makes it from `title`, `callback`, `shortcut`, `tip`
    and `context`, or a panel hands over a QAction it owns and keeps up to date
    (`action`, or `factory(parent)`); shortcut and tip still apply when given. `places`
    are the menus it appears in: none for a deliberately menu-less action (a shortcut
    only), usually one, two for an entry that belongs in both (a panel's toggle).
    `shortcut`: anything QKeySequence takes (a string, a StandardKey) or a list of them."""
    id: str
    title: str = ""
    callback: Callable[[], Any] | None = None
    shortcut: Any = None
    tip: str = ""
    places: tuple[Place, ...] = ()
    context: str = WINDOW
    action: QAction | None = None
    factory: Callable[[QWidget], QAction] | None = None


@dataclass(frozen=True)
class DockDecl:
    """A dock. `widget` is the panel or a factory making it (for a `hidden` dock, called only
    when the dock is first shown, so what the panel imports waits until then). `tab_with`: the key of a dock it
    shares a tab group with (that one stays in front). `hidden`: it starts closed until
    View (or a command) opens it. `toggle_title` / `toggle_places`: the View-menu entry
    that shows and hides it (id "panel_<key>"). `on_front` runs (once the event loop turns)
    each time the dock comes into view, a tab raised included: a tabbed dock brought to the
    front gets no showEvent, so lazy panels start their work from there. `front_height`: a
    dock in the bottom area brought to the front grows to this height when it is more than
    40 px lower, so that a tall panel tabbed behind a short one does not make the area tall
    while out of sight. `size`: its width (left/right areas) or height (top/bottom) to start
    with; `min_width` / `min_height`: the panel's minimum."""
    key: str
    title: str
    widget: QWidget | Callable[[], QWidget]
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea
    tab_with: str | None = None
    hidden: bool = False
    toggle_title: str | None = None
    toggle_places: tuple[Place, ...] = ()
    on_front: Callable[[], Any] | None = None
    front_height: int | None = None
    size: int | None = None
    min_width: int | None = None
    min_height: int | None = None

    @property
    def toggle_id(self) -> str:
        return f"panel_{self.key}"


@dataclass(frozen=True)
class CloseHook:
    """What a part needs when the window closes: `may_close()` may ask the person and say
    no (the window then stays open); `closed()` runs once the window really closes (after
    every hook and the unsaved-changes question said yes)."""
    may_close: Callable[[], bool] = lambda: True
    closed: Callable[[], Any] = lambda: None


@dataclass
class Contributions:
    """Everything one part offers the window."""
    menus: list[MenuDecl] = field(default_factory=list)
    actions: list[ActionDecl] = field(default_factory=list)
    docks: list[DockDecl] = field(default_factory=list)
    close_hooks: list[CloseHook] = field(default_factory=list)

    def extend(self, other: Contributions) -> Contributions:
        self.menus += other.menus
        self.actions += other.actions
        self.docks += other.docks
        self.close_hooks += other.close_hooks
        return self


# ---- arranging (no Qt) ------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One line of an arranged menu: kind is "menu", "action" or "separator"."""
    kind: str
    id: str = ""


SEPARATOR = Entry("separator")


class DeclarationError(ValueError):
    pass


def dock_toggles(docks: Iterable[DockDecl]) -> list[ActionDecl]:
    """The View-menu entries of the docks that declare one (their QAction is the dock's own
    toggleViewAction, handed over when the dock exists)."""
    return [ActionDecl(d.toggle_id, d.toggle_title or d.title, places=d.toggle_places)
            for d in docks if d.toggle_places]


def arrange(menus: Sequence[MenuDecl], actions: Sequence[ActionDecl]) -> dict[str, list[Entry]]:
    """The entries of every menu (and of the menu bar, under MENU_BAR) in the order they are
    shown, separators between groups. Raises DeclarationError for a duplicate id or an entry
    placed in a menu nobody declared."""
    menu_ids = [m.id for m in menus]
    action_ids = [a.id for a in actions]
    for ids, what in ((menu_ids, "menu"), (action_ids, "action")):
        seen = set()
        for i in ids:
            if i in seen:
                raise DeclarationError(f"two {what}s declare the id {i!r}")
            seen.add(i)
    known = set(menu_ids)
    placed: dict[str, list[tuple[str, float, int, Entry]]] = {m: [] for m in [MENU_BAR, *menu_ids]}
    n = 0
    for m in menus:
        if m.parent != MENU_BAR and m.parent not in known:
            raise DeclarationError(f"menu {m.id!r} is placed in {m.parent!r}, which no part declares")
        placed[m.parent].append((m.group if m.parent != MENU_BAR else "", m.order, n, Entry("menu", m.id)))
        n += 1
    for a in actions:
        for p in a.places:
            if p.menu not in known:
                raise DeclarationError(f"action {a.id!r} is placed in {p.menu!r}, which no part declares")
            placed[p.menu].append((p.group, p.order, n, Entry("action", a.id)))
            n += 1
    arranged: dict[str, list[Entry]] = {}
    for menu, entries in placed.items():
        out: list[Entry] = []
        group = None
        for g, _order, _n, entry in sorted(entries, key=lambda e: (e[0], e[1], e[2])):
            if group is not None and g != group:
                out.append(SEPARATOR)
            group = g
            out.append(entry)
        arranged[menu] = out
    return arranged


# ---- building (Qt) ----------------------------------------------------------------------------

def key_sequences(shortcut) -> list[QKeySequence]:
    """The key sequences of a declared shortcut (unbound standard keys give none)."""
    if shortcut is None:
        return []
    if isinstance(shortcut, (list, tuple)):
        return [k for s in shortcut for k in key_sequences(s)]
    sequence = shortcut if isinstance(shortcut, QKeySequence) else QKeySequence(shortcut)
    return [sequence] if sequence.count() else []


def make_action(decl: ActionDecl, parent: QWidget, canvas: QWidget | None = None) -> QAction:
    """The QAction of a declaration: the panel's own, or a new one owned by `parent`.
    A CANVAS action is added to `canvas` and fires only while it (or a child) has the focus;
    a WINDOW action is added to `parent`, so its shortcut works wherever the focus is."""
    if decl.action is not None:
        action = decl.action
    elif decl.factory is not None:
        action = decl.factory(parent)
    else:
        action = QAction(decl.title, parent)
        if decl.callback is not None:
            callback = decl.callback
            action.triggered.connect(lambda _checked=False: callback())
    if decl.title and (decl.action is None and decl.factory is None):
        action.setText(decl.title)
    if decl.shortcut is not None:
        action.setShortcuts(key_sequences(decl.shortcut))
    if decl.tip:
        action.setStatusTip(decl.tip)
        action.setToolTip(decl.tip)
    if decl.context == CANVAS:
        if canvas is None:
            raise DeclarationError(f"action {decl.id!r} is for the canvas, and there is none")
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        canvas.addAction(action)
    elif decl.shortcut is not None or action.shortcuts():
        parent.addAction(action)
    return action


def build_menus(bar: QMenuBar, menus: Sequence[MenuDecl], actions: Sequence[ActionDecl],
                qactions: dict[str, QAction]) -> dict[str, QMenu]:
    """Fill `bar` with the declared menus and actions (`qactions`: the QAction of each
    declared action id); returns the QMenu of each menu id."""
    arranged = arrange(menus, actions)
    by_id = {m.id: m for m in menus}
    made: dict[str, QMenu] = {}
    for m in menus:
        menu = QMenu(m.title, bar)
        menu.setObjectName(f"menu_{m.id}")
        if m.on_show is not None:
            on_show = m.on_show
            menu.aboutToShow.connect(lambda menu=menu, on_show=on_show: on_show(menu))
        made[m.id] = menu

    def fill(target, entries: list[Entry]):
        for entry in entries:
            if entry.kind == "separator":
                target.addSeparator()
            elif entry.kind == "menu":
                target.addMenu(made[entry.id])
            else:
                target.addAction(qactions[entry.id])

    fill(bar, arranged[MENU_BAR])
    for menu_id in by_id:
        fill(made[menu_id], arranged[menu_id])
    return made


def make_dock(window: QMainWindow, decl: DockDecl) -> QDockWidget:
    """The dock of a declaration, added to `window` in its area (tabbing and hiding are the
    window's, once every dock exists: see `arrange_docks`)."""
    dock = QDockWidget(decl.title, window)
    dock.setObjectName(f"dock_{decl.key}")
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)

    def put(widget: QWidget) -> None:
        if decl.min_width is not None:
            widget.setMinimumWidth(decl.min_width)
        if decl.min_height is not None:
            widget.setMinimumHeight(decl.min_height)
        dock.setWidget(widget)

    if isinstance(decl.widget, QWidget):
        put(decl.widget)
    elif decl.hidden:
        # a panel that starts closed is made (and its modules imported) when first shown
        dock.setWidget(QWidget())
        factory = decl.widget

        def build_once(visible: bool) -> None:
            if visible:
                dock.visibilityChanged.disconnect(build_once)
                put(factory())
        dock.visibilityChanged.connect(build_once)
    else:
        put(decl.widget())
    window.addDockWidget(decl.area, dock)
    if decl.size is not None:
        window.resizeDocks([dock], [decl.size], _orientation(decl.area))
    if decl.toggle_title:
        dock.toggleViewAction().setText(decl.toggle_title)
    if decl.on_front is not None:
        on_front = decl.on_front
        dock.visibilityChanged.connect(lambda visible: visible and QTimer.singleShot(0, on_front))
    if decl.front_height is not None:
        height = decl.front_height
        dock.visibilityChanged.connect(
            lambda visible: visible and dock.height() < height - 40 and not dock.isFloating()
            and window.resizeDocks([dock], [height], Qt.Orientation.Vertical))
    return dock


def arrange_docks(window: QMainWindow, decls: Sequence[DockDecl], docks: dict[str, QDockWidget]) -> None:
    """Tab docks with the ones they name (which stay in front), then close the hidden ones."""
    fronts = []
    for d in decls:
        if d.tab_with is not None:
            if d.tab_with not in docks:
                raise DeclarationError(f"dock {d.key!r} tabs with {d.tab_with!r}, which no part declares")
            window.tabifyDockWidget(docks[d.tab_with], docks[d.key])
            fronts.append(docks[d.tab_with])
    for dock in fronts:
        dock.raise_()
    for d in decls:
        if d.hidden:
            docks[d.key].hide()


def _orientation(area: Qt.DockWidgetArea) -> Qt.Orientation:
    if area in (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea):
        return Qt.Orientation.Horizontal
    return Qt.Orientation.Vertical
