"""Starting the window: `python -m designer [FILE_OR_PRESET] [--screenshot PNG]`.

The window is shown before torch is imported (nothing imported here pulls it
in); torch then loads on a background thread so that the first export or
training run does not wait for it. With --screenshot the document is opened,
analysed and drawn, the whole window is saved as a PNG, and the program exits.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from . import theme
from .settings import APPLICATION, ORGANIZATION
from .torch_loader import preload_in_background

PRELOAD_DELAY_MS = 1500


def application() -> QApplication:
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    return app


def preload_torch():
    """Import torch off the GUI thread, once the window is up."""
    if "torch" in sys.modules or os.environ.get("DESIGNER_NO_PRELOAD"):
        return
    preload_in_background()


def save_window_picture(window, path) -> None:
    """The whole window, as drawn now, to a PNG."""
    QApplication.processEvents()
    picture = window.grab()
    if picture.isNull() or not picture.save(str(path), "PNG", 0):   # 0: smallest file
        raise OSError(f"cannot write {path}")


def run_app(document=None, screenshot=None) -> int:
    if QApplication.instance() is None:
        from .platform_check import problem
        reason = problem()             # Qt would abort with a core dump instead
        if reason is not None:
            print(reason, file=sys.stderr)
            return 1
    app = application()
    theme.apply(app)
    from .main_window import MainWindow   # after the QApplication: widgets need it

    if screenshot is not None:
        return _screenshot(app, MainWindow, document, Path(screenshot))

    window = MainWindow()
    if document is not None:
        window.show_editor(hint=False)   # no start screen flashing up before the document
    window.show()

    def follow_system(*_):
        theme.apply(app)
        window.apply_theme()

    QGuiApplication.styleHints().colorSchemeChanged.connect(follow_system)
    if document is not None:
        QTimer.singleShot(0, lambda: window.open_source(document, ask=False) or window.show_start())
    else:
        QTimer.singleShot(0, window.offer_recovery)
    QTimer.singleShot(PRELOAD_DELAY_MS, preload_torch)
    return app.exec()


def _screenshot(app, MainWindow, document, path: Path) -> int:
    window = MainWindow(remember=False)
    if document is not None:
        try:
            opened = window.load_source(document)
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            from .document_files import problem_text
            print(f"netdesigner: cannot open {problem_text(document, exc)}", file=sys.stderr)
            return 2
        window.set_document(opened)
    window.show()
    result = {"code": 0}

    def shoot():
        window.view.fit()
        try:
            save_window_picture(window, path)
        except OSError as exc:
            print(f"netdesigner: {exc}", file=sys.stderr)
            result["code"] = 2
        window.autosave.stop()
        window.scene.detach()
        app.quit()

    # two turns of the event loop: the docks settle their sizes, then the canvas fits into its own
    QTimer.singleShot(0, lambda: QTimer.singleShot(50, shoot))
    app.exec()
    return result["code"]
