"""Training from the window (designer/ui/training), through its real widgets:
the Train dock and its menus, a real worker process training LeNet-5 on digits and
stopped from the panel, a worker killed mid-run, and each view (live plots,
progress, results, runs list, dataset and device pickers, settings) fed events."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from designer.graph.fileformat import dumps
from designer.graph.model import SetParam
from designer.train.events import CRASH, Done, Epoch, Error, Started, Step

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test touches a person's settings or data, no dialog waits for a click."""
    monkeypatch.setenv("DESIGNER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESIGNER_DATA", str(tmp_path / "datasets"))
    monkeypatch.setenv("DESIGNER_NO_PRELOAD", "1")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2] if len(a) > 2 else a))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return shown


@pytest.fixture(scope="module")
def themed(qapp):
    from designer.ui import theme
    theme.apply(qapp, dark=False)


@pytest.fixture
def window(qtbot, themed):
    from designer.ui.main_window import MainWindow
    w = MainWindow(remember=False)
    w.resize(1500, 950)
    assert w.open_source("lenet5", ask=False)
    panel = w.training_panel   # the one Train panel the window assembles
    w.show()
    qtbot.waitExposed(w)
    panel.reveal()
    yield w
    panel.shutdown()
    w.autosave.stop()
    w.scene.detach()
    w.controller.history.set_clean()
    w.close()
    w.deleteLater()
    QApplication.processEvents()


