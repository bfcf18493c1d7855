"""Training from the window: the Train dock (tabbed with the Summary), the Training menu,
File ▸ Export Trained Model and the close guard of a run, declared by `contributions`
for the main window to assemble (see designer/ui/contributions.py).

Nothing here imports torch: the worker process does the training, and the panel
imports torch on threads only when a person asks for something that needs it.
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
    Summary (the dataset listing and the device probe start only when its tab comes to the
    front), the Training menu before Tools, Export Trained Model right after File ▸ Export,
    the Train Panel toggle in View and in Training, and a close hook that asks before
    closing during a run and ends the worker once the window has closed."""
    from .panel import TrainingPanel
    panel = TrainingPanel(window.controller, parent=window)
    menus = [MenuDecl(MENU, "T&raining", order=45)]
    actions = [
        ActionDecl("train_start", action=panel.start_action, places=(Place(MENU, "1_run", 1),)),
        ActionDecl("train_pause", action=panel.pause_action, places=(Place(MENU, "1_run", 2),)),
        ActionDecl("train_stop", action=panel.stop_action, places=(Place(MENU, "1_run", 3),)),
        ActionDecl("train_folder", action=panel.open_folder_action, places=(Place(MENU, "2_run_files", 1),)),
        ActionDecl(PRETRAINED_ACTION, action=panel.finetune.pretrained_action, places=(Place(MENU, "3_weights", 1),)),
    ]
    if panel.export_actions:
        menus.append(MenuDecl(EXPORT_MENU, "Export &Trained Model", parent="file", group="3_export", order=2))
        actions += [ActionDecl(f"train_export_{i}", action=a, places=(Place(EXPORT_MENU, "", i),))
                    for i, a in enumerate(panel.export_actions)]
    dock = DockDecl(DOCK_KEY, "Train", panel, Qt.DockWidgetArea.BottomDockWidgetArea, tab_with="summary",
                    toggle_title="&Train Panel",
                    toggle_places=(Place("view", "2_panels", 5), Place(MENU, "2_run_files", 2)),
                    on_front=panel.on_brought_to_front,
                    # tabbed with the summary, the panel must not make the bottom area tall while
                    # it is out of sight; brought to the front it takes the height it needs
                    front_height=520, min_height=200)
    return Contributions(menus=menus, actions=actions, docks=[dock],
                         close_hooks=[CloseHook(may_close=panel.confirm_close, closed=panel.shutdown)])


__all__ = ["DOCK_KEY", "PRETRAINED_ACTION", "contributions"]
