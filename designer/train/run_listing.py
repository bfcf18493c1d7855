"""The runs of a document as the window lists them: where they are kept, what each
run folder holds (read from the engine's files and the window's run.json), and the
notes the window adds to run.json as a run goes.

A saved document `net.json` keeps its runs in `net.runs/` beside it; an unsaved one
(a preset, a new drawing) in the application's data folder under `runs/<title>/`.
Each run is a folder named after the time it started; its files are named in
designer.train.run_folder.

Light (no torch, no Qt): the runs list reads these on the GUI thread.
"""
from __future__ import annotations

import csv
import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from designer.atomic import atomic_path

from .run_folder import BEST, CONFIG, DOCUMENT, INIT_WEIGHTS, LAST, META, METRICS, MODEL, RESULTS

# How a run ended, as run.json records it
RUNNING, FINISHED, STOPPED, FAILED = "running", "finished", "stopped", "failed"


def runs_root(document_path: Path | None, title: str, data_dir: Path) -> Path:
    if document_path is not None:
        path = Path(document_path)
        return path.parent / f"{path.stem}.runs"
    return Path(data_dir) / "runs" / slug(title)


def slug(title: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_-]+", "_", title or "").strip("_").lower()
    return text or "untitled"


def new_run_dir(root: Path, now: datetime | None = None) -> Path:
    """A fresh folder name under `root` (not created): run-YYYYMMDD-HHMMSS, with -2, -3…
    when two runs start within the same second."""
    stamp = (now or datetime.now()).strftime("run-%Y%m%d-%H%M%S")
    path, n = Path(root) / stamp, 2
    while path.exists():
        path, n = Path(root) / f"{stamp}-{n}", n + 1
    return path


def write_json(path: Path, data: dict) -> None:
    """Atomically: the runs list may read the file while it is rewritten."""
    with atomic_path(Path(path)) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_plain) + "\n", encoding="utf-8")


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def read_json(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update_meta(run_dir: Path, **fields) -> dict:
    meta = read_json(Path(run_dir) / META)
    meta.update(fields)
    write_json(Path(run_dir) / META, meta)
    return meta


@dataclass
class RunRecord:
    """One run as the runs list shows it."""
    path: Path
    status: str                   # running | finished | stopped | failed
    reason: str = ""              # why it ended, in words
    started: str = ""             # ISO time
    task: str = ""
    config: dict = field(default_factory=dict)
    best: dict | None = None      # {"metric", "value", "epoch"} (the engine's best.pt rule)
    epochs_done: int = 0
    classes: list = field(default_factory=list)
    document_title: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def has_weights(self) -> bool:
        return self.file(LAST).is_file()

    @property
    def can_resume(self) -> bool:
        """A run that ended before its last epoch, with a checkpoint to go on from."""
        epochs = int(self.config.get("epochs") or 0)
        return self.status in (STOPPED, FAILED) and self.has_weights and self.file(DOCUMENT).is_file() \
            and (not epochs or self.epochs_done < epochs) and not self.config.get("max_steps")

    @property
    def can_export(self) -> bool:
        return self.status != RUNNING and self.has_weights and self.file(DOCUMENT).is_file()

    def best_text(self) -> str:
        b = self.best or {}
        if b.get("value") is None or not b.get("metric"):
            return "—"
        value = float(b["value"])
        metric = str(b["metric"])
        shown = f"{value:.1%}" if metric in ("accuracy", "top5", "mean_iou", "pixel_accuracy") else f"{value:.4g}"
        return f"{metric.replace('_', ' ')} {shown} (epoch {b.get('epoch', '?')})"

    def settings_text(self) -> str:
        c = self.config
        if not c:
            return ""
        parts = [str(c.get("dataset", "")), f"{c.get('epochs', '?')} epochs", f"batch {c.get('batch_size', '?')}",
                 f"{c.get('optimizer', '')} lr {c.get('lr', '?'):g}" if isinstance(c.get("lr"), (int, float))
                 else str(c.get("optimizer", ""))]
        return ", ".join(p for p in parts if p)


def read_run(path: Path) -> RunRecord | None:
    """A run folder as a record; None for a folder that holds no run."""
    path = Path(path)
    meta = read_json(path / META)
    config = read_json(path / CONFIG)
    if not meta and not config:
        return None
    status = meta.get("status") or (FINISHED if (path / MODEL).is_file() else STOPPED)
    if status == RUNNING and not _recent(path):
        # the window that ran it closed (or crashed) without hearing the end
        status = STOPPED if (path / LAST).is_file() else FAILED
    best = meta.get("best")
    epochs_done = int(meta.get("epochs_done") or 0)
    if best is None or not epochs_done:
        best_csv, epochs_csv = best_from_metrics(path / METRICS, meta.get("task", ""))
        best = best if best is not None else best_csv
        epochs_done = epochs_done or epochs_csv
    return RunRecord(path, status, str(meta.get("reason", "")), str(meta.get("started", "")),
                     str(meta.get("task", config.get("task", ""))), config, best, epochs_done,
                     list(meta.get("classes") or []), str(meta.get("document_title", "")))


def _recent(path: Path, seconds: float = 30.0) -> bool:
    """Whether the run still writes: metrics.csv or run.json changed lately."""
    newest = max((p.stat().st_mtime for p in (path / METRICS, path / META) if p.exists()), default=0.0)
    return time.time() - newest < seconds


# the validation metric each task keeps best.pt for (designer/train/tasks: `best`)
BEST_RULE = {"classification": ("accuracy", "max"), "segmentation": ("mean_iou", "max"),
             "vae": ("loss", "min"), "gan": None}


def best_from_metrics(path: Path, task: str) -> tuple[dict | None, int]:
    """(best epoch by the task's rule, epochs completed) read from metrics.csv."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None, 0
    val = [r for r in rows if r.get("kind") == "val"]
    epochs = max((int(r["epoch"]) for r in rows if r.get("kind") == "train" and r.get("epoch")), default=0)
    rule = BEST_RULE.get(task) or (("accuracy", "max") if val and val[0].get("accuracy") else ("loss", "min"))
    best = None
    for r in val:
        value = _number(r.get(rule[0]))
        if value is None:
            continue
        if best is None or (value > best["value"] if rule[1] == "max" else value < best["value"]):
            best = {"metric": rule[0], "value": value, "epoch": int(r["epoch"])}
    return best, epochs


def _number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def list_runs(root: Path) -> list[RunRecord]:
    """The runs under `root`, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    records = [read_run(p) for p in root.iterdir() if p.is_dir()]
    return sorted((r for r in records if r is not None), key=lambda r: r.path.name, reverse=True)


__all__ = ["RUNNING", "FINISHED", "STOPPED", "FAILED", "RunRecord", "runs_root", "slug", "new_run_dir",
           "write_json", "read_json", "update_meta", "read_run", "list_runs", "best_from_metrics", "BEST_RULE",
           # the file names, from designer.train.run_folder, for the readers of run folders
           "CONFIG", "METRICS", "LAST", "BEST", "MODEL", "DOCUMENT", "META", "INIT_WEIGHTS", "RESULTS"]