def menu_texts(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


# ---- the window ------------------------------------------------------------------------------

def test_the_window_has_one_train_dock_one_training_menu_and_no_window_hooks(window):
    from PySide6.QtWidgets import QDockWidget
    from designer.ui.training import DOCK_KEY
    panel = window.training_panel
    docks = [d for d in window.findChildren(QDockWidget) if d.objectName() == f"dock_{DOCK_KEY}"]
    assert docks == [window.docks[DOCK_KEY]] and docks[0].widget() is panel
    assert len(window.findChildren(type(panel))) == 1
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.count("T&raining") == 1 and titles.index("T&raining") == titles.index("&Tools") - 1
    assert not (ROOT / "designer" / "ui" / "training" / "window_hooks.py").exists()
    # the Train tab sits with the Summary; Feature Maps starts closed
    assert window.docks["summary"] in window.tabifiedDockWidgets(docks[0])
    assert window.docks["feature_maps"].isHidden()


def test_the_train_dock_the_training_menu_and_export_trained_model(window):
    panel = window.training_panel
    assert window.docks["training"].widget() is panel
    bar = {a.text(): a.menu() for a in window.menuBar().actions() if a.menu() is not None}
    training = bar["T&raining"]
    assert menu_texts(training)[:3] == ["Start Training", "Pause", "Stop"]
    assert training.actions()[0].shortcut().toString() == "F5"
    export = next(a.menu() for a in bar["&File"].actions() if a.text() == "Export &Trained Model")
    assert [t.split(" (")[0] for t in menu_texts(export)][:2] == ["TorchScript", "Weights with the Drawing"]
    # nothing has run yet: start can, pause / stop / export cannot
    assert panel.start_action.isEnabled() and panel.start_button.isEnabled()
    assert not panel.pause_action.isEnabled() and not panel.stop_action.isEnabled()
    assert not any(a.isEnabled() for a in panel.export_actions)
    assert "LeNet-5" in panel.state_label.text()


def test_the_panel_never_imports_torch_on_the_gui_thread():
    """Opening a document with the Train dock shown, choosing a dataset, reading the settings:
    no import of torch starts from designer/ui/training on the GUI thread (the pickers'
    threads may import it)."""
    code = """
import builtins, os, sys, tempfile, threading, traceback
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["DESIGNER_SETTINGS"] = tempfile.mkdtemp() + "/s.ini"
os.environ["DESIGNER_DATA_DIR"] = tempfile.mkdtemp()
offenders = []
real_import = builtins.__import__
def watching(name, *args, **kwargs):
    if name.split(".")[0] == "torch" and threading.current_thread() is threading.main_thread():
        stack = "".join(traceback.format_stack())
        if "designer/ui/training" in stack:
            offenders.append(stack)
    return real_import(name, *args, **kwargs)
builtins.__import__ = watching
from designer.ui.app import application
app = application()
from designer.ui.main_window import MainWindow
w = MainWindow(remember=False)
panel = w.training_panel
w.open_source("lenet5", ask=False)
w.show()
panel.reveal()
panel.datasets.select("shapes")
for _ in range(50):
    app.processEvents()
panel.params.config(panel.datasets.dataset, panel.devices.device)
panel.finetune.attached()
print("OFFENDERS", len(offenders), panel.params.lr.text())
print("".join(offenders[:1]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("OFFENDERS"))
    assert line == "OFFENDERS 0 0.002", out.stdout    # LeNet-5's own learning rate, and no torch


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_train_lenet5_on_digits_from_the_panel_then_stop_and_export(window, qtbot, tmp_path, monkeypatch):
    import torch
    panel = window.training_panel
    c = window.controller
    panel.datasets.select("digits")
    qtbot.waitUntil(lambda: panel.datasets.class_count == 10, timeout=60000)   # preview and class count
    assert len(panel.datasets.preview.tiles) == 16
    panel.params.epochs.setValue(30)          # long enough to be stopped by hand
    panel.params.threads.setValue(1)
    drawn = dumps(c.graph)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.session.state == "starting" and not panel.start_button.isEnabled()

    def curve_points():
        item = panel.plots._items.get("loss_raw")
        return 0 if item is None or item.xData is None else len(item.xData)
    qtbot.waitUntil(lambda: curve_points() >= 3 and panel.progress.step_bar.value() > 0, timeout=90000)
    assert panel.plots.frames >= 1
    assert panel.progress.epoch_bar.maximum() == 30 and "img/s" in panel.progress.speed.text()

    # editing during the run: allowed, and the run keeps the version it started with
    c.edit("head", [SetParam("f6", "out_features", 40)])
    assert panel.version_note.isVisible() and "apply to the next run" in panel.version_note.text()

    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.session.state == "ended", timeout=60000)
    assert isinstance(panel.session.last_event, Done) and panel.session.last_event.reason == "stopped"
    assert panel.state_label.text().startswith("Stopped at step")
    assert not panel.version_note.isVisible() and panel.start_button.isEnabled()
    assert c.graph.nodes["f6"].params["out_features"] == 40    # the edit is still there

    run = panel.shown_run
    assert run.parent == panel.runs_root()
    model = torch.jit.load(str(run / "model.pt"))
    x = torch.randn(3, 1, 32, 32)
    expected = model(x)
    assert expected.shape == (3, 10)
    assert (run / "document.json").read_text(encoding="utf-8") == drawn    # trained as drawn at Start
    record = panel.runs.records[0]
    assert record.path == run and record.status == "stopped"
    assert panel.runs.tree.topLevelItem(0).text(1) == "stopped"

    # File ▸ Export Trained Model ▸ TorchScript: the same network as model.pt
    target = tmp_path / "exported.pt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    torchscript = next(a for a in panel.export_actions if a.text().startswith("TorchScript"))
    assert torchscript.isEnabled()
    torchscript.trigger()
    qtbot.waitUntil(lambda: not panel.exporter.busy, timeout=60000)
    assert torch.equal(torch.jit.load(str(target))(x), expected)
    # … and as weights with the drawing, which load_graph reads back
    from designer import load_graph
    weights = tmp_path / "with_drawing.pt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(weights), ""))
    next(a for a in panel.export_actions if a.text().startswith("Weights")).trigger()
    qtbot.waitUntil(lambda: not panel.exporter.busy, timeout=60000)
    rebuilt = load_graph(weights).compile().eval()
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), expected, atol=1e-6)


@pytest.mark.slow
def test_killing_the_worker_mid_run_ends_the_run_and_leaves_the_window_working(window, qtbot):
    panel = window.training_panel
    c = window.controller
    panel.params.epochs.setValue(50)
    panel.params.threads.setValue(1)
    before = dumps(c.graph)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.history.step_count >= 2, timeout=90000)
    panel.session.handle.kill()
    qtbot.waitUntil(lambda: panel.session.state == "ended", timeout=20000)
    assert panel.problem.isVisible()
    assert "ended unexpectedly" in panel.problem.text()
    assert isinstance(panel.session.last_event, Error) and panel.session.last_event.kind == CRASH
    # the window responds: timers fire, edits and undo work, the graph is whole
    fired = []
    from PySide6.QtCore import QTimer
    QTimer.singleShot(10, lambda: fired.append(1))
    qtbot.waitUntil(lambda: bool(fired), timeout=2000)
    assert dumps(c.graph) == before and c.analysis.total_params == 61706
    c.edit("try", [SetParam("f6", "out_features", 50)])
    c.history.undo()
    assert dumps(c.graph) == before
    assert panel.start_button.isEnabled()
    assert panel.runs.records[0].status == "failed"


# ---- the event pump --------------------------------------------------------------------------

class FakeHandle:
    """A worker handle whose events the test hands out."""

    def __init__(self):
        self.waiting = []
        self.alive = True
        self.finished = False
        self.exitcode = None
        self.lock = threading.Lock()

    def put(self, *events):
        with self.lock:
            self.waiting.extend(events)

    def poll(self):
        with self.lock:
            out, self.waiting = self.waiting, []
        if any(isinstance(e, (Done, Error)) for e in out):
            self.finished = True
        return out

    def is_alive(self):
        return self.alive


def step(i, loss=1.0, epoch=1, step_in_epoch=None, time_s=None, samples_per_s=100.0, lr=0.01, **values):
    return Step(epoch=epoch, step=i if step_in_epoch is None else step_in_epoch, global_step=i, loss=loss, lr=lr,
                samples_per_s=samples_per_s, time_s=i * 0.1 if time_s is None else time_s, values=values)


def epoch_event(epoch, global_step=0, train=None, val=None, lr=0.01, **results):
    return Epoch(epoch=epoch, global_step=global_step, time_s=1.0, lr=lr, train=train or {}, val=val or {},
                 train_time_s=1.0, samples_per_s=100.0, **results)


def start_event(epochs, steps_per_epoch, total_steps, device="cpu (1 thread)", resumed_at=None):
    return Started(config={"epochs": epochs}, epochs=epochs, device=device, task="classification",
                   task_description="classification", dataset="digits", classes=[], train_size=100, val_size=20,
                   steps_per_epoch=steps_per_epoch, total_steps=total_steps, world_size=1, resumed_at=resumed_at,
                   columns=[], run_dir="run")


def done_event(reason="finished"):
    return Done(reason=reason, run_dir="run", best=None, epoch=1, global_step=1, time_s=1.0)


def test_the_event_pump_coalesces_steps_keeps_the_order_and_ends_once(qtbot):
    from designer.ui.training.event_pump import EventPump
    handle = FakeHandle()
    pump = EventPump(handle)
    got = []
    pump.steps.connect(lambda events: got.append(("steps", [e.global_step for e in events])))
    pump.event.connect(lambda e: got.append((type(e).__name__, e.epoch)))
    pump.ended.connect(lambda e: got.append(("end", type(e).__name__)))
    handle.put(*[step(i) for i in range(1, 201)], epoch_event(1), step(201), step(202))
    pump.start()
    qtbot.waitUntil(lambda: len(got) >= 3, timeout=5000)
    assert got[:3] == [("steps", list(range(1, 201))), ("Epoch", 1), ("steps", [201, 202])]
    handle.put(done_event(), step(999))
    qtbot.waitUntil(lambda: ("end", "Done") in got, timeout=5000)
    qtbot.wait(100)
    assert got.count(("end", "Done")) == 1 and not any(k == "steps" and 999 in v for k, v in got)
    assert pump.finished


def test_a_worker_that_dies_silently_ends_the_run_with_a_reason(qtbot, monkeypatch):
    from designer.ui.training import event_pump
    monkeypatch.setattr(event_pump, "DEAD_QUIET_S", 0.2)
    handle = FakeHandle()
    handle.poll = lambda: time.sleep(0.05) or []     # a reader that never hears the end
    pump = event_pump.EventPump(handle)
    ended = []
    pump.ended.connect(ended.append)
    pump.start()
    handle.alive = False
    handle.exitcode = -9
    qtbot.waitUntil(lambda: bool(ended), timeout=5000)
    assert isinstance(ended[0], Error) and ended[0].kind == CRASH and "exit code -9" in ended[0].message


# ---- plots -----------------------------------------------------------------------------------

def fake_run(steps=300, epochs=3, scale=1.0, seed=0):
    from designer.ui.training.history import History
    rng = np.random.default_rng(seed)
    h = History()
    per = steps // epochs
    events = [step(i + 1, epoch=i // per + 1, step_in_epoch=i % per + 1,
                   loss=float(scale * np.exp(-i / 80) + 0.05 * rng.random()), lr=0.01 * 0.5 ** (i // per),
                   samples_per_s=500.0, time_s=0.01 * i) for i in range(steps)]
    h.add_steps(events[:100])
    h.add_steps(events[100:])
    for e in range(1, epochs + 1):
        h.add_epoch(epoch_event(e, e * per, train={"loss": 1.0 / e, "accuracy": 0.5 + 0.1 * e},
                                val={"loss": 1.2 / e, "accuracy": 0.45 + 0.1 * e}))
    return h, events


def reference_smoothing(values, weight):
    """TensorBoard's smoothing written out plainly."""
    out, last, n = [], 0.0, 0
    for v in values:
        last = last * weight + (1 - weight) * v
        n += 1
        out.append(last / (1 - weight ** n))
    return np.array(out)


def data(item):
    """What was handed to pyqtgraph (getData() is what is in view, after clipping)."""
    return item.xData, item.yData


def test_plots_draw_smooth_zoom_read_out_compare_and_save(qtbot, tmp_path, themed):
    from designer.ui.training.history import History
    from designer.ui.training.plots import TrainingPlots
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 500)
    plots.show()
    h, events = fake_run()
    plots.set_history(h)
    raw = data(plots._items["loss_raw"])
    assert len(raw[0]) == 300 and np.allclose(raw[1], [e.loss for e in events])
    plots.smoothing.setValue(90)
    plots.redraw()
    smoothed = data(plots._items["loss_smooth"])[1]
    assert np.allclose(smoothed, reference_smoothing([e.loss for e in events], 0.9))
    vx, vy = data(plots._items["epoch_loss"])
    assert list(vx) == [100, 200, 300] and np.allclose(vy, [1.2, 0.6, 0.4])
    assert np.allclose(data(plots._items["metric_val_accuracy"])[1], [0.55, 0.65, 0.75])
    assert plots.loss_plot.getViewBox().state["mouseEnabled"] == [True, True]    # pan and zoom
    plots.log_scale.setChecked(True)
    assert plots.loss_plot.ctrl.logYCheck.isChecked()

    text = plots.show_readout(151.4)
    assert text.startswith("step 151 (epoch 2)") and f"loss {events[150].loss:.4g}" in text
    assert text.endswith("after epoch 1: validation loss 1.2, accuracy 55.0%")

    plots.log_scale.setChecked(False)
    # an earlier run compared, then removed with its chip
    other, _ = fake_run(scale=2.0, seed=1)
    other.to_csv(tmp_path / "other.csv")
    plots.add_overlay("run-earlier", History.from_csv(tmp_path / "other.csv"))
    loss_item = plots._overlay_items["run-earlier"][0][1]
    assert np.allclose(data(loss_item)[1], reference_smoothing(other.column("loss"), 0.9))
    qtbot.waitUntil(lambda: plots._chips["run-earlier"].isVisible(), timeout=2000)
    qtbot.mouseClick(plots._chips["run-earlier"], Qt.MouseButton.LeftButton)
    assert plots.overlays == {} and "run-earlier" not in plots._overlay_items

    plots.save_png(tmp_path / "curves.png")
    assert not QImage(str(tmp_path / "curves.png")).isNull()
    plots.save_csv(tmp_path / "metrics.csv")
    back = History.from_csv(tmp_path / "metrics.csv")
    assert np.allclose(back.column("loss"), [e.loss for e in events])
    assert np.allclose(back.column("lr"), [e.lr for e in events])
    assert back.epochs[-1]["val"] == {"loss": pytest.approx(0.4), "accuracy": pytest.approx(0.75)}


