"""Regenerate the editor's pictures in docs/screenshots (the README shows them):

    xvfb-run -a .venv/bin/python -m designer.ui.screenshots [OUT_DIR]
    QT_QPA_PLATFORM=offscreen .venv/bin/python -m designer.ui.screenshots [OUT_DIR]

Each picture opens a preset the way a person would, selects a block so the
inspector shows its formulas, and for GoogLeNet looks inside an Inception module.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

SHOTS = (
    # file name, preset, block to select, composite to open, window size
    ("editor_lenet5.png", "lenet5", "c3", None, (1440, 900)),
    # the inside of an Inception module is wide: a larger window keeps it readable
    ("editor_googlenet_inception.png", "googlenet", None, "inception_3a", (1600, 1000)),
    ("editor_resnet34.png", "resnet34", "layer2", None, (1440, 900)),
    # nothing selected: the network's inspector, with its ImageNet weights button
    ("editor_resnet34_imagenet.png", "resnet34", None, None, (1440, 900)),
    # fit zoom: VGG-16's groups, and U-Net far out (14 %), readable without cut-off labels
    ("editor_vgg16_fit.png", "vgg16", None, None, (1440, 900)),
    ("editor_unet_fit.png", "unet", None, None, (1440, 900)),
)


def take(out_dir: Path) -> list[Path]:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from . import theme
    from .app import application, save_window_picture
    from .main_window import MainWindow

    app = application()
    theme.apply(app, dark=False)
    written = []
    for file_name, preset, select, open_inside, size in SHOTS:
        window = MainWindow(remember=False)
        window.resize(*size)
        window.set_document(window.load_source(preset))
        window.show()
        for _ in range(3):
            QApplication.processEvents()
        if open_inside:
            window.controller.enter(open_inside)
        if select:
            window.controller.select([select])
        QApplication.processEvents()
        window.view.fit()
        QTimer.singleShot(30, app.quit)
        app.exec()
        target = out_dir / file_name
        save_window_picture(window, target)
        written.append(target)
        window.autosave.stop()
        window.scene.detach()
        window.close()
        window.deleteLater()
        QApplication.processEvents()
    return written


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    # a clean profile: no saved layout, recent files or personal blocks in the pictures
    scratch = tempfile.mkdtemp(prefix="netdesigner-shots-")
    os.environ["DESIGNER_SETTINGS"] = str(Path(scratch) / "settings.ini")
    os.environ["DESIGNER_DATA_DIR"] = scratch
    for path in take(out_dir):
        print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
