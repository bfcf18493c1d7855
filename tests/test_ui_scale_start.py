"""The window appears before the heavy modules are imported (issue 12): in a fresh process,
a window with a document open has imported none of torch, scipy, scikit-learn, pyqtgraph
or numpy, nor the Train, Feature Maps and Filters panels' modules; bringing the Train tab
to the front makes the panel (pyqtgraph then), and the Training menu's actions stood in for
the panel's until then and mirror them after."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "scipy", "sklearn", "pyqtgraph", "numpy", "designer.ui.training.panel",
         "designer.ui.feature_maps", "designer.ui.filters_view"]

CHILD = """
import json, sys
from designer.ui.app import application
from designer.ui import theme
app = application()
theme.apply(app)
from designer.ui.main_window import MainWindow
from designer.ui.training import DOCK_KEY, PRETRAINED_ACTION
w = MainWindow(remember=False)
w.show()
w.open_source("lenet5", ask=False)
for _ in range(5):
    app.processEvents()
report = {"at_start": [m for m in %r if m in sys.modules]}
a = w.actions
report["menu"] = {k: [a[k].text(), a[k].isEnabled(), a[k].shortcut().toString()]
                  for k in ("train_start", "train_pause", "train_stop", "train_folder", PRETRAINED_ACTION)}
dock = w.docks[DOCK_KEY]
report["placeholder"] = type(dock.widget()).__name__
dock.raise_()                    # the Train tab brought to the front
for _ in range(5):
    app.processEvents()
panel = dock.widget()
report["raised"] = type(panel).__name__
report["pyqtgraph"] = "pyqtgraph" in sys.modules
report["same"] = w.training_panel is panel
panel.pause_action.setEnabled(True)
panel.pause_action.setText("Resume")
report["mirrored"] = [a["train_pause"].text(), a["train_pause"].isEnabled()]
report["keys"] = [panel.start_action.shortcut().toString(), a["train_start"].shortcut().toString()]
w.autosave.stop()
w.training_panel.shutdown()
# a second window: File > Export Trained Model opening makes the panel (its formats' states are the panel's)
from designer.ui.training import EXPORT_MENU
w2 = MainWindow(remember=False)
exports = [k for k in w2.actions if k.startswith("train_export_")]
report["export_before"] = [type(w2.docks[DOCK_KEY].widget()).__name__, [w2.actions[k].isEnabled() for k in exports]]
w2.menus[EXPORT_MENU].aboutToShow.emit()
report["export_after"] = type(w2.docks[DOCK_KEY].widget()).__name__
w2.autosave.stop()
w2.training_panel.shutdown()
print("REPORT " + json.dumps(report))
""" % (HEAVY,)


def run_child(tmp_path) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESIGNER_NO_PRELOAD="1",
               DESIGNER_SETTINGS=str(tmp_path / "settings.ini"), DESIGNER_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    line = next((x for x in out.stdout.splitlines() if x.startswith("REPORT ")), None)
    assert line is not None, out.stderr[-3000:]
    return json.loads(line[len("REPORT "):])


@pytest.mark.timeout(150)
def test_the_window_comes_up_without_the_heavy_modules_and_the_train_panel_waits(tmp_path):
    report = run_child(tmp_path)
    assert report["at_start"] == []
    # the Training menu before the panel exists: what can be asked of it with no run yet
    assert report["menu"] == {
        "train_start": ["Start Training", True, "F5"],
        "train_pause": ["Pause", False, "F6"],
        "train_stop": ["Stop", False, "Shift+F5"],
        "train_folder": ["Open Run Folder", True, ""],
        "train_imagenet_weights": ["Load ImageNet weights (torchvision IMAGENET1K_V1)", False, ""],  # LeNet-5
    }
    assert report["placeholder"] == "_Placeholder"
    # its tab brought to the front: the panel is made, in the dock, once
    assert report["raised"] == "TrainingPanel" and report["pyqtgraph"] and report["same"]
    # the menu's actions follow the panel's, and each key has one owner
    assert report["mirrored"] == ["Resume", True]
    assert report["keys"] == ["", "F5"]
    # Export Trained Model: its formats wait for a run; opening the submenu makes the panel
    placeholder, enabled = report["export_before"]
    assert placeholder == "_Placeholder" and enabled and not any(enabled)
    assert report["export_after"] == "TrainingPanel"
