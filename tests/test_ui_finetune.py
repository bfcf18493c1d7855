"""Fine-tuning from the window (designer/ui/training/finetune.py): weights loaded from a
run's checkpoint or a file with a report of what matched, blocks frozen and unfrozen
through undoable edits with the trainable count following, the head replaced; and
the worker really starts from the loaded weights and leaves frozen blocks as they were."""
from __future__ import annotations

import os
import pickle
import queue
import threading
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from designer import load_graph
from designer.graph.fileformat import dumps
from designer.graph.model import SetField
from designer.compile import compile_graph

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("DESIGNER_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("DESIGNER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESIGNER_NO_PRELOAD", "1")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A short LeNet-5 run on digits in this process: its folder holds best.pt and last.pt."""
    from designer.train.config import TrainConfig
    from designer.train import run_listing
    from designer.train.engine import Trainer
    run = tmp_path_factory.mktemp("runs") / "run-20260101-000000"
    graph = load_graph("lenet5").graph
    Trainer(graph, TrainConfig(epochs=1, limit=160, batch_size=16, threads=1), run).run()
    (run / run_listing.DOCUMENT).write_text(dumps(graph), encoding="utf-8")
    run_listing.update_meta(run, status=run_listing.FINISHED, task="classification")
    return run


@pytest.fixture
def controller(qapp):
    from designer.ui.document import DocumentController
    c = DocumentController(load_graph("lenet5").graph)
    yield c
    c.close()


@pytest.fixture
def panel(qtbot, controller):
    from designer.ui.training.finetune import FineTunePanel
    p = FineTunePanel(controller)
    qtbot.addWidget(p)
    p.show()
    return p


def compiled_trainable(graph) -> tuple[int, int]:
    model = compile_graph(graph)
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def test_weights_from_a_runs_checkpoint_are_matched_reported_and_used_by_compile(panel, controller, qtbot,
                                                                                  trained_run):
    from designer.train.run_listing import list_runs
    panel.set_runs(list_runs(trained_run.parent))
    assert panel.source.currentText() == f"{trained_run.name} · best epoch"
    qtbot.mouseClick(panel.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report.text().startswith("Loaded"), timeout=60000)
    assert panel.report.text().splitlines()[0] == "Loaded 10 of 10 tensors."
    assert "10 trained tensors" in panel.weights_status.text() and "best.pt" in panel.weights_status.text()
    checkpoint = torch.load(trained_run / "best.pt", weights_only=True)["nets"]["model"]
    model = controller.document.compile()
    for key, value in model.state_dict().items():
        assert torch.equal(value, checkpoint[key]), key
    assert set(controller.weights) == set(checkpoint)
    qtbot.mouseClick(panel.forget_button, Qt.MouseButton.LeftButton)
    assert controller.weights is None and "freshly" in panel.weights_status.text()


def test_a_file_with_another_head_is_loaded_in_part_and_a_hostile_file_is_refused(panel, controller, qtbot,
                                                                                  tmp_path, monkeypatch):
    other = load_graph("lenet5").graph
    other.set_param("output", "out_features", 3)
    state = compile_graph(other).state_dict()
    torch.save(state, tmp_path / "three_classes.pt")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "three_classes.pt"), ""))
    qtbot.mouseClick(panel.file_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.report.text().startswith("Loaded"), timeout=60000)
    lines = panel.report.text().splitlines()
    assert lines[0].startswith("Loaded 8 of 10 tensors; 2 with another shape")
    assert "output.weight (3×84 in the file, 10×84 here)" in panel.report.text()
    assert set(controller.weights) == set(state) - {"output.weight", "output.bias"}
    assert torch.equal(controller.document.compile().state_dict()["c5.weight"], state["c5.weight"])

    class Hostile:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    with open(tmp_path / "hostile.pt", "wb") as f:
        pickle.dump({"state_dict": Hostile()}, f)
    panel.load(tmp_path / "hostile.pt")
    qtbot.waitUntil(lambda: panel.report.text().startswith("Nothing was loaded"), timeout=30000)
    assert "\n" not in panel.report.text()


def test_freezing_a_range_is_one_undo_step_and_the_trainable_count_follows(panel, controller, qtbot):
    ids = [panel.first.itemData(i) for i in range(panel.first.count())]
    assert ids == ["c1", "c3", "c5", "f6", "output"]          # blocks with weights, in running order
    assert panel.trainable.text() == "Trainable: 61,706 of 61,706 parameters"
    panel.first.setCurrentIndex(0)
    panel.last.setCurrentIndex(ids.index("c5"))
    panel.freeze_button.click()
    assert [n for n, node in controller.graph.nodes.items() if not node.trainable] == ["c1", "c3", "c5"]
    trainable, total = compiled_trainable(controller.graph)   # what PyTorch will train
    assert (trainable, total) == (controller.analysis.trainable_params, 61706)
    qtbot.waitUntil(lambda: panel.trainable.text() ==   # at the controller's next analysis (a 0 ms timer)
                    f"Trainable: {trainable:,} of 61,706 parameters (3 blocks frozen)", timeout=2000)
    assert controller.history.count == 1 and controller.history.undo_text == "Freeze C1 … C5"
    controller.history.undo()
    assert all(n.trainable for n in controller.graph.nodes.values())
    qtbot.waitUntil(lambda: panel.trainable.text() == "Trainable: 61,706 of 61,706 parameters", timeout=2000)
    controller.history.redo()
    panel.first.setCurrentIndex(ids.index("c3"))
    panel.last.setCurrentIndex(ids.index("c3"))
    panel.unfreeze_button.click()
    assert [n for n, node in controller.graph.nodes.items() if not node.trainable] == ["c1", "c5"]
    qtbot.waitUntil(panel.unfreeze_all_button.isEnabled, timeout=2000)
    panel.unfreeze_all_button.click()
    assert compiled_trainable(controller.graph) == (61706, 61706)


