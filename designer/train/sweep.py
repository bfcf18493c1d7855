"""A sweep: the same network trained once per point of a grid of settings, one run after
another, each into its own folder named after its setting (`lr=0.001_batch_size=32`).

`train DOC --sweep lr=0.001,0.003 --sweep batch_size=32,64 --out DIR` runs the 2×2 grid
into `DIR/<setting>/` and prints the runs ranked (designer.train.run_compare); the Train
panel starts the same grid through its worker, one run after another.

Light at import (no torch): `run_sweep` imports the engine when it trains.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from designer.graph.fileformat import dumps

from .config import TrainConfig
from .errors import TrainConfigError
from .run_folder import RunFolder
from .run_listing import FAILED, FINISHED, RUNNING, STOPPED, update_meta, write_json

SWEEP_FILE = "sweep.json"
# settings a sweep may vary: the numbers and choices of a run (not where or how fast it runs)
SWEEPABLE = ("lr", "batch_size", "epochs", "optimizer", "momentum", "weight_decay", "schedule", "step_size",
             "gamma", "seed", "val_fraction", "image_size", "limit", "max_steps", "nesterov", "dataset", "task")


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple


def parse_axes(specs) -> list[Axis]:
    """`["lr=0.001,0.003", "batch_size=32,64"]` as axes, each value of the setting's own
    kind; TrainConfigError (one sentence) for anything else."""
    axes: list[Axis] = []
    kinds = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for spec in specs:
        name, sep, values = str(spec).partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name or not values.strip():
            raise TrainConfigError(f"--sweep {spec!r} must read like lr=0.001,0.003")
        if name not in SWEEPABLE:
            raise TrainConfigError(f"--sweep {name!r}: a sweep can vary {', '.join(SWEEPABLE)}")
        if any(a.name == name for a in axes):
            raise TrainConfigError(f"--sweep {name} is given twice; list all its values in one, comma-separated")
        parsed = tuple(_value(name, kinds[name], v.strip()) for v in values.split(",") if v.strip())
        if len(set(map(repr, parsed))) != len(parsed):
            raise TrainConfigError(f"--sweep {name} lists a value twice")
        axes.append(Axis(name, parsed))
    return axes


def _value(name: str, default, text: str):
    if isinstance(default, bool) or name == "nesterov":
        if text.lower() in ("true", "yes", "on", "1"):
            return True
        if text.lower() in ("false", "no", "off", "0"):
            return False
        raise TrainConfigError(f"--sweep {name}: {text!r} is not true or false")
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise TrainConfigError(f"--sweep {name}: {text!r} is not a number") from None
    if isinstance(default, int) or name in ("image_size", "limit", "max_steps"):
        try:
            return int(text)
        except ValueError:
            raise TrainConfigError(f"--sweep {name}: {text!r} is not a whole number") from None
    return text


def grid(axes: list[Axis]) -> list[dict]:
    """Every combination, the first axis varying slowest."""
    return [dict(zip((a.name for a in axes), values)) for values in itertools.product(*(a.values for a in axes))]


def setting_name(point: dict) -> str:
    """The folder name of one point: `lr=0.001_batch_size=32`."""
    parts = []
    for name, value in point.items():
        text = f"{value:g}" if isinstance(value, float) else str(value).lower() if isinstance(value, bool) \
            else str(value)
        parts.append(f"{name}={re.sub(r'[^A-Za-z0-9.+-]+', '-', text)}")
    return "_".join(parts)


def plan(base: TrainConfig, axes: list[Axis]) -> list[tuple[dict, TrainConfig]]:
    """Each point with its whole settings, all checked before the first run starts."""
    out = []
    for point in grid(axes):
        try:
            out.append((point, base.replace(**point)))
        except TrainConfigError as exc:
            raise TrainConfigError(f"{setting_name(point)}: {exc}") from None
    return out


@dataclass
class SweepRun:
    point: dict
    run_dir: Path
    last: object = None       # the engine's Done or Error


def run_sweep(graph, base: TrainConfig, axes: list[Axis], out: Path, listener=None, *, weights=None,
              init_weights=None, on_run_end=None, title: str = "") -> list[SweepRun]:
    """Train every point of the grid, one after another, into `out/<setting>/`.
    `listener(point)` gives the event callback of one run (None: none); `on_run_end(run)`
    hears each run as it finishes. TrainSetupError, before anything is written, when a
    point's folder holds a run already. A run that cannot start (the data, the network) ends
    the sweep, as every other point would fail alike; a run that fails while training
    (a NaN loss at a large learning rate) does not; neither does a bug (the engine has said
    it in one line, with the traceback in that run's error.txt), which ends the sweep too."""
    from .engine import Trainer
    from .events import CRASH, SETUP, Done, Error, Started
    points = plan(base, axes)
    out = Path(out)
    for point, _ in points:   # before anything is written: an earlier run's files stay as they are
        RunFolder(out / setting_name(point)).check(resume=False)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / SWEEP_FILE, {"axes": {a.name: list(a.values) for a in axes},
                                  "runs": [setting_name(p) for p, _ in points]})
    document = dumps(graph)
    done: list[SweepRun] = []
    for point, config in points:
        run = SweepRun(point, out / setting_name(point))
        run.run_dir.mkdir(parents=True, exist_ok=True)
        RunFolder(run.run_dir).write_document(document)
        update_meta(run.run_dir, status=RUNNING, reason="", document_title=title, sweep=point,
                    started=datetime.now().isoformat(timespec="seconds"))
        inner = listener(point) if listener is not None else None
        errors: list = []

        def on_event(event, inner=inner, run_dir=run.run_dir, errors=errors):
            if isinstance(event, Started):
                update_meta(run_dir, task=event.task, classes=event.classes)
            if isinstance(event, Error):
                errors.append(event)
            if inner is not None:
                inner(event)
        trainer = Trainer(graph, config, run.run_dir, on_event, weights=weights, init_weights=init_weights)
        try:
            last = trainer.run()
        except Exception:  # noqa: BLE001 - a bug the engine reported (its Error event) ends the sweep in words
            if not errors:
                raise
            last = errors[-1]
        run.last = last
        if isinstance(last, Done):
            update_meta(run.run_dir, status=FINISHED if last.reason == "finished" else STOPPED,
                        reason=last.reason, best=last.best, epochs_done=last.epoch)
        else:
            update_meta(run.run_dir, status=FAILED, reason=last.message)
        done.append(run)
        if on_run_end is not None:
            on_run_end(run)
        if not isinstance(last, Done) and last.kind in (SETUP, CRASH):
            break
    return done
