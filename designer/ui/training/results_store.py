"""Each epoch's results kept in the run folder (`results/`), so that an earlier run
shows its confusion matrix, predictions and sample grids when it is selected again:

    results/epoch_0003.json            {"epoch", "confusion", "predictions", "classes", "images": [names]}
    results/epoch_0003_samples.png     one PNG per picture of the epoch event

The engine sends these pictures in its epoch events (designer/train/tasks:
`epoch_images`); it does not keep them itself.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from designer.train.events import Epoch
from designer.train.run_folder import RESULTS

_EPOCH_FILE = re.compile(r"^epoch_(\d+)\.json$")


@dataclass
class EpochResults:
    epoch: int
    images: dict[str, np.ndarray] = field(default_factory=dict)   # name -> uint8 H×W×3
    confusion: list | None = None
    predictions: dict | None = None                               # {"predicted", "true", "columns"}
    classes: list = field(default_factory=list)

    @classmethod
    def from_event(cls, event: Epoch, classes) -> "EpochResults":
        images = {k: np.ascontiguousarray(v, dtype=np.uint8) for k, v in event.images.items()
                  if isinstance(v, np.ndarray) and v.ndim == 3 and v.shape[2] == 3}
        return cls(event.epoch, images, event.confusion, event.predictions, list(classes or []))


def to_qimage(picture: np.ndarray) -> QImage:
    """uint8 H×W×3 → a QImage that owns its pixels."""
    picture = np.ascontiguousarray(picture, dtype=np.uint8)
    h, w, _ = picture.shape
    return QImage(picture.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def from_qimage(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return data.reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3).copy()


def save_epoch(run_dir: Path, results: EpochResults) -> None:
    folder = Path(run_dir) / RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"epoch_{results.epoch:04d}"
    for name, picture in results.images.items():
        to_qimage(picture).save(str(folder / f"{stem}_{_safe(name)}.png"), "PNG")
    record = {"epoch": results.epoch, "confusion": results.confusion, "predictions": results.predictions,
              "classes": results.classes, "images": list(results.images)}
    tmp = folder / f"{stem}.json.tmp"
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(folder / f"{stem}.json")


def load_epochs(run_dir: Path) -> list[EpochResults]:
    """The saved results of a run, by epoch (an unreadable file is skipped)."""
    folder = Path(run_dir) / RESULTS
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir()):
        m = _EPOCH_FILE.match(path.name)
        if not m:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        images = {}
        for name in record.get("images") or []:
            image = QImage(str(folder / f"epoch_{int(m.group(1)):04d}_{_safe(name)}.png"))
            if not image.isNull():
                images[name] = from_qimage(image)
        out.append(EpochResults(int(record.get("epoch", m.group(1))), images, record.get("confusion"),
                                record.get("predictions"), list(record.get("classes") or [])))
    return sorted(out, key=lambda r: r.epoch)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(name))
