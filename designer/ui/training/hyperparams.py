"""The training settings (designer.train.config.TrainConfig) as a form: what to learn
and how, filled with the document's own defaults (`meta["training"]`: AlexNet's SGD
with momentum 0.9 and weight decay 0.0005, the GAN's Adam at 2e-4…). The common
ones show; the rest fold under "More settings". A value TrainConfig refuses is
reported in its one sentence, next to Start."""
from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from designer.train.config import AMP_MODES, AUGMENTS, OPTIMIZERS, SCHEDULES, TASKS, TrainConfig
from designer.train.errors import TrainConfigError

TASK_TITLES = {"auto": "Automatic (from the graph)", "classification": "Classification",
               "segmentation": "Segmentation", "vae": "Variational auto-encoder", "gan": "GAN"}
AUGMENT_TITLES = {"random_crop": "random crops", "random_resized_crop": "random resized crops",
                  "hflip": "mirroring", "normalize": "mean subtraction"}


def default_threads() -> int:
    """Leave one core to the window, so it stays responsive while the CPU trains."""
    return max(1, (os.cpu_count() or 1) - 1)


def _spin(low: int, high: int, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    if special:
        box.setSpecialValueText(special)
    return box


def _fraction(decimals: int = 3, high: float = 1.0) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(0.0, high)
    box.setSingleStep(0.05)
    return box


class HyperParams(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.task = QComboBox()
        for name in TASKS:
            self.task.addItem(TASK_TITLES.get(name, name), name)
        self.epochs = _spin(1, 100000)
        self.batch_size = _spin(1, 65536)
        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem({"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}[name], name)
        self.lr = QLineEdit()
        self.lr.setToolTip("Learning rate, e.g. 0.001 or 1e-3")
        self.momentum = _fraction()
        self.weight_decay = QLineEdit()
        self.weight_decay.setToolTip("L2 penalty, e.g. 0.0005 (AlexNet)")
        self.schedule = QComboBox()
        for name in SCHEDULES:
            self.schedule.addItem({"constant": "Constant", "step": "Step decay", "cosine": "Cosine",
                                   "onecycle": "One-cycle", "plateau": "Decay on plateau"}[name], name)
        self.augment = {name: QCheckBox(AUGMENT_TITLES[name]) for name in AUGMENTS}

        self.nesterov = QCheckBox("Nesterov momentum")
        self.step_size = _spin(1, 10000)
        self.gamma = _fraction(4)
        self.patience = _spin(0, 1000)
        self.val_fraction = _fraction(2, 0.9)
        self.limit = _spin(0, 10_000_000, "all")
        self.max_steps = _spin(0, 100_000_000, "no limit")
        self.seed = _spin(0, 2**31 - 1)
        self.amp = QComboBox()
        for name in AMP_MODES:
            self.amp.addItem({"off": "off (float32)", "bf16": "bf16", "fp16": "fp16"}[name], name)
        self.threads = _spin(0, 1024, "PyTorch's default")
        self.threads.setToolTip("CPU threads for the maths; one core is left to the window by default")
        self.workers = _spin(0, 64)
        self.channels_last = QCheckBox("channels-last memory")
        self.compile = QCheckBox("torch.compile")

        main = QFormLayout()
        main.setContentsMargins(0, 0, 0, 0)
        main.addRow("Task", self.task)
        main.addRow("Epochs", self.epochs)
        main.addRow("Batch size", self.batch_size)
        main.addRow("Optimizer", self.optimizer)
        main.addRow("Learning rate", self.lr)
        main.addRow("Momentum", self.momentum)
        main.addRow("Weight decay", self.weight_decay)
        main.addRow("Schedule", self.schedule)
        augment = QWidget()
        grid = QVBoxLayout(augment)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        for box in self.augment.values():
            grid.addWidget(box)
        main.addRow("Augment", augment)

        self.more_button = QToolButton()
        self.more_button.setText("More settings")
        self.more_button.setCheckable(True)
        self.more = QGroupBox()
        more = QFormLayout(self.more)
        more.addRow("", self.nesterov)
        more.addRow("Step size (epochs)", self.step_size)
        more.addRow("Decay factor", self.gamma)
        more.addRow("Patience (epochs)", self.patience)
        more.addRow("Validation share", self.val_fraction)
        more.addRow("Use at most (images)", self.limit)
        more.addRow("Stop after (steps)", self.max_steps)
        more.addRow("Seed", self.seed)
        more.addRow("Mixed precision", self.amp)
        more.addRow("CPU threads", self.threads)
        more.addRow("Loader processes", self.workers)
        more.addRow("", self.channels_last)
        more.addRow("", self.compile)
        self.more.setVisible(False)
        self.more_button.toggled.connect(self.more.setVisible)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(main)
        row = QHBoxLayout()
        row.addWidget(self.more_button)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.more)
        self.optimizer.currentIndexChanged.connect(self._enable)
        self.schedule.currentIndexChanged.connect(self._enable)
        self.set_config(TrainConfig(threads=default_threads()))

    # ---- TrainConfig ↔ form ----------------------------------------------------------------------
    def set_config(self, c: TrainConfig) -> None:
        _pick(self.task, c.task)
        self.epochs.setValue(c.epochs)
        self.batch_size.setValue(c.batch_size)
        _pick(self.optimizer, c.optimizer)
        self.lr.setText(f"{c.lr:g}")
        self.momentum.setValue(c.momentum)
        self.weight_decay.setText(f"{c.weight_decay:g}")
        _pick(self.schedule, c.schedule)
        for name, box in self.augment.items():
            box.setChecked(name in c.augment)
        self.nesterov.setChecked(c.nesterov)
        self.step_size.setValue(c.step_size)
        self.gamma.setValue(c.gamma)
        self.patience.setValue(c.patience)
        self.val_fraction.setValue(c.val_fraction)
        self.limit.setValue(c.limit or 0)
        self.max_steps.setValue(c.max_steps or 0)
        self.seed.setValue(c.seed)
        _pick(self.amp, c.amp)
        self.threads.setValue(c.threads)
        self.workers.setValue(c.workers)
        self.channels_last.setChecked(c.channels_last)
        self.compile.setChecked(c.compile)
        self.extra = {"image_size": c.image_size, "crop_padding": c.crop_padding, "pin_memory": c.pin_memory,
                      "log_every": c.log_every}
        self._enable()

    def set_from_graph(self, graph) -> str:
        """The document's defaults; returns "" or the sentence saying why they could not be used."""
        try:
            config = TrainConfig.from_graph(graph)
        except TrainConfigError as exc:
            self.set_config(TrainConfig(threads=default_threads()))
            return str(exc)
        if not (graph.meta.get("training") or {}).get("threads"):
            config = config.replace(threads=default_threads())
        self.set_config(config)
        return ""

    def config(self, dataset: str, device: str) -> TrainConfig:
        """The settings as TrainConfig; raises TrainConfigError (one sentence) for a bad value."""
        return TrainConfig.from_dict({
            "dataset": dataset, "device": device, "task": self.task.currentData(),
            "epochs": self.epochs.value(), "batch_size": self.batch_size.value(),
            "optimizer": self.optimizer.currentData(), "lr": _number("learning rate", self.lr.text()),
            "momentum": self.momentum.value(), "nesterov": self.nesterov.isChecked(),
            "weight_decay": _number("weight decay", self.weight_decay.text()),
            "schedule": self.schedule.currentData(), "step_size": self.step_size.value(),
            "gamma": self.gamma.value(), "patience": self.patience.value(),
            "augment": [n for n, box in self.augment.items() if box.isChecked()],
            "val_fraction": self.val_fraction.value(), "limit": self.limit.value() or None,
            "max_steps": self.max_steps.value() or None, "seed": self.seed.value(),
            "amp": self.amp.currentData(), "threads": self.threads.value(), "workers": self.workers.value(),
            "channels_last": self.channels_last.isChecked(), "compile": self.compile.isChecked(),
            **self.extra})

    def _enable(self, *_):
        sgd = self.optimizer.currentData() == "sgd"
        self.momentum.setEnabled(sgd)
        self.nesterov.setEnabled(sgd)
        schedule = self.schedule.currentData()
        self.step_size.setEnabled(schedule == "step")
        self.gamma.setEnabled(schedule in ("step", "plateau"))
        self.patience.setEnabled(schedule == "plateau")


def _pick(combo: QComboBox, value) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)


def _number(what: str, text: str) -> float:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise TrainConfigError(f"{what} must be a number like 0.001 or 1e-3, not {text.strip()!r}") from None
