"""The numbers of one run as the plots draw them: one value per step (loss, lr, and
the task's other step values) and one row per epoch (training and validation
metrics). Filled live from the worker's events or read back from a run's
metrics.csv, and written out again as CSV.

Step values live in growing numpy arrays so that a plot can hand pyqtgraph a view
of them without copying element by element. Qt-free.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from designer.train.events import Epoch, Step

STEP_KEYS_FIXED = ("epoch", "step", "global_step", "time_s", "lr", "samples_per_s")


class Series:
    """A float column that grows by appending; `view()` is the filled part."""

    def __init__(self, capacity: int = 1024):
        self._data = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        need = self.size + len(values)
        if need > len(self._data):
            grown = np.empty(max(need, 2 * len(self._data)), dtype=np.float64)
            grown[:self.size] = self._data[:self.size]
            self._data = grown
        self._data[self.size:need] = values
        self.size = need

    def view(self) -> np.ndarray:
        return self._data[:self.size]


class History:
    def __init__(self):
        self.steps: dict[str, Series] = {}
        self.step_names: list[str] = []       # the task's step values, "loss" first
        self.epochs: list[dict] = []          # {"epoch", "global_step", "time_s", "lr", "train": {}, "val": {}}
        self.revision = 0                     # bumped on every change: views redraw when it moves

    # ---- filling ---------------------------------------------------------------------------------
    def add_steps(self, events: list[Step]) -> None:
        """Step events (designer.train.events), oldest first."""
        self._add_step_rows([e.row() for e in events])

    def _add_step_rows(self, rows: list[dict]) -> None:
        """Steps as rows of numbers (Step.row(), or metrics.csv's step rows)."""
        if not rows:
            return
        names = [k for k in rows[0] if k not in STEP_KEYS_FIXED and isinstance(rows[0][k], (int, float))]
        for name in names:
            if name not in self.step_names:
                self.step_names.append(name)
        before = self.step_count
        keys = list(STEP_KEYS_FIXED) + self.step_names
        for key in keys:
            series = self.steps.get(key)
            if series is None:   # a value that appears late starts with gaps, so rows stay aligned
                series = self.steps[key] = Series()
                series.extend([math.nan] * before)
            series.extend([_float(r.get(key)) for r in rows])
        self.revision += 1

    @property
    def step_count(self) -> int:
        gs = self.steps.get("global_step")
        return gs.size if gs is not None else 0

    def add_epoch(self, event: Epoch) -> None:
        """An Epoch event (designer.train.events)."""
        self._add_epoch_row({"epoch": event.epoch, "global_step": event.global_step, "time_s": event.time_s,
                             "lr": event.lr, "train": event.train, "val": event.val})

    def _add_epoch_row(self, values: dict) -> None:
        row = {"epoch": int(values.get("epoch", len(self.epochs) + 1)),
               "global_step": int(values.get("global_step", self.step_count)),
               "time_s": _float(values.get("time_s")), "lr": _float(values.get("lr")),
               "train": _floats(values.get("train")), "val": _floats(values.get("val"))}
        self.epochs = [e for e in self.epochs if e["epoch"] != row["epoch"]] + [row]
        self.revision += 1

    # ---- reading ---------------------------------------------------------------------------------
    def column(self, key: str) -> np.ndarray:
        series = self.steps.get(key)
        return series.view() if series is not None else np.empty(0)

    def epoch_metric_names(self) -> list[str]:
        """Names of the per-epoch metrics, in the order they first appear."""
        names: list[str] = []
        for e in self.epochs:
            for part in ("val", "train"):
                for k in e[part]:
                    if k not in names:
                        names.append(k)
        return names

    def epoch_series(self, part: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(global steps, values) of one epoch metric ("val" or "train")."""
        rows = [(e["global_step"], e[part][name]) for e in self.epochs if name in e[part]]
        if not rows:
            return np.empty(0), np.empty(0)
        x, y = zip(*rows)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def value_at(self, global_step: float) -> dict:
        """The step nearest `global_step`: {"global_step", "epoch", name: value…} (hover read-out)."""
        gs = self.column("global_step")
        if not len(gs):
            return {}
        i = int(np.clip(np.searchsorted(gs, global_step), 0, len(gs) - 1))
        if i > 0 and abs(gs[i - 1] - global_step) < abs(gs[i] - global_step):
            i -= 1
        out = {k: float(s.view()[i]) for k, s in self.steps.items() if i < s.size}
        return out

    # ---- files -----------------------------------------------------------------------------------
    @classmethod
    def from_csv(cls, path: Path) -> "History":
        """A run's metrics.csv (designer.train.metrics_log): step rows and epoch rows."""
        history = cls()
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        steps, epochs = [], {}
        for r in rows:
            kind = r.get("kind")
            values = {k: _float(v) for k, v in r.items() if k != "kind" and v not in ("", None)}
            if kind == "step":
                steps.append(values)
            elif kind in ("train", "val"):
                e = int(values.get("epoch", 0))
                row = epochs.setdefault(e, {"epoch": e, "global_step": int(values.get("global_step", 0)),
                                            "time_s": values.get("time_s", math.nan),
                                            "lr": values.get("lr", math.nan), "train": {}, "val": {}})
                row[kind] = {k: v for k, v in values.items() if k not in STEP_KEYS_FIXED}
        history._add_step_rows(steps)
        for e in sorted(epochs):
            history._add_epoch_row(epochs[e])
        return history

    def columns(self) -> list[str]:
        names = list(self.step_names)
        for n in self.epoch_metric_names():
            if n not in names:
                names.append(n)
        return ["kind", "epoch", "step", "global_step", "time_s", "lr", "samples_per_s"] + names

    def to_csv(self, path: Path) -> None:
        """Every step and epoch row, in metrics.csv's layout."""
        columns = self.columns()
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(columns)
            data = {k: s.view() for k, s in self.steps.items()}
            epoch_rows = sorted(self.epochs, key=lambda e: e["global_step"])
            k = 0
            for i in range(self.step_count):
                row = {c: data[c][i] for c in columns if c in data}
                w.writerow(["step"] + [_cell(row.get(c), c) for c in columns[1:]])
                while k < len(epoch_rows) and epoch_rows[k]["global_step"] <= row.get("global_step", 0):
                    self._write_epoch(w, columns, epoch_rows[k])
                    k += 1
            for e in epoch_rows[k:]:
                self._write_epoch(w, columns, e)

    @staticmethod
    def _write_epoch(w, columns, e: dict) -> None:
        for part in ("train", "val"):
            if not e[part]:
                continue
            row = dict(e[part], epoch=e["epoch"], global_step=e["global_step"], time_s=e["time_s"], lr=e["lr"])
            w.writerow([part] + [_cell(row.get(c), c) for c in columns[1:]])


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _floats(d) -> dict:
    if not isinstance(d, dict):
        return {}
    return {k: float(v) for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _cell(v, column: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if column in ("epoch", "step", "global_step"):
        return str(int(v))
    return repr(float(v))