def test_replacing_the_head_gives_it_the_datasets_class_count(panel, controller, qtbot):
    panel.set_class_count(10, "Digits")
    assert not panel.head_button.isEnabled() and "it fits" in panel.head_text.text()
    controller.edit("freeze head", [SetField("output", "trainable", False)])
    panel.set_class_count(3, "Shapes")
    assert panel.head_button.isEnabled() and panel.head_button.text() == "Set OUTPUT to 3 Outputs"
    panel.head_button.click()
    node = controller.graph.nodes["output"]
    assert node.params["out_features"] == 3 and node.trainable    # a new head learns
    assert controller.history.undo_text == "Replace the head OUTPUT (3 outputs)"
    model = compile_graph(controller.graph)
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 3)
    controller.history.undo()
    assert controller.graph.nodes["output"].params["out_features"] == 10


def test_the_worker_starts_from_the_given_weights_and_leaves_frozen_blocks_alone(tmp_path, trained_run):
    """designer.train.worker with init_weights, run in this process: frozen layers end the
    run exactly as loaded, the new head (3 classes, for shapes) was trained from scratch."""
    from designer.train.worker import _main
    graph = load_graph("lenet5").graph
    graph.set_param("output", "out_features", 3)
    for node_id in ("c1", "c3", "c5"):
        graph.apply(SetField(node_id, "trainable", False))
    loaded = torch.load(trained_run / "last.pt", weights_only=True)["nets"]["model"]
    init = tmp_path / "init_weights.pt"
    torch.save(loaded, init)
    events = queue.Queue()
    _main(dumps(graph), {"dataset": "shapes", "epochs": 1, "limit": 60, "batch_size": 20, "threads": 1,
                         "lr": 0.05}, str(tmp_path / "run"), False, events, threading.Event(), threading.Event(),
          str(init))
    kinds = []
    while not events.empty():
        kinds.append(events.get()["type"])
    assert kinds[-1] == "done", kinds
    after = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["nets"]["model"]
    for key in ("c1.weight", "c3.bias", "c5.weight"):
        assert torch.equal(after[key], loaded[key]), key          # frozen: untouched
    assert not torch.equal(after["f6.weight"], loaded["f6.weight"])  # trained from the loaded start
    assert after["output.weight"].shape == (3, 84)


def test_starting_a_run_hands_the_documents_weights_to_the_worker(qtbot, controller, tmp_path, trained_run):
    from designer.ui.training.panel import TrainingPanel
    from designer.ui.training.session import TrainingSession
    launched = []

    class Handle:
        finished = False
        def poll(self): return []
        def is_alive(self): return True
        def stop(self): pass
        def resume(self): pass
        def join(self, t=None): pass
        def kill(self): pass

    def launcher(document_json, config, run_dir, resume=False, init_weights=None):
        launched.append((Path(run_dir), init_weights))
        return Handle()
    weights = torch.load(trained_run / "last.pt", weights_only=True)["nets"]["model"]
    controller.document.set_weights(weights)
    panel = TrainingPanel(controller, data_dir=tmp_path, session=TrainingSession(start_worker=launcher))
    qtbot.addWidget(panel)
    assert panel.start()
    run_dir, init = launched[0]
    assert Path(init) == run_dir / "init_weights.pt"
    saved = torch.load(init, weights_only=True)
    assert set(saved) == set(weights) and all(torch.equal(saved[k], weights[k]) for k in weights)
    panel.session.pump.close()


def test_a_full_disk_at_the_starting_weights_is_said_in_the_panel(qtbot, controller, tmp_path, trained_run,
                                                                   monkeypatch):
    from collections import namedtuple

    from designer.ui.training.panel import TrainingPanel
    from designer.ui.training.session import TrainingSession
    launched = []
    controller.document.set_weights(torch.load(trained_run / "last.pt", weights_only=True)["nets"]["model"])
    panel = TrainingPanel(controller, data_dir=tmp_path,
                          session=TrainingSession(start_worker=lambda *a, **k: launched.append(a)))
    qtbot.addWidget(panel)

    def torn(obj, f, *args, **kwargs):   # torch's writer on a full disk: a part, then its error
        Path(f).write_bytes(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 2")
    monkeypatch.setattr(torch, "save", torn)
    monkeypatch.setattr("designer.atomic.shutil.disk_usage", lambda _p: namedtuple("U", "total used free")(1, 1, 0))
    assert not panel.start() and not launched
    assert panel.problem.text().endswith("cannot be written: No space left on device")
    run_dir = Path(panel.problem.text().split("The run folder ", 1)[1].split(" cannot", 1)[0])
    assert [p.name for p in run_dir.iterdir()] == []   # no half-written init_weights.pt
