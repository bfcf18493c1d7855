"""Training events (designer.train.events): frozen dataclasses that survive the worker's
pipe (to_dict / from_dict, pickled), and nothing outside that module reads them by key."""
import ast
import dataclasses
import pickle
import typing
from pathlib import Path

import numpy as np
import pytest

from designer.train import events
from designer.train.events import (CLOSED, CRASH, SETUP, TERMINAL, Checkpoint, Done, Epoch, Error, Event, Log,
                                   Started, Step, from_dict, to_dict)

DESIGNER = Path(events.__file__).resolve().parents[1]

SAMPLES = [
    Started(config={"epochs": 3, "dataset": "digits"}, epochs=3, device="cpu (2 threads)", task="classification",
            task_description="classification (10 classes)", dataset="1,797 digits", classes=["0", "1"],
            train_size=1438, val_size=359, steps_per_epoch=45, total_steps=135, world_size=1, resumed_at=None,
            columns=["kind", "epoch", "step", "global_step", "time_s", "lr", "samples_per_s", "loss"],
            run_dir="/tmp/run"),
    Step(epoch=1, step=7, global_step=7, loss=2.1, lr=0.001, samples_per_s=5400.0, time_s=0.4),
    Step(epoch=2, step=1, global_step=46, loss=0.5, lr=0.001, samples_per_s=1.0, time_s=3.0,
         values={"recon": 0.4, "kl": 0.1}),
    Epoch(epoch=1, global_step=45, time_s=4.0, lr=0.001, train={"loss": 1.0}, val={"loss": 1.1, "accuracy": 0.5},
          train_time_s=3.5, samples_per_s=400.0, confusion=[[3, 1], [0, 4]],
          predictions={"predicted": [1, 0], "true": [1, 1], "columns": 8}),
    Checkpoint(kind="best", path="/tmp/run/best.pt", epoch=1, global_step=45),
    Log(message="paused at step 3"),
    Done(reason="finished", run_dir="/tmp/run", best={"epoch": 1, "metric": "accuracy", "value": 0.5}, epoch=3,
         global_step=135, time_s=12.5),
    Error(message="The loss became NaN at step 9 (epoch 1); training stopped.", hint="Lower the rate.", kind="step"),
    Error(message="The training process failed: boom", kind=CRASH, traceback="Traceback …"),
]


def test_the_samples_cover_every_event_type():
    assert {type(e) for e in SAMPLES} == set(typing.get_args(Event))
    assert set(TERMINAL) == {Done, Error} and {SETUP, CRASH, CLOSED} <= {"setup", "step", "crash", "closed"}


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_event_round_trips_and_pickles(event):
    data = to_dict(event)
    assert isinstance(data, dict) and from_dict(data) == event
    assert from_dict(pickle.loads(pickle.dumps(data))) == event   # the worker's pipe
    assert pickle.loads(pickle.dumps(event)) == event
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.__setattr__(dataclasses.fields(event)[0].name, None)


def test_an_epochs_pictures_cross_the_pipe():
    picture = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    event = Epoch(epoch=2, global_step=90, time_s=1.0, lr=0.1, train={}, val={}, train_time_s=1.0,
                  samples_per_s=1.0, images={"samples": picture})
    back = from_dict(pickle.loads(pickle.dumps(to_dict(event))))
    assert isinstance(back, Epoch) and back.epoch == 2 and back.confusion is None and back.predictions is None
    assert np.array_equal(back.images["samples"], picture) and back.images["samples"].dtype == np.uint8


def test_a_step_gives_its_values_loss_first():
    step = SAMPLES[2]
    assert list(step.scalars()) == ["loss", "recon", "kl"]
    assert step.row() == {"epoch": 2, "step": 1, "global_step": 46, "time_s": 3.0, "lr": 0.001, "samples_per_s": 1.0,
                          "loss": 0.5, "recon": 0.4, "kl": 0.1}


@pytest.mark.parametrize("data, words", [
    ({"type": "finish"}, "unknown training event type 'finish'"),
    ({"message": "no type"}, "unknown training event type None"),
    ({"type": "log", "message": "x", "level": 1}, "no field 'level'"),
    ({"type": "checkpoint", "kind": "last"}, "'checkpoint' event"),
    (["type", "log"], "must be a dict"),
])
def test_from_dict_refuses_what_to_dict_never_makes(data, words):
    with pytest.raises(ValueError, match=words):
        from_dict(data)


def test_to_dict_refuses_other_objects():
    with pytest.raises(TypeError):
        to_dict({"type": "log", "message": "a dict is not an event"})


# ---- nobody else reads an event by its keys --------------------------------------------------------

def _modules(*folders):
    for folder in folders:
        path = DESIGNER / folder
        yield from ([path] if path.suffix == ".py" else sorted(path.rglob("*.py")))


def _type_reads(path: Path) -> list[int]:
    """Lines where `x["type"]`, `x.get("type")` or `x.pop("type")` read a "type" key."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "type":
            lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("get", "pop", "setdefault") and node.args \
                and isinstance(node.args[0], ast.Constant) and node.args[0].value == "type":
            lines.append(node.lineno)
    return lines


def test_no_module_above_the_graph_reads_a_type_key():
    """Every layer that can receive training events (train, cli, introspection, ui)
    dispatches on the class; only events.py knows the dict form."""
    found = {str(p.relative_to(DESIGNER)): lines
             for p in _modules("train", "cli", "introspection", "ui")
             if p.name != "events.py" or p.parent.name != "train"
             for lines in [_type_reads(p)] if lines}
    assert found == {}


def test_the_training_modules_never_spell_an_event_as_a_dict():
    """No "type" string at all where events are made and consumed, outside events.py."""
    found = []
    # profile.py's --json names each layer's type (the command's contract), not an event's
    allowed = {DESIGNER / "train" / "events.py", DESIGNER / "train" / "profile.py"}
    for path in _modules("train", "ui/training", "cli/train.py"):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == "type":
                found.append(f"{path.relative_to(DESIGNER)}:{node.lineno}")
    assert found == []
