"""Runs side by side: the settings that differ between them, their best and last
metrics, the difference between their networks when they trained different drawings,
and all their metrics in one long CSV with a `run` column (`designer runs`, the Train
panel's comparison and its Export All Runs).

Each run keeps one colour wherever it is drawn (`run_colour`): by its place in the
comparison, which is the order the runs were given in.

Light: no torch, no Qt.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from designer.atomic import atomic_path
from designer.graph.diff import GraphDiff, as_text, diff_graphs, signed
from designer.graph.errors import GraphError
from designer.graph.fileformat import loads

from .run_listing import BEST_RULE, CONFIG, DOCUMENT, META, METRICS, RunRecord, read_run
from .run_listing import _number   # the one reading of a metrics.csv cell

# one colour per run, the same in every plot, chip and table (Tableau 10, readable on light and dark)
RUN_COLOURS = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
               "#9c755f", "#bab0ac")
PERCENT = ("accuracy", "top5", "mean_iou", "pixel_accuracy")
# settings that say how a run was computed, not what it learned: listed only when asked
MACHINERY = ("device", "amp", "channels_last", "compile", "workers", "pin_memory", "threads", "log_every")


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def find_runs(paths) -> list[Path]:
    """Run folders named, or found one level below a folder of runs (a sweep's --out, a
    document's .runs folder), in the order given (inside a folder: by name)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if _is_run(p):
            found.append(p)
        elif p.is_dir():
            found += sorted(c for c in p.iterdir() if c.is_dir() and _is_run(c))
    seen: set[Path] = set()
    return [p for p in found if not (p.resolve() in seen or seen.add(p.resolve()))]


def _is_run(path: Path) -> bool:
    return (path / CONFIG).is_file() or (path / META).is_file()


@dataclass
class RunSummary:
    """One run's figures for the comparison."""
    record: RunRecord
    label: str                         # the run folder's name
    colour: str
    last: dict = field(default_factory=dict)    # the last validation row: metric -> value
    steps: int = 0
    time_s: float = math.nan

    @property
    def config(self) -> dict:
        return self.record.config

    @property
    def best(self) -> dict | None:
        return self.record.best


@dataclass
class RunComparison:
    runs: list[RunSummary]
    settings: list[str]                 # the settings whose values differ, in TrainConfig's order
    metrics: list[str]                  # the validation metrics any run has, "loss" first
    diffs: dict[str, GraphDiff]         # run label -> its network against the first run's, where they differ
    reference: str = ""                 # the first run given: the networks are compared with its
    numbered: bool = False              # ranked: a first column with the place

    def header(self) -> list[str]:
        return ((["#"] if self.numbered else []) + ["run"] + self.settings + ["best"]
                + [f"last val {m}" for m in self.metrics] + ["steps", "time"] + (["network"] if self.diffs else []))

    def rows(self) -> list[list[str]]:
        """One row per run, as printed and as the panel's table shows it."""
        out = []
        for place, r in enumerate(self.runs, 1):
            row = ([str(place)] if self.numbered else []) + [r.label]
            row += [setting_text(r.config.get(k)) for k in self.settings]
            row.append(r.record.best_text())
            row += [metric_text(m, r.last.get(m)) for m in self.metrics]
            row += [str(r.steps) if r.steps else "—", seconds(r.time_s)]
            if self.diffs:
                d = self.diffs.get(r.label)
                row.append(("reference" if r.label == self.reference else f"as {self.reference}") if d is None
                           else f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed, "
                                f"{signed(d.params_delta)} params")
            out.append(row)
        return out

    def as_text(self) -> str:
        rows = [self.header()] + self.rows()
        widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "─" * max(len(line) for line in lines))
        if not self.settings and len(self.runs) > 1:
            lines.append("The runs have the same settings.")
        if self.diffs:
            lines += ["", self.networks_text()]
        return "\n".join(lines)

    def networks_text(self) -> str:
        """What differs between the networks the runs trained, against the first run's."""
        parts = []
        for label, d in self.diffs.items():
            parts.append("\n".join([f"Network of {label} against {self.reference}:"]
                                   + as_text(d, self.reference, label).splitlines()[1:]))
        return "\n\n".join(parts)

    def as_dict(self) -> dict:
        return {"settings": self.settings, "metrics": self.metrics, "reference": self.reference,
                "runs": [{"run": r.label, "path": str(r.record.path), "status": r.record.status,
                          "settings": {k: r.config.get(k) for k in self.settings}, "best": r.best,
                          "last_val": r.last, "steps": r.steps,
                          "time_s": r.time_s if math.isfinite(r.time_s) else None} for r in self.runs],
                "networks": {label: d.as_dict() for label, d in self.diffs.items()}}