def test_plots_redraw_at_most_twenty_times_a_second_and_not_when_hidden(qtbot, themed):
    from designer.ui.training.history import History
    from designer.ui.training.plots import FRAME_MS, TrainingPlots
    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.show()
    h = History()
    plots.set_history(h)
    start_frames = plots.frames
    started = time.monotonic()
    for i in range(1, 400):        # 400 event batches as fast as they come
        h.add_steps([step(i)])
        plots.schedule()
        qtbot.wait(1)
    qtbot.wait(80)
    elapsed = time.monotonic() - started
    frames = plots.frames - start_frames
    assert FRAME_MS == 50 and frames <= elapsed / 0.050 + 2
    assert len(data(plots._items["loss_raw"])[0]) == 399     # and the last points are drawn
    plots.hide()
    before = plots.frames
    h.add_steps([step(400)])
    plots.schedule()
    qtbot.wait(150)
    assert plots.frames == before                           # out of sight: no redraw …
    plots.show()
    qtbot.waitUntil(lambda: len(data(plots._items["loss_raw"])[0]) == 400, timeout=2000)   # … until shown


def test_history_reads_the_engines_metrics_csv(tmp_path):
    """metrics.csv as designer.train.metrics_log writes it."""
    from designer.train.metrics_log import MetricsLog, columns_for
    from designer.ui.training.history import History
    log = MetricsLog(tmp_path / "metrics.csv", columns_for(("loss",), ("accuracy",)))
    for i in range(1, 5):
        log.write({"kind": "step", "epoch": 1, "step": i, "global_step": i, "loss": 1.0 / i, "lr": 0.1})
    log.write({"kind": "train", "epoch": 1, "step": 4, "global_step": 4, "loss": 0.5, "accuracy": 0.6})
    log.write({"kind": "val", "epoch": 1, "step": 4, "global_step": 4, "loss": 0.7, "accuracy": 0.55})
    log.close()
    h = History.from_csv(tmp_path / "metrics.csv")
    assert np.allclose(h.column("loss"), [1, 0.5, 1 / 3, 0.25]) and h.step_names == ["loss"]
    assert h.epochs == [{"epoch": 1, "global_step": 4, "time_s": pytest.approx(float("nan"), nan_ok=True),
                         "lr": pytest.approx(float("nan"), nan_ok=True),
                         "train": {"loss": 0.5, "accuracy": 0.6}, "val": {"loss": 0.7, "accuracy": 0.55}}]


