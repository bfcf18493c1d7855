"""Training from the window: the Train dock, the Training menu and File ▸ Export
Trained Model, added to the main window by `install(main_window)`.

Nothing here imports torch: the worker process does the training, and the panel
imports torch on threads only when a person asks for something that needs it.
"""
from __future__ import annotations


def install(window):
    """Add the Train dock (tabbed with the Summary), the Training menu (Start, Pause,
    Stop…) and File ▸ Export Trained Model to `window` (a designer.ui.main_window.MainWindow);
    returns the TrainingPanel. Call it once the window has built its menus."""
    from .window_hooks import install_into
    return install_into(window)


__all__ = ["install"]
