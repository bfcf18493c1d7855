"""The training engine on small runs: events, run folder, stop and resume,
failures reported before or during training, schedules as PyTorch computes them."""
import pickle
import threading

import pytest
import torch

from designer import load_graph
from designer.graph.model import Graph
from designer.train.config import TrainConfig
from designer.train.engine import Trainer
from designer.train.events import Checkpoint, Done, Epoch, Error, Log, Started, Step, from_dict, to_dict
from designer.train.metrics_log import read
from designer.train.tasks.classification import Classification
from designer.compile import compile_graph

# 320 training images: 10 steps an epoch; on the CPU, where seeded runs repeat bit for bit
SMALL = dict(threads=1, limit=400, epochs=2, device="cpu")


def run(graph, config, folder, resume=False, on_step=None):
    events = []

    def on_event(e):
        events.append(e)
        if on_step and isinstance(e, Step):
            on_step(trainer, e)

    trainer = Trainer(graph, config, folder, on_event, resume=resume)
    last = trainer.run()
    assert events[-1] is last
    return events


def steps(events):
    return of(Step, events)


def of(kind, events):
    return [e for e in events if isinstance(e, kind)]


def linear_net(hidden=32) -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [64], "name": "pixels"}, id="pixels")
    g.add_node("Linear", {"out_features": hidden}, id="hidden")
    g.add_node("Linear", {"out_features": 10}, id="scores")
    g.chain("pixels", "hidden", "scores")
    return g


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    """LeNet-5 on 400 digits for 2 epochs, never interrupted."""
    folder = tmp_path_factory.mktemp("straight")
    graph = load_graph("lenet5").graph
    events = run(graph, TrainConfig.from_graph(graph, **SMALL), folder)
    return graph, folder, events