# ---- progress --------------------------------------------------------------------------------

def test_progress_bars_speed_elapsed_and_eta(qtbot, themed):
    from designer.ui.training.progress import LogView, ProgressStrip
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    strip.starting()
    assert strip.epoch_bar.maximum() == 0          # busy while PyTorch loads
    strip.on_start(start_event(4, 50, 200))
    assert not strip.memory.isVisibleTo(strip)     # no GPU: no memory read-out
    strip.on_steps([step(1, epoch=1, step_in_epoch=1, time_s=1.0, samples_per_s=320.0)])
    strip.on_steps([step(61, epoch=2, step_in_epoch=11, time_s=7.0, samples_per_s=320.0)])
    assert strip.epoch_bar.value() == 1 and strip.step_bar.value() == 11
    assert strip.step_bar.text().startswith("Step 11 of 50") or "Step 11 of 50" in strip.step_bar.format()
    assert strip.speed.text() == "320 img/s" and strip.elapsed.text() == "0:07"
    assert strip.eta.text() == "0:14"               # 139 steps left at 60 steps / 6 s
    strip.on_start(start_event(1, 5, 5, device="cuda:0 (H100)"))
    strip.show_memory(3 * 2**30)
    assert strip.memory.isVisibleTo(strip) and strip.memory.text() == "3.0 GiB"
    log = LogView()
    qtbot.addWidget(log)
    log.add("first\nsecond")
    assert log.toPlainText().splitlines()[0].endswith("first")


