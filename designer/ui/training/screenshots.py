"""Regenerate the training pictures in docs/screenshots (the README shows them):

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m designer.ui.training.screenshots [OUT_DIR]
    xvfb-run -a .venv/bin/python -m designer.ui.training.screenshots [OUT_DIR]

Each picture opens a preset, trains it from the Train panel in a real worker
process on the bundled digits, and saves the window:

    training_lenet5.png   LeNet-5 mid-run: live curves, progress, settings
    training_vae.png      the VAE after a few epochs: reconstructions and samples
    training_gan.png      the GAN's fixed-noise samples, with the slider through the epochs
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

# file name, preset, epochs, epochs to wait for, tab shown, whether to grab mid-run
SHOTS = (
    ("training_lenet5.png", "lenet5", 12, 5, "plots", True),
    ("training_vae.png", "vae", 8, 8, "results", False),
    ("training_gan.png", "gan", 12, 12, "results", False),
)


def take(out_dir: Path) -> list[Path]:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from designer.train.events import Error

    from .. import theme
    from ..app import application, save_window_picture
    from ..main_window import MainWindow
    from . import DOCK_KEY

    app = application()
    theme.apply(app, dark=False)

    def wait(condition, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            if condition():
                return True
            time.sleep(0.01)
        return False

    written = []
    for file_name, preset, epochs, wait_epochs, tab, mid_run in SHOTS:
        window = MainWindow(remember=False)
        window.resize(1600, 1000)
        window.set_document(window.load_source(preset))
        window.show()
        panel = window.training_panel
        panel.reveal()
        window.resizeDocks([window.docks[DOCK_KEY]], [600], Qt.Orientation.Vertical)
        panel.datasets.select("digits")
        wait(lambda: panel.datasets.class_count is not None, 120)
        panel.params.epochs.setValue(epochs)
        if not panel.start():
            raise RuntimeError(f"{preset}: {panel.problem.text()}")
        wait(lambda: len(panel.history.epochs) >= wait_epochs or panel.session.state == "ended", 900)
        if panel.session.state == "ended" and isinstance(panel.session.last_event, Error):
            raise RuntimeError(f"{preset}: {panel.problem.text()}")
        if not mid_run:
            wait(lambda: panel.session.state == "ended", 300)
        panel.tabs.setCurrentWidget(panel.plots if tab == "plots" else panel.results)
        if mid_run:
            wait(lambda: False, 0.6)   # a few more steps on the curves
            panel.plots.show_readout(panel.history.step_count * 0.75)
        else:
            panel.results.slider.setValue(panel.results.slider.maximum())
        window.view.fit()
        wait(lambda: False, 0.3)
        target = out_dir / file_name
        save_window_picture(window, target)
        compact(target)
        written.append(target)
        panel.shutdown()
        window.autosave.stop()
        window.scene.detach()
        window.controller.history.set_clean()
        window.close()
        window.deleteLater()
        QApplication.processEvents()
    return written


def compact(path: Path) -> None:
    """256 colours, no dithering: the window's flat colours survive exactly and the
    sample grids closely, at a third of the bytes (the pictures live in the repository)."""
    from PIL import Image
    with Image.open(path) as image:
        quantized = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                  dither=Image.Dither.NONE)
    quantized.save(path, optimize=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path(__file__).resolve().parents[3] / "docs" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="netdesigner-training-shots-")
    os.environ["DESIGNER_SETTINGS"] = str(Path(scratch) / "settings.ini")
    os.environ["DESIGNER_DATA_DIR"] = scratch
    os.environ.setdefault("DESIGNER_OFFLINE", "1")
    for path in take(out_dir):
        print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