def test_a_run_reports_and_writes_its_folder(straight_run):
    graph, folder, events = straight_run
    start, done = events[0], events[-1]
    assert isinstance(start, Started) and isinstance(done, Done) and done.reason == "finished"
    assert start.task == "classification" and start.steps_per_epoch == 10 and start.total_steps == 20
    assert start.epochs == 2 and start.columns[0] == "kind" and start.run_dir == str(folder)
    assert [e.global_step for e in steps(events)] == list(range(1, 21))
    assert all(e.lr == 0.002 and e.samples_per_s > 0 and e.values == {} for e in steps(events))
    epochs = of(Epoch, events)
    assert [e.epoch for e in epochs] == [1, 2]
    val = epochs[-1].val
    assert set(val) == {"loss", "accuracy", "top5"} and 0 <= val["accuracy"] <= 1
    confusion = torch.tensor(epochs[-1].confusion)
    assert confusion.shape == (10, 10) and confusion.sum() == start.val_size  # each image once
    assert abs(confusion.diag().sum().item() / start.val_size - val["accuracy"]) < 1e-9
    picture = epochs[-1].images["predictions"]
    assert picture.dtype.name == "uint8" and picture.ndim == 3 and picture.shape[2] == 3
    assert set(epochs[-1].predictions) == {"predicted", "true", "columns"}
    for name in ("config.json", "metrics.csv", "last.pt", "best.pt", "model.pt"):
        assert (folder / name).is_file(), name
    assert {e.kind for e in of(Checkpoint, events)} == {"last", "best", "model"}
    # they cross a process boundary to reach the window
    assert [type(from_dict(pickle.loads(pickle.dumps(to_dict(e))))) for e in events] == [type(e) for e in events]
    rows = read(folder / "metrics.csv")
    assert [r["kind"] for r in rows].count("step") == 20
    assert [(r["kind"], r["epoch"]) for r in rows if r["kind"] != "step"] == \
        [("train", "1"), ("val", "1"), ("train", "2"), ("val", "2")]
    assert float(rows[-1]["accuracy"]) == val["accuracy"]
    assert TrainConfig.from_json((folder / "config.json").read_text()) == TrainConfig.from_graph(graph, **SMALL)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_model_pt_is_the_trained_network(straight_run):
    graph, folder, _ = straight_run
    state = torch.load(folder / "last.pt", weights_only=True)
    assert state["global_step"] == 20 and state["epoch"] == 2
    model = compile_graph(graph)
    model.load_state_dict(state["nets"]["model"])
    scripted = torch.jit.load(str(folder / "model.pt"))
    x = torch.rand(5, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(scripted(x), model.eval()(x), atol=1e-5)


def test_stop_then_resume_continues_the_same_curve(straight_run, tmp_path):
    graph, _, straight = straight_run
    config = TrainConfig.from_graph(graph, **SMALL)

    def stop_at_7(trainer, e):
        if e.global_step == 7:
            trainer.stop()

    first = run(graph, config, tmp_path, on_step=stop_at_7)
    assert isinstance(first[-1], Done) and first[-1].reason == "stopped"
    assert [e.global_step for e in steps(first)] == list(range(1, 8))
    # the same seed on the CPU gives the same losses
    assert [e.loss for e in steps(first)] == [e.loss for e in steps(straight)[:7]]
    assert torch.load(tmp_path / "last.pt", weights_only=True)["step"] == 7

    second = run(graph, config, tmp_path, resume=True)
    assert second[0].resumed_at == 7 and second[-1].reason == "finished"
    assert [e.global_step for e in steps(second)] == list(range(8, 21))
    rows = read(tmp_path / "metrics.csv")
    assert [int(r["global_step"]) for r in rows if r["kind"] == "step"] == list(range(1, 21))
    # model, optimizer, data order and random state all came back: the very same curve
    resumed = [float(r["loss"]) for r in rows if r["kind"] == "step"]
    assert resumed == pytest.approx([e.loss for e in steps(straight)], rel=1e-5)
    val = of(Epoch, straight)[-1].val
    assert of(Epoch, second)[-1].val["loss"] == pytest.approx(val["loss"], rel=1e-5)


def test_a_run_can_start_from_another_runs_weights(straight_run, tmp_path):
    graph, folder, straight = straight_run
    config = TrainConfig.from_graph(graph, **dict(SMALL, epochs=1))
    events = []
    Trainer(graph, config, tmp_path / "tuned", events.append, init_weights=folder / "best.pt").run()
    logs = [e.message for e in of(Log, events)]
    assert f"starting weights from {folder / 'best.pt'}: loaded 10 of 10 tensors" in logs
    first = steps(events)[0].loss
    assert first < 0.5 * steps(straight)[0].loss  # it starts where the other run ended
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    events = []
    Trainer(graph, config, tmp_path / "bad", events.append, init_weights=tmp_path / "junk.pt").run()
    assert events[-1].kind == "setup" and events[-1].message.startswith("The starting weights cannot be used")


def test_a_run_folder_is_never_overwritten(straight_run):
    graph, folder, _ = straight_run
    events = run(graph, TrainConfig.from_graph(graph, **SMALL), folder)
    assert isinstance(events[-1], Error) and "holds a run already" in events[-1].message


def test_wrong_class_count_is_refused_before_training(tmp_path):
    events = run(load_graph("lenet5").graph, TrainConfig(dataset="shapes", threads=1), tmp_path / "run")
    assert [type(e) for e in events] == [Error]
    error = events[0]
    assert error.kind == "setup"
    assert error.message == ("The network ends in 10 outputs but shapes has 3 classes; "
                                "set the last layer to 3 outputs.")
    assert not (tmp_path / "run" / "metrics.csv").exists()


def test_a_graph_with_errors_is_refused(tmp_path):
    graph = load_graph("lenet5").graph
    graph.remove_nodes(["c3_tanh"])
    events = run(graph, TrainConfig(threads=1), tmp_path)
    assert events[-1].kind == "setup" and events[-1].message.startswith("The graph has errors: at s4:")


def test_a_nan_loss_stops_with_the_step_and_a_hint(tmp_path):
    config = TrainConfig(lr=1e8, optimizer="sgd", threads=1, limit=400, epochs=1)
    events = run(linear_net(), config, tmp_path)
    error = events[-1]
    assert isinstance(error, Error) and error.kind == "step"
    done = steps(events)
    assert error.message == (f"The loss became NaN at step {len(done) + 1} (epoch 1); training stopped.")
    assert "Lower the learning rate (now 1e+08)" in error.hint
    rows = read(tmp_path / "metrics.csv")
    assert len(rows) == len(done) and not (tmp_path / "last.pt").exists()


def test_out_of_memory_stops_with_the_batch_size(tmp_path, monkeypatch):
    def no_memory(self, batch, ctx, meter):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Classification, "train_step", no_memory)
    events = run(load_graph("lenet5").graph, TrainConfig(threads=1, limit=100, device="cpu"), tmp_path)
    error = events[-1]
    assert error.message == "Out of memory at step 1 with a batch of 32 on cpu."
    assert error.hint.startswith("Try a batch size of ")


