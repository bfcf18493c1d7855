"""Training from the window: the Train dock (tabbed with the Summary), the Training menu,
File ▸ Export Trained Model and the close guard of a run, declared by `contributions`
for the main window to assemble (see designer/ui/contributions.py).

Nothing here imports torch: the worker process does the training, and the panel
imports torch on threads only when a person asks for something that needs it. The
panel itself is made when first needed (lazy.py), so that the window appears before
pyqtgraph and numpy are imported.
"""
from __future__ import annotations

from PySide6.QtCore import Qt

from ..contributions import ActionDecl, CloseHook, Contributions, DockDecl, MenuDecl, Place

DOCK_KEY = "training"
MENU = "training"
EXPORT_MENU = "file.export_trained"
PRETRAINED_ACTION = "train_imagenet_weights"   # Load ImageNet Weights: the inspector and the gallery trigger it


def contributions(window) -> Contributions:
    """The Train panel on `window`'s document, and where it goes: its dock tabbed with the
    Summary (the panel itself is made when first needed: lazy.py), the Training menu before
    Tools, Export Trained Model right after File ▸ Export, the Train Panel toggle in View and
    in Training, and a close hook that asks before closing during a run and ends the worker
    once the window has closed."""
    from designer.graph.presets import PRETRAINED_CHOICE
    from .lazy import LazyPanel
    from .trained_export import available_formats
    loader = LazyPanel(window)
    menus = [MenuDecl(MENU, "T&raining", order=45)]

    def stand_in(key, text, place, shortcut=None, tip="", enabled=True):
        return ActionDecl(key, factory=loader.stand_in(key, text, shortcut, tip, enabled), places=(place,))

    actions = [
        stand_in("train_start", "Start Training", Place(MENU, "1_run", 1), "F5", "Train the network as drawn now"),
        stand_in("train_pause", "Pause", Place(MENU, "1_run", 2), "F6", "Pause the run after the current step",
                 enabled=False),
        stand_in("train_stop", "Stop", Place(MENU, "1_run", 3), "Shift+F5",
                 "Stop after the current step; the checkpoint and model.pt are written", enabled=False),
        stand_in("train_folder", "Open Run Folder", Place(MENU, "2_run_files", 1),
                 tip="Show the files of the run in the file manager"),
        stand_in(PRETRAINED_ACTION, f"Load {PRETRAINED_CHOICE}", Place(MENU, "3_weights", 1),
                 tip="Start from the weights torchvision trained on ImageNet (its file in torch hub's cache, "
                     "downloaded there the first time)"),
    ]
    formats = available_formats()
    if formats:
        # the export formats' states are the panel's (which run is shown): made when the submenu opens
        menus.append(MenuDecl(EXPORT_MENU, "Export &Trained Model", parent="file", group="3_export", order=2,
                              on_show=lambda _menu: loader.get()))
        actions += [stand_in(f"train_export_{i}", fmt.label, Place(EXPORT_MENU, "", i),
                             tip=f"Write the trained network of the run shown as {fmt.label.rstrip('…')}",
                             enabled=False)
                    for i, fmt in enumerate(formats)]
    dock = DockDecl(DOCK_KEY, "Train", loader.placeholder, Qt.DockWidgetArea.BottomDockWidgetArea,
                    tab_with="summary", toggle_title="&Train Panel",
                    toggle_places=(Place("view", "2_panels", 5), Place(MENU, "2_run_files", 2)),
                    on_front=loader.on_front,
                    # tabbed with the summary, the panel must not make the bottom area tall while
                    # it is out of sight; brought to the front it takes the height it needs
                    front_height=520, min_height=200)
    return Contributions(menus=menus, actions=actions, docks=[dock],
                         close_hooks=[CloseHook(may_close=loader.may_close, closed=loader.closed)])


def panel_in(dock):
    """The Train panel in its dock (`window.docks[DOCK_KEY]`), made now if it was not yet."""
    from .lazy import panel_in as made
    return made(dock)


__all__ = ["DOCK_KEY", "PRETRAINED_ACTION", "contributions", "panel_in"]
