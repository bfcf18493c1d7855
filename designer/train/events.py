"""What a training run reports, as it goes: one frozen dataclass per event.

`Trainer(..., on_event)` (designer.train.engine) calls `on_event(event)` with these
instances; `Trainer.run()` returns the last one. The order of a run is

    Started, then Step… Epoch, Checkpoint… per epoch, Log at any time,
    and last of all exactly one Done or Error (TERMINAL).

Step events come in bursts of `log_every` steps: on a GPU the losses stay on the
device between bursts, so the loop never waits for the GPU just to report.

Listeners dispatch on the class (`isinstance`, `match`), never on a string. Where an
event has to leave the process (the window's training worker sends them through a
multiprocessing queue) it travels as `to_dict(event)` and is read back with
`from_dict(data)`; this module is the only place that knows those dicts' keys.
Light: no torch, no numpy, no Qt.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True)
class Started:
    """Setup went through: the data is loaded, the networks are built, the first step is next."""
    config: dict[str, Any]           # TrainConfig.to_dict() of the run
    epochs: int                      # config's epochs, the number the bars count to
    device: str                      # e.g. "cpu (2 threads)", "cuda:0 (<the GPU's name>)"
    task: str                        # classification | segmentation | vae | gan
    task_description: str            # the task in a few words (Task.describe())
    dataset: str                     # a note on the data (DataSource.note)
    classes: list[str]               # class names ([] when the task has none)
    train_size: int                  # images for training
    val_size: int                    # images held out for validation
    steps_per_epoch: int             # optimizer steps in one epoch (per process under torchrun)
    total_steps: int                 # steps of the whole run (max_steps counted)
    world_size: int                  # processes under torchrun; 1 otherwise
    resumed_at: int | None           # the global step a resumed run continues from; None: a new run
    columns: list[str]               # metrics.csv's columns (designer.train.metrics_log)
    run_dir: str                     # the run folder


@dataclass(frozen=True)
class Step:
    """One optimizer step (global_step counts 1, 2, 3… without a gap, across resumes)."""
    epoch: int                       # 1-based epoch
    step: int                        # 1-based step within the epoch
    global_step: int                 # 1-based step since the run began
    loss: float                      # the step's loss (GAN: the discriminator's plus the generator's)
    lr: float                        # learning rate after the step
    samples_per_s: float             # training throughput around the step
    time_s: float                    # seconds of training since the run began (pauses excluded)
    values: dict[str, float] = field(default_factory=dict)
    # the task's other step values, in its order: VAE recon, kl; GAN d_loss, g_loss, d_real, d_fake

    def scalars(self) -> dict[str, float]:
        """The loss and the task's other step values, loss first."""
        return {"loss": self.loss, **self.values}

    def row(self) -> dict[str, float]:
        """The step as one row of numbers (metrics.csv's step row, the plots' history)."""
        return {"epoch": self.epoch, "step": self.step, "global_step": self.global_step, "time_s": self.time_s,
                "lr": self.lr, "samples_per_s": self.samples_per_s, **self.scalars()}


@dataclass(frozen=True)
class Epoch:
    """An epoch ended: its training averages, its validation metrics and pictures."""
    epoch: int                       # 1-based epoch that ended
    global_step: int
    time_s: float                    # seconds of training since the run began
    lr: float                        # learning rate at the end of the epoch
    train: dict[str, float]          # the epoch's training averages: loss, accuracy…
    val: dict[str, float]            # validation metrics: loss, accuracy, top5… ({} without validation)
    train_time_s: float              # seconds spent in this epoch's steps
    samples_per_s: float             # their throughput
    images: dict[str, Any] = field(default_factory=dict)
    # {name: uint8 H×W×3 numpy picture} (designer/train/tasks: epoch_images)
    confusion: list[list[int]] | None = None     # classification, segmentation: validation counts
    predictions: dict[str, Any] | None = None    # classification: {"predicted", "true", "columns"}
    # of the "predictions" picture's validation images


@dataclass(frozen=True)
class Checkpoint:
    """A file of the run folder was written (designer.train.run_folder)."""
    kind: str                        # "last" | "best" | "model"
    path: str
    epoch: int                       # epochs completed
    global_step: int


@dataclass(frozen=True)
class Log:
    """A line for a person to read (a note on the data, a setting that was adjusted, a pause)."""
    message: str


@dataclass(frozen=True)
class Done:
    """The run ended normally: finished, or stopped on request (last.pt and model.pt written)."""
    reason: str                      # "finished" | "stopped"
    run_dir: str
    best: dict[str, Any] | None      # {"epoch", "global_step", "metric", "value", …metrics} of best.pt
    epoch: int                       # epochs completed
    global_step: int
    time_s: float                    # seconds of training, resumed runs included


SETUP, STEP, CRASH, CLOSED = "setup", "step", "crash", "closed"   # Error.kind


@dataclass(frozen=True)
class Error:
    """The run ended on an error, or could not start."""
    message: str                     # one sentence
    hint: str = ""                   # what to try
    kind: str = CRASH                # SETUP: refused before the first step (settings, data, graph);
    # STEP: stopped while training (a NaN loss, out of memory); CRASH: a bug or a dead
    # training process; CLOSED: the window closed while the run went on
    traceback: str = ""              # CRASH in the worker process: where it happened


Event = Union[Started, Step, Epoch, Checkpoint, Log, Done, Error]
TERMINAL = (Done, Error)             # isinstance(event, TERMINAL): the run's last event

# the name each event carries in its dict form
_NAMES = {Started: "start", Step: "step", Epoch: "epoch", Checkpoint: "checkpoint", Log: "log",
          Done: "done", Error: "error"}
_CLASSES = {name: cls for cls, name in _NAMES.items()}
_TYPE = "type"


def to_dict(event: Event) -> dict[str, Any]:
    """A plain dict of the event (its fields and "type"), picklable, for a queue or a file.
    Shallow: the pictures of an Epoch are the same arrays."""
    name = _NAMES.get(type(event))
    if name is None:
        raise TypeError(f"{type(event).__name__} is not a training event")
    data = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    data[_TYPE] = name
    return data


def from_dict(data: dict[str, Any]) -> Event:
    """The event `to_dict` made `data` from; ValueError for anything else."""
    if not isinstance(data, dict):
        raise ValueError(f"a training event must be a dict, not {type(data).__name__}")
    cls = _CLASSES.get(data.get(_TYPE))
    if cls is None:
        raise ValueError(f"unknown training event type {data.get(_TYPE)!r}")
    known = {f.name for f in dataclasses.fields(cls)}
    given = {k: v for k, v in data.items() if k != _TYPE}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"a {data[_TYPE]!r} event has no field {unknown[0]!r}")
    try:
        return cls(**given)
    except TypeError as exc:   # a required field is missing
        raise ValueError(f"a {data[_TYPE]!r} event: {exc}") from None


__all__ = ["Started", "Step", "Epoch", "Checkpoint", "Log", "Done", "Error", "Event", "TERMINAL",
           "SETUP", "STEP", "CRASH", "CLOSED", "to_dict", "from_dict"]