def test_pause_and_resume_between_steps(tmp_path):
    def pause_at_3(trainer, e):
        if e.global_step == 3:
            trainer.pause()
            threading.Timer(0.3, trainer.resume).start()

    # on the CPU every step reports at once; a GPU reports in bursts (the pause then lands later)
    config = TrainConfig(threads=1, limit=200, epochs=1, device="cpu")
    events = run(linear_net(), config, tmp_path, on_step=pause_at_3)
    logs = [e.message for e in of(Log, events)]
    assert "paused at step 3" in logs and "resumed" in logs
    assert events[-1].reason == "finished" and len(steps(events)) == 5


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "step"])
def test_learning_rate_schedules_follow_pytorch(tmp_path, schedule):
    config = TrainConfig(threads=1, limit=200, epochs=2, schedule=schedule, lr=0.05, optimizer="sgd",
                         step_size=1, gamma=0.5)
    ours = [e.lr for e in steps(run(linear_net(), config, tmp_path))]
    total, per_epoch = len(ours), len(ours) // 2
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.05)
    sched = {"cosine": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total),
             "onecycle": lambda: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=total),
             "step": lambda: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)}[schedule]()
    expected = []
    for i in range(1, total):  # each step row holds the rate after that step
        opt.step()
        if schedule != "step":
            sched.step()
        elif i % per_epoch == 0:
            sched.step()
        expected.append(opt.param_groups[0]["lr"] if schedule != "step" else
                        0.05 * 0.5 ** ((i - 1) // per_epoch))
    assert ours[:-1] == pytest.approx(expected)


def test_augmentation_and_cpu_only_settings_run(tmp_path):
    config = TrainConfig(threads=1, limit=100, epochs=1, augment=["random_crop", "hflip", "normalize"],
                         amp="bf16", channels_last=True, device="cpu")
    events = run(load_graph("lenet5").graph, config, tmp_path)
    assert events[-1].reason == "finished"
    assert any("mixed precision (bf16) is for GPUs" in e.message for e in of(Log, events))


def test_image_size_resizes_the_data_and_the_graph_follows(tmp_path):
    graph = load_graph("lenet5").graph
    events = run(graph, TrainConfig(image_size=36, threads=1, limit=100, epochs=1), tmp_path / "a")
    assert events[-1].reason == "finished" and "1×8×8 → 1×36×36" in events[0].dataset
    events = run(graph, TrainConfig(image_size=16, threads=1, limit=100), tmp_path / "b")
    assert events[-1].kind == "setup"
    assert events[-1].message.startswith("With digits images of 1×16×16 the graph fails at c5:")


def test_an_image_folder_trains_through_a_data_loader(tmp_path):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for k, cls in enumerate(("dark", "light")):
        (tmp_path / "images" / cls).mkdir(parents=True)
        for i in range(10):
            pixels = rng.integers(0, 100, (12, 12)) + 150 * k
            Image.fromarray(pixels.astype(np.uint8), "L").save(tmp_path / "images" / cls / f"{i}.png")
    g = Graph()
    g.add_node("Input", {"shape": [1, 8, 8], "name": "image"}, id="image")
    g.add_node("Flatten", id="flat")
    g.add_node("Linear", {"out_features": 2}, id="scores")
    g.chain("image", "flat", "scores")
    config = TrainConfig(dataset=f"folder:{tmp_path / 'images'}", batch_size=4, epochs=3, lr=0.05, threads=1,
                         augment=["normalize", "hflip"])
    events = run(g, config, tmp_path / "run")
    assert events[0].classes == ["dark", "light"] and events[0].train_size == 16
    assert of(Epoch, events)[-1].val["accuracy"] == 1.0


@pytest.mark.slow
def test_lenet5_learns_digits(tmp_path):
    """The issue's bar: LeNet-5 on digits at 32×32, 3 epochs on the CPU, ≥ 90 % validation accuracy."""
    graph = load_graph("lenet5").graph
    events = run(graph, TrainConfig.from_graph(graph, epochs=3, threads=1), tmp_path)
    assert events[-1].reason == "finished"
    final = of(Epoch, events)[-1]
    assert final.val["accuracy"] >= 0.90, final.val


@pytest.mark.slow
def test_the_mlp_learns_digits(tmp_path):
    graph = load_graph("mlp").graph
    events = run(graph, TrainConfig.from_graph(graph, epochs=3, threads=1), tmp_path)
    final = of(Epoch, events)[-1]
    assert final.val["accuracy"] >= 0.80, final.val


def test_frozen_blocks_keep_weights_and_batch_norm_statistics(tmp_path):
    """Fine-tuning: a frozen backbone (its BatchNorm statistics included) does not drift,
    whatever the learning rate; only the head learns."""
    from designer.compile.safe_load import load_torch_file
    from designer.compile.transfer import state_dict_of
    g = Graph()
    g.add_node("Input", {"shape": [64], "name": "pixels"}, id="pixels")
    g.add_node("Linear", {"out_features": 32}, id="hidden", trainable=False)
    g.add_node("BatchNorm", {}, id="norm", trainable=False)
    g.add_node("ReLU", id="relu")
    g.add_node("Linear", {"out_features": 10}, id="scores")
    g.chain("pixels", "hidden", "norm", "relu", "scores")
    trained = {}
    for lr in (0.01, 0.1):  # the same seed: the same initial weights in both runs
        events = run(g, TrainConfig(dataset="digits", lr=lr, **dict(SMALL, epochs=1)), tmp_path / f"lr{lr}")
        assert isinstance(events[-1], Done)
        trained[lr] = state_dict_of(load_torch_file(tmp_path / f"lr{lr}" / "last.pt"))
    slow, fast = trained[0.01], trained[0.1]
    # BatchNorm starts at mean 0, variance 1, γ 1, β 0: a frozen one ends there too
    assert torch.equal(fast["norm.running_mean"], torch.zeros(32))
    assert torch.equal(fast["norm.running_var"], torch.ones(32))
    assert torch.equal(fast["norm.weight"], torch.ones(32)) and torch.equal(fast["norm.bias"], torch.zeros(32))
    assert torch.equal(slow["hidden.weight"], fast["hidden.weight"])
    assert not torch.equal(slow["scores.weight"], fast["scores.weight"])