# ---- results ---------------------------------------------------------------------------------

def grid_of(images, columns):
    from designer.train.images import grid
    return grid(images, columns)


def test_results_show_the_confusion_matrix_and_predictions_mistakes_first(qtbot, themed, tmp_path):
    from designer.ui.training import results_store
    from designer.ui.training.results import ResultsView, mistakes_first, split_grid
    rng = np.random.default_rng(0)
    tiles = rng.integers(0, 255, size=(16, 8, 8, 3), dtype=np.uint8)
    picture = grid_of(tiles, 8)
    assert all(np.array_equal(a, b) for a, b in zip(split_grid(picture, 16, 8), tiles))
    predicted = [0, 1, 2, 3, 9, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 4]
    true = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5]
    confusion = np.eye(10, dtype=int) * 30
    confusion[4, 9] = 2
    event = epoch_event(1, images={"predictions": picture}, confusion=confusion.tolist(),
                        predictions={"predicted": predicted, "true": true, "columns": 8})
    view = ResultsView()
    qtbot.addWidget(view)
    view.set_classes([str(i) for i in range(10)])
    view.add_epoch(event)
    view.show()
    assert view.confusion.isVisible() and view.predictions.isVisible()
    assert np.array_equal(view.confusion.matrix, confusion)
    order = view.predictions.order
    assert order[:2] == [("9", "4"), ("4", "5")]            # the two mistakes come first
    assert [i for i in mistakes_first(predicted, true)][:2] == [4, 15]
    # kept in the run folder and read back
    results_store.save_epoch(tmp_path, results_store.EpochResults.from_event(event, view.classes))
    back = results_store.load_epochs(tmp_path)
    assert back[0].confusion == confusion.tolist() and np.array_equal(back[0].images["predictions"], picture)