def compare_runs(paths, all_settings: bool = False) -> RunComparison:
    """The comparison of the runs in `paths` (run folders), in that order."""
    runs = []
    for path in paths:
        record = read_run(Path(path))
        if record is None:
            continue
        last, steps, time_s = _last_metrics(record.file(METRICS))
        runs.append(RunSummary(record, record.name, run_colour(len(runs)), last, steps, time_s))
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r.config if k not in keys]
    settings = [k for k in keys if len({_key(r.config.get(k)) for r in runs}) > 1
                and (all_settings or k not in MACHINERY)]
    metrics: list[str] = []
    for r in runs:
        metrics += [m for m in r.last if m not in metrics]
    first_seen = {m: k for k, m in enumerate(metrics)}
    metrics.sort(key=lambda m: (m != "loss", m not in PERCENT, first_seen[m]))
    return RunComparison(runs, settings, metrics, _network_diffs(runs), runs[0].label if runs else "")


def _network_diffs(runs: list[RunSummary]) -> dict[str, GraphDiff]:
    if len(runs) < 2:
        return {}
    texts = [_read(r.record.file(DOCUMENT)) for r in runs]
    if texts[0] is None:
        return {}
    try:
        first = loads(texts[0])
    except GraphError:
        return {}
    out = {}
    for r, text in zip(runs[1:], texts[1:]):
        if text is None or text == texts[0]:
            continue
        try:
            d = diff_graphs(first, loads(text))
        except GraphError:
            continue
        if not d.same:
            out[r.label] = d
    return out


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _key(value):
    return repr(value)


def _last_metrics(path: Path) -> tuple[dict, int, float]:
    """(the last validation row's metrics, steps, seconds) of a metrics.csv."""
    rows = _rows(path)
    last_val = next((r for r in reversed(rows) if r.get("kind") == "val"), {})
    skip = {"kind", "epoch", "step", "global_step", "time_s", "lr", "samples_per_s"}
    last = {k: _number(v) for k, v in last_val.items() if k not in skip and _number(v) is not None}
    steps = max((int(r["global_step"]) for r in rows if (r.get("global_step") or "").isdigit()), default=0)
    times = [t for t in (_number(r.get("time_s")) for r in rows) if t is not None]
    return last, steps, max(times) if times else math.nan


def _rows(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def setting_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "—"
    return str(value)


def seconds(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def metric_text(name: str, value) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if name in PERCENT else f"{value:.4g}"


# ---- ranking ------------------------------------------------------------------------------------

def rank(summaries: list[RunSummary]) -> list[RunSummary]:
    """Best first by the task's rule for best.pt (accuracy high, loss low…); runs without a
    best value last, in their order."""
    def key(r: RunSummary):
        b = r.best or {}
        value = b.get("value")
        if value is None:
            return (1, 0.0)
        rule = BEST_RULE.get(r.record.task) or ("accuracy" if b.get("metric") in PERCENT else "loss",
                                                "max" if b.get("metric") in PERCENT else "min")
        return (0, -float(value) if rule[1] == "max" else float(value))
    return sorted(summaries, key=key)


# ---- one long CSV -------------------------------------------------------------------------------

def write_long_csv(paths, out: Path) -> int:
    """Every row of every run's metrics.csv under one header, with the run's folder name in
    a first column `run`; returns the rows written."""
    tables = []
    columns: list[str] = []
    for path in map(Path, paths):
        rows = _rows(path / METRICS)
        tables.append((path.name, rows))
        for r in rows[:1]:
            columns += [c for c in r if c not in columns]
    n = 0
    with atomic_path(Path(out)) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["run"] + columns)
        for name, rows in tables:
            for r in rows:
                w.writerow([name] + [r.get(c, "") or "" for c in columns])
                n += 1
    return n
