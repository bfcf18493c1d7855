"""The settings of one training run: a dataclass saved as `config.json` in the run
folder, read back on resume, and filled from a preset's `meta["training"]`.

Every field has a default, so `TrainConfig()` is a run that works on the bundled
digits; unknown names and out-of-range values are refused with one sentence.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import TrainConfigError

# The choices of the settings, the one list the engine, the CLI, the window, the preset
# builder and the tests take them from.
DATASETS = ("digits", "shapes", "mnist", "fashion_mnist", "cifar10")   # built in; besides: folder:PATH
TASK_KINDS = ("classification", "segmentation", "vae", "gan")
TASKS = ("auto",) + TASK_KINDS                                          # auto: designer.train.tasks.choose_task
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "onecycle", "plateau")
AUGMENTS = ("random_crop", "random_resized_crop", "hflip", "normalize")
DEVICES = ("auto", "cpu", "cuda", "mps")
AMP_MODES = ("off", "bf16", "fp16")

# The settings a preset's meta["training"] may hold, each with the values it may take (None:
# a number above 0). A preset names its dataset and task outright: no folder, no "auto".
PRESET_CHOICES: dict[str, tuple | None] = {
    "dataset": DATASETS, "task": TASK_KINDS, "optimizer": OPTIMIZERS, "schedule": SCHEDULES,
    "augment": AUGMENTS, "nesterov": (False, True),
    "epochs": None, "batch_size": None, "lr": None, "momentum": None, "weight_decay": None, "image_size": None,
}


@dataclass
class TrainConfig:
    # data
    dataset: str = "digits"          # digits | shapes | mnist | fashion_mnist | cifar10 | folder:PATH
    val_fraction: float = 0.2        # held out of the training images, the same split every run
    limit: int | None = None         # use at most this many images (before the split): previews, tests
    image_size: int | list[int] | None = None  # resize to H×W instead of the graph's Input size
    # what to learn
    task: str = "auto"
    epochs: int = 3
    batch_size: int = 32             # the global batch: under torchrun each process takes batch_size / N
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9            # SGD only
    nesterov: bool = False           # SGD only
    weight_decay: float = 0.0
    schedule: str = "constant"
    step_size: int = 1               # "step": epochs between decays
    gamma: float = 0.1               # "step" and "plateau": the decay factor (AlexNet: divide by 10)
    patience: int = 2                # "plateau": epochs without a better validation loss before decaying
    augment: list[str] = field(default_factory=list)
    crop_padding: int = 4            # "random_crop": zeros added on each side before cropping back
    # how fast
    device: str = "auto"
    amp: str = "off"                 # mixed precision on GPUs
    channels_last: bool = False
    compile: bool = False            # torch.compile the model
    workers: int = 0                 # DataLoader processes, for image folders read from disk
    pin_memory: bool = True          # page-locked host batches for faster copies to a GPU
    threads: int = 0                 # CPU threads for the maths; 0: PyTorch's default (one per core)
    # bookkeeping
    seed: int = 0
    max_steps: int | None = None     # stop after this many optimizer steps in all (tests, previews)
    log_every: int = 0               # steps per metrics flush; 0: every step on CPU, 20 on a GPU

    def __post_init__(self):
        self.validate()

    # ---- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict, where: str = "training settings") -> "TrainConfig":
        if not isinstance(data, dict):
            raise TrainConfigError(f"{where} must be a JSON object, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = [k for k in data if k not in known]
        if unknown:
            raise TrainConfigError(f"{where}: unknown setting {unknown[0]!r} "
                                   f"(known: {', '.join(sorted(known))})")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TrainConfigError(f"the training settings are not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_graph(cls, graph, **overrides) -> "TrainConfig":
        """The document's own defaults (`meta["training"]`, e.g. AlexNet's SGD with momentum
        0.9 and weight decay 0.0005) overlaid with `overrides` (None values are skipped)."""
        data = dict(graph.meta.get("training") or {})
        base = cls.from_dict(data, where="the document's training settings")
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls.from_dict(dict(base.to_dict(), **given))

    def replace(self, **changes) -> "TrainConfig":
        return TrainConfig.from_dict(dict(self.to_dict(), **changes))

    # ---- checks --------------------------------------------------------------------------------
    def validate(self) -> None:
        _choice("task", self.task, TASKS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("device", self.device, DEVICES)
        _choice("amp", self.amp, AMP_MODES)
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise TrainConfigError("dataset must name a dataset, e.g. 'digits'")
        if not isinstance(self.augment, (list, tuple)):
            raise TrainConfigError(f"augment must be a list of {', '.join(AUGMENTS)}")
        self.augment = list(self.augment)
        for a in self.augment:
            _choice("augment", a, AUGMENTS)
        _number("val_fraction", self.val_fraction, 0.0, 0.9)
        _int("epochs", self.epochs, 1)
        _int("batch_size", self.batch_size, 1)
        _number("lr", self.lr, 0.0, None, open_low=True)
        _number("momentum", self.momentum, 0.0, 1.0)
        _number("weight_decay", self.weight_decay, 0.0, None)
        _int("step_size", self.step_size, 1)
        _number("gamma", self.gamma, 0.0, 1.0, open_low=True)
        _int("patience", self.patience, 0)
        _int("crop_padding", self.crop_padding, 0)
        _int("workers", self.workers, 0)
        _int("threads", self.threads, 0)
        _int("seed", self.seed, 0)
        _int("log_every", self.log_every, 0)
        for name in ("nesterov", "channels_last", "compile", "pin_memory"):
            if not isinstance(getattr(self, name), bool):
                raise TrainConfigError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.max_steps is not None:
            _int("max_steps", self.max_steps, 1)
        if self.limit is not None:
            _int("limit", self.limit, 2)
        if self.image_size is not None:
            self.image_size = list(self.size_hw())
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0:
            raise TrainConfigError("Nesterov momentum needs a momentum above 0")

    def size_hw(self) -> tuple[int, int] | None:
        """image_size as (H, W): one number means a square."""
        s = self.image_size
        if s is None:
            return None
        if isinstance(s, int) and not isinstance(s, bool):
            s = [s, s]
        if not (isinstance(s, (list, tuple)) and len(s) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 8192 for v in s)):
            raise TrainConfigError(f"image_size must be a size like 32 or [32, 32], not {self.image_size!r}")
        return int(s[0]), int(s[1])


def _choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise TrainConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TrainConfigError(f"{name} must be a whole number, not {value!r}")
    if value < low:
        raise TrainConfigError(f"{name} must be at least {low}, not {value}")


def _number(name: str, value: Any, low: float, high: float | None, open_low: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TrainConfigError(f"{name} must be a number, not {value!r}")
    if value < low or (open_low and value == low):
        raise TrainConfigError(f"{name} must be {'above' if open_low else 'at least'} {low:g}, not {value:g}")
    if high is not None and value > high:
        raise TrainConfigError(f"{name} must be at most {high:g}, not {value:g}")