def test_gan_samples_go_through_the_epochs_with_a_slider(qtbot, themed):
    from designer.ui.training.results import ResultsView
    view = ResultsView()
    qtbot.addWidget(view)
    view.show()
    pictures = [np.full((20, 30, 3), 40 * e, dtype=np.uint8) for e in range(1, 4)]
    for e, picture in enumerate(pictures, start=1):
        view.add_epoch(epoch_event(e, images={"samples": picture}))
    assert view.slider.isEnabled() and view.slider.maximum() == 2
    title, shown = view.pictures["samples"]
    assert np.array_equal(shown.array, pictures[2]) and "same noise" in title.text()
    view.slider.setValue(0)
    assert np.array_equal(shown.array, pictures[0]) and view.epoch_label.text().startswith("Epoch 1")
    view.add_epoch(epoch_event(4, images={"samples": pictures[0]}))
    assert view.slider.value() == 0                  # looking back: a new epoch does not pull the view


def test_vae_and_segmentation_pictures(qtbot, themed):
    from designer.ui.training.results import ResultsView
    view = ResultsView()
    qtbot.addWidget(view)
    view.show()
    recon, samples = np.zeros((20, 40, 3), np.uint8), np.ones((30, 30, 3), np.uint8)
    view.add_epoch(epoch_event(1, images={"reconstructions": recon, "samples": samples}))
    assert view.pictures["reconstructions"][1].isVisible() and view.pictures["samples"][1].isVisible()
    assert not view.confusion.isVisible()
    view.set_classes(["circle", "square", "triangle"])
    view.add_epoch(epoch_event(2, images={"segmentation": recon}, confusion=[[5, 1], [0, 4]]))
    assert view.pictures["segmentation"][1].isVisible() and not view.pictures["samples"][1].isVisible()
    assert view.confusion.classes == ["background", "foreground"]


