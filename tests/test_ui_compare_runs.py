"""Runs compared in the Train panel (pytest-qt, the real widgets): two runs selected in the
Runs tab are overlaid in the Compare tab in one colour each, with the table of differing
settings; Export All Runs writes the long CSV; a sweep started from the panel runs its grid
one run after another and shows the runs as they finish."""
from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from designer import load_graph
from designer.train.config import TrainConfig
from designer.train.events import Done
from designer.train.run_compare import run_colour
from tests.test_compare_runs import fake_run

pytestmark = pytest.mark.timeout(120)


class Handle:
    """A worker that does nothing until the test ends its run."""

    def __init__(self):
        self.events, self.lock = [], threading.Lock()
        self.exitcode = None

    def put(self, event):
        with self.lock:
            self.events.append(event)

    def poll(self):
        with self.lock:
            out, self.events = self.events, []
        return out

    def is_alive(self):
        return True

    kill = stop = pause = resume = lambda self: None

    def join(self, timeout=None):
        return None


@pytest.fixture
def panel(qtbot, tmp_path):
    from designer.ui.document import DocumentController
    from designer.ui.training.panel import TrainingPanel
    from designer.ui.training.session import TrainingSession
    launched = []

    def launcher(document_json, config, run_dir, resume=False, **kw):
        # the run leaves its files as the engine would, with its own accuracy
        acc = 0.5 + 10 * config["lr"]
        Path(run_dir, "config.json").write_text(TrainConfig(**config).to_json())
        fake_run_files(Path(run_dir), [acc])
        handle = Handle()
        launched.append((config, Path(run_dir), handle))
        return handle
    controller = DocumentController(load_graph("lenet5").graph)
    p = TrainingPanel(controller, data_dir=tmp_path / "data", session=TrainingSession(start_worker=launcher))
    p.launched = launched
    qtbot.addWidget(p)
    p.resize(1200, 600)
    return p


def fake_run_files(run_dir: Path, accuracies):
    scratch = run_dir.parent / (run_dir.name + ".tmp")
    fake_run(scratch, load_graph("lenet5").graph, accuracies)
    (run_dir / "metrics.csv").write_text((scratch / "metrics.csv").read_text())
    for f in scratch.iterdir():
        f.unlink()
    scratch.rmdir()


def test_two_runs_selected_are_overlaid_in_one_colour_each_with_the_table(panel, qtbot, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    lenet = load_graph("lenet5").graph
    wide = lenet.copy()
    wide.set_param("c1", "out_channels", 8)
    fake_run(root / "run-a", lenet, [0.5, 0.7], lr=0.001)
    fake_run(root / "run-b", wide, [0.6, 0.8], lr=0.003)
    panel.runs.set_root(root)
    assert not panel.runs.compare_runs_button.isEnabled()
    for i in range(panel.runs.tree.topLevelItemCount()):
        panel.runs.tree.topLevelItem(i).setSelected(True)
    assert panel.runs.compare_runs_button.isEnabled()
    qtbot.mouseClick(panel.runs.compare_runs_button, Qt.MouseButton.LeftButton)
    view = panel.comparison
    assert panel.tabs.currentWidget() is view
    labels = [r.label for r in view.comparison.runs]
    assert sorted(labels) == ["run-a", "run-b"]
    for k, label in enumerate(labels):      # the same colour for a run's curves and its row
        colour = run_colour(k)
        assert view.curves[("loss", label)].opts["pen"].color().name() == colour
        assert view.curves[("metric", label)].opts["pen"].color().name() == colour
        assert view.table.item(k, 0).foreground().color().name() == colour
        assert view.table.item(k, 0).text() == f"■ {label}"
    header = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert header[:3] == ["run", "lr", "best"]
    lr = {view.table.item(k, 0).text()[2:]: view.table.item(k, 1).text() for k in range(2)}
    assert lr == {"run-a": "0.001", "run-b": "0.003"}
    first, second = labels
    assert view.networks.toPlainText().startswith(f"Network of {second} against {first}:")
    assert not view.networks.isHidden() and "out_channels" in view.networks.toPlainText()
    x, y = view.curves[("metric", "run-b")].getOriginalDataset()
    assert list(y) == [0.6, 0.8]

    target = tmp_path / "all.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV (*.csv)"))
    qtbot.mouseClick(panel.runs.export_all_button, Qt.MouseButton.LeftButton)
    with open(target, newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["run"] for r in rows} == {"run-a", "run-b"} and len(rows) == 16

    # a place that cannot be written is said in a message box, not raised into the window
    from PySide6.QtWidgets import QMessageBox
    told = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: told.append(text))
    missing = tmp_path / "no such folder" / "all.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(missing), "CSV (*.csv)"))
    qtbot.mouseClick(panel.runs.export_all_button, Qt.MouseButton.LeftButton)
    assert told == [f"{missing} cannot be written: No such file or directory."]


def test_a_sweep_from_the_panel_runs_its_grid_and_shows_the_runs_as_they_finish(panel, qtbot):
    box = panel.sweeper
    from designer.ui.training.sweep_runner import SweepBox
    sweep_box = panel.findChild(SweepBox)
    sweep_box.text.setText("lr=0.01,0.03")
    qtbot.mouseClick(sweep_box.button, Qt.MouseButton.LeftButton)
    assert box.active and len(panel.launched) == 1
    config, run_dir, handle = panel.launched[0]
    assert config["lr"] == 0.01 and run_dir.name.endswith("-lr=0.01")
    handle.put(Done("finished", str(run_dir), None, 1, 4, 1.0))
    qtbot.waitUntil(lambda: len(panel.launched) == 2, timeout=5000)
    assert [r.label for r in panel.comparison.comparison.runs] == [run_dir.name]   # the first, finished
    config2, run_dir2, handle2 = panel.launched[1]
    assert config2["lr"] == 0.03 and run_dir2.name.endswith("-lr=0.03")
    handle2.put(Done("finished", str(run_dir2), None, 1, 4, 1.0))
    qtbot.waitUntil(lambda: not box.active, timeout=5000)
    runs = panel.comparison.comparison.runs
    assert [r.label for r in runs] == [run_dir2.name, run_dir.name]      # best first: 80 % before 60 %
    assert panel.tabs.currentWidget() is panel.comparison
    assert sweep_box.note.text() == "Sweep done: 2 of 2 runs, best first in the Compare tab."


def test_a_sweep_that_cannot_start_says_why(panel, qtbot):
    from designer.ui.training.sweep_runner import SweepBox
    sweep_box = panel.findChild(SweepBox)
    sweep_box.text.setText("lr=fast")
    qtbot.mouseClick(sweep_box.button, Qt.MouseButton.LeftButton)
    assert not panel.launched and not sweep_box.note.isHidden()
    assert sweep_box.note.text() == "lr: 'fast' is not a number"


def test_closing_the_window_during_a_sweep_starts_no_further_run(panel, qtbot):
    from designer.ui.training.sweep_runner import SweepBox
    sweep_box = panel.findChild(SweepBox)
    sweep_box.text.setText("lr=0.01,0.03")
    qtbot.mouseClick(sweep_box.button, Qt.MouseButton.LeftButton)
    assert len(panel.launched) == 1
    panel.shutdown()   # the window's close hook: the run going ends as "the window closed"
    qtbot.waitUntil(lambda: not panel.sweeper.active, timeout=5000)
    qtbot.wait(50)
    assert len(panel.launched) == 1
