"""metrics.csv: one row per optimizer step and two per epoch, appended as the run goes.

Columns, in order:

    kind           "step" (one optimizer step), "train" (the epoch's training averages),
                   "val" (the epoch's validation metrics)
    epoch          1-based epoch
    step           1-based step within the epoch (for train/val rows: the epoch's last step)
    global_step    1-based step since the run began; step rows count 1, 2, 3, … without a gap
    time_s         seconds of training since the run began (pauses excluded; continues on resume)
    lr             learning rate after the step
    samples_per_s  training throughput around that step (step rows)
    loss           the step's loss (step rows) or the epoch's mean loss
    then the task's step values (VAE: recon, kl; GAN: d_loss, g_loss, d_real, d_fake)
    and its epoch metrics (classification: accuracy[, top5]; segmentation:
    pixel_accuracy, mean_iou), empty where a row has none.

On resume the rows after the checkpoint's step are dropped, so the file
continues exactly where the checkpoint left off: no gap, no repeated step.
"""
from __future__ import annotations

import csv
import math
from contextlib import contextmanager
from pathlib import Path

from designer.atomic import atomic_path, write_failure

BASE_COLUMNS = ["kind", "epoch", "step", "global_step", "time_s", "lr", "samples_per_s", "loss"]


def columns_for(step_names, metric_names) -> list[str]:
    cols = list(BASE_COLUMNS)
    for name in list(step_names) + list(metric_names):
        if name not in cols:
            cols.append(name)
    return cols


class MetricsLog:
    """Appends rows; a disk that refuses them raises designer.atomic.WriteFailed (the rows
    written before stay, and a resume drops any half row past its checkpoint)."""

    def __init__(self, path: Path, columns: list[str], resume_step: int | None = None):
        self.path = Path(path)
        self.columns = columns
        self.file = None
        with self._refusal():
            if resume_step is not None and self.path.exists():
                self._truncate(resume_step)
                self.file = open(self.path, "a", newline="", encoding="utf-8")
                self.writer = csv.writer(self.file)
            else:
                self.file = open(self.path, "w", newline="", encoding="utf-8")
                self.writer = csv.writer(self.file)
                self.writer.writerow(columns)

    @contextmanager
    def _refusal(self):
        try:
            yield
        except OSError as exc:
            failure = write_failure(exc, self.path, kept=self.path.exists())
            if failure is None or failure is exc:
                raise
            raise failure from exc

    def _truncate(self, last_step: int) -> None:
        with open(self.path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        header, body = (rows[0], rows[1:]) if rows else (self.columns, [])
        if header != self.columns:
            header, body = self.columns, []  # another task's file: start it again
        gs = header.index("global_step")
        keep = [r for r in body if len(r) == len(header) and int(r[gs]) <= last_step]
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(keep)

    def write(self, row: dict) -> None:
        with self._refusal():
            self.writer.writerow([_cell(row.get(c)) for c in self.columns])

    def flush(self) -> None:
        with self._refusal():
            self.file.flush()

    def close(self) -> None:
        if self.file is not None and not self.file.closed:
            with self._refusal():
                self.file.close()


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else str(v)
    return str(v)


def read(path: Path) -> list[dict]:
    """The rows of a metrics.csv as dicts of strings (for tests, plots and resumes)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