# ---- runs ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """LeNet-5 trained in this process for a few steps and stopped, laid out as the panel
    leaves a run (document.json, run.json, results/)."""
    from designer import load_graph
    from designer.train.config import TrainConfig
    from designer.train import run_listing
    from designer.train.engine import Trainer
    root = tmp_path_factory.mktemp("runs")
    run = root / "run-20260101-120000"
    graph = load_graph("lenet5").graph
    events = []

    def on_event(e):
        events.append(e)
        if isinstance(e, Step) and e.global_step == 12:
            trainer.stop()
    trainer = Trainer(graph, TrainConfig(epochs=3, limit=160, batch_size=16, threads=1), run, on_event)
    trainer.run()
    (run / run_listing.DOCUMENT).write_text(dumps(graph), encoding="utf-8")
    run_listing.update_meta(run, status=run_listing.STOPPED, reason="stopped by you", task="classification",
                            classes=[str(i) for i in range(10)], epochs_done=1)
    return run, events


def test_the_runs_list_shows_compares_and_resumes_earlier_runs(qtbot, themed, stopped_run, tmp_path):
    from designer.train.run_folder import DOCUMENT
    from designer.ui.document import DocumentController
    from designer.ui.training.panel import TrainingPanel
    from designer.ui.training.session import TrainingSession
    from designer import load_graph
    run, events = stopped_run
    launched = []

    def launcher(document_json, config, run_dir, resume=False, **kw):
        launched.append((document_json, config, Path(run_dir), resume))
        handle = FakeHandle()
        handle.kill = lambda: None
        handle.stop = handle.resume = handle.pause = lambda: None
        handle.join = lambda t=None: None
        return handle
    controller = DocumentController(load_graph("lenet5").graph)
    panel = TrainingPanel(controller, data_dir=tmp_path, session=TrainingSession(start_worker=launcher))
    qtbot.addWidget(panel)
    panel.runs.set_root(run.parent)
    assert [r.name for r in panel.runs.records] == [run.name]
    item = panel.runs.tree.topLevelItem(0)
    assert item.text(1) == "stopped" and "digits" in item.text(2) and item.text(3).startswith("accuracy")
    item.setSelected(True)
    assert panel.runs.resume_button.isEnabled() and panel.runs.export_button.isEnabled()

    qtbot.mouseClick(panel.runs.view_button, Qt.MouseButton.LeftButton)
    steps = [e for e in events if isinstance(e, Step)]
    assert panel.history.step_count == len(steps) == 12
    assert np.allclose(panel.history.column("loss"), [e.loss for e in steps])
    assert panel.results.epochs == [] and panel.shown_run == run
    qtbot.mouseClick(panel.runs.compare_button, Qt.MouseButton.LeftButton)
    assert list(panel.plots.overlays) == [run.name]

    qtbot.mouseClick(panel.runs.resume_button, Qt.MouseButton.LeftButton)
    document_json, config, run_dir, resume = launched[0]
    assert resume and run_dir == run and config == json.loads((run / "config.json").read_text())
    assert document_json == (run / DOCUMENT).read_text(encoding="utf-8")
    assert panel.session.state == "starting" and panel.history.step_count == 12   # continues the curves
    panel.session.pump.close()


def test_the_runs_list_reads_run_folders_without_torch_or_qt():
    """designer.train.run_listing runs on the GUI thread: importing it must not import torch
    (seconds, and a garbage collection hazard there) nor Qt (it sits below designer.ui)."""
    code = ("import sys, designer.train.run_listing as r, designer.train.run_folder as f; "
            "assert r.LAST is f.LAST and r.DOCUMENT is f.DOCUMENT; "
            "print(sorted(m for m in ('torch', 'PySide6', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_runs_live_beside_a_saved_document_or_in_the_data_folder(tmp_path):
    from datetime import datetime
    from designer.train.run_listing import new_run_dir, runs_root
    assert runs_root(tmp_path / "my net.json", "x", tmp_path / "data") == tmp_path / "my net.runs"
    assert runs_root(None, "LeNet-5", tmp_path / "data") == tmp_path / "data" / "runs" / "lenet-5"
    when = datetime(2026, 1, 2, 3, 4, 5)
    first = new_run_dir(tmp_path, when)
    first.mkdir()
    assert first.name == "run-20260102-030405" and new_run_dir(tmp_path, when).name == "run-20260102-030405-2"


# ---- pickers and settings --------------------------------------------------------------------

def write_class_folder(root: Path):
    for name, value in (("cat", 40), ("dog", 200)):
        (root / name).mkdir(parents=True)
        for i in range(3):
            image = QImage(12, 12, QImage.Format.Format_Grayscale8)
            image.fill(value + i)
            image.save(str(root / name / f"{i}.png"))


def test_dataset_picker_lists_previews_and_takes_a_folder(qtbot, themed, tmp_path, monkeypatch):
    from designer.ui.training.dataset_picker import DatasetPicker
    picker = DatasetPicker()
    qtbot.addWidget(picker)
    assert picker.find("digits") >= 0 and picker.find("shapes") >= 0      # at once, without torch
    picker.set_input_shape((1, 32, 32))
    assert not picker.listed and picker.preview.message == "Loading a preview…"   # nothing until shown
    picker.show()
    qtbot.waitUntil(lambda: picker.class_count == 10, timeout=60000)
    assert len(picker.preview.tiles) == 16 and "10 classes" in picker.summary.text()

    # MNIST is offered only once its files are in the data folder (downloads are off in tests)
    picker.list_more()
    qtbot.waitUntil(lambda: "scikit-learn" in picker.combo.itemText(picker.find("digits")), timeout=30000)
    assert picker.find("mnist") < 0
    raw = Path(os.environ["DESIGNER_DATA"]) / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"")
    again = DatasetPicker()
    qtbot.addWidget(again)
    again.list_more()
    qtbot.waitUntil(lambda: again.find("mnist") >= 0, timeout=30000)

    write_class_folder(tmp_path / "pets")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "pets"))
    chosen = []
    picker.changed.connect(chosen.append)
    qtbot.mouseClick(picker.folder_button, Qt.MouseButton.LeftButton)
    assert picker.dataset == f"folder:{tmp_path / 'pets'}" and chosen == [picker.dataset]
    qtbot.waitUntil(lambda: picker.class_count == 2, timeout=30000)
    assert "2 classes: cat, dog" in picker.summary.text() and len(picker.preview.tiles) == 6


def test_device_picker_offers_the_cpu_at_once_and_gpus_found_by_the_probe(qtbot, themed):
    from designer.ui.training.device_picker import DevicePicker
    from designer.ui.training.hardware import parse_compute_apps, parse_probe
    found = parse_probe({"torch": "2.14.1", "cuda": [{"index": 0, "name": "NVIDIA H100 80GB HBM3",
                                                       "memory": 85 * 10**9}], "mps": False})
    picker = DevicePicker(probe=lambda: found)
    qtbot.addWidget(picker)
    cores = os.cpu_count()
    assert picker.combo.itemText(1) == f"CPU ({cores} core{'s' if cores != 1 else ''})"
    picker.show()                                    # the probe starts when it is first shown
    qtbot.waitUntil(lambda: picker.combo.count() == 3, timeout=5000)
    assert picker.combo.itemText(2) == "GPU: NVIDIA H100 80GB HBM3, 79.2 GiB"
    picker.select("cuda")
    assert picker.device == "cuda"
    none, note = parse_probe({"torch": "2.14.1", "cuda": [], "mps": False})
    assert none == [] and "No GPU" in note
    assert parse_compute_apps("123, 2048\n456, 10\n", 123) == 2048 * 2**20
    assert parse_compute_apps("", 123) is None


def test_the_real_probe_asks_pytorch_in_a_child_process():
    import torch
    from designer.ui.training.hardware import probe_devices
    choices, note = probe_devices()
    assert [c.value for c in choices if c.value == "cuda"] == (["cuda"] if torch.cuda.is_available() else [])
    if torch.cuda.is_available():
        assert torch.cuda.get_device_name(0) in choices[0].label
    else:
        assert note


def test_settings_come_from_the_document_and_bad_values_are_refused_in_one_line(window, qtbot):
    panel = window.training_panel
    assert panel.params.lr.text() == "0.002" and panel.params.epochs.value() == 3
    assert window.open_source("alexnet", ask=False)
    p = panel.params
    assert p.optimizer.currentData() == "sgd" and p.momentum.value() == pytest.approx(0.9)
    assert p.weight_decay.text() == "0.0005" and p.schedule.currentData() == "plateau"
    assert [n for n, box in p.augment.items() if box.isChecked()] == ["random_crop", "hflip", "normalize"]
    config = p.config("cifar10", "auto")
    assert (config.optimizer, config.momentum, config.weight_decay, config.batch_size) == ("sgd", 0.9, 0.0005, 128)
    p.lr.setText("fast")
    assert not panel.start()
    assert panel.problem.isVisible() and panel.problem.text() == \
        "learning rate must be a number like 0.001 or 1e-3, not 'fast'"
    p.lr.setText("-1")
    assert not panel.start() and panel.problem.text() == "lr must be above 0, not -1"
    assert panel.session.state == "idle"
