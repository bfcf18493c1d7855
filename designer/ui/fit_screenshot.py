"""The Fit view's picture for the README (docs/screenshots/fit_resnet34.png). It measures
ResNet-34 for real, in the worker process, as a person pressing Measure would (a minute
or two on a CPU):

    xvfb-run -a .venv/bin/python -m designer.ui.fit_screenshot [OUT.png] [--batch-sizes 1,4,16] [--threads N]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "fit_resnet34.png"


def take(out: Path, preset: str = "resnet34", batch_sizes: str = "1, 4, 16", threads: int = 0,
         size=(1400, 620)) -> Path:
    from PySide6.QtWidgets import QApplication

    from designer import load_graph
    from . import theme
    from .app import application, save_window_picture
    from .document import DocumentController
    from .summary_panel import SummaryPanel

    app = application()
    theme.apply(app, dark=False)
    controller = DocumentController(load_graph(preset).graph)
    panel = SummaryPanel(controller)
    panel.resize(*size)
    panel.show()
    panel.tabs.setCurrentWidget(panel.fit_view)
    fit = panel.fit_view
    fit.batch_edit.setText(batch_sizes)
    fit.measure_options = {"threads": threads} if threads else {}
    fit.measure()
    while fit.running():
        QApplication.processEvents()
        time.sleep(0.05)
    QApplication.processEvents()
    save_window_picture(panel, out)
    panel.detach()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="the Fit view's README picture")
    parser.add_argument("out", nargs="?", default=str(OUT))
    parser.add_argument("--preset", default="resnet34")
    parser.add_argument("--batch-sizes", default="1, 4, 16")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    path = take(Path(args.out), args.preset, args.batch_sizes, args.threads)
    print(f"{path}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
