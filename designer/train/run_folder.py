"""The folder of one run, and the one list of the names of its files.

Written by the engine (RunFolder, below):

    config.json   the TrainConfig (read back by --resume)
    metrics.csv   one row per step and per epoch (columns: designer.train.metrics_log)
    last.pt       the latest checkpoint: written each epoch and when stopped
    best.pt       the checkpoint of the best validation epoch (classification: accuracy,
                  segmentation: mean IoU, VAE: loss; GAN: the last epoch)
    model.pt      the trained network as TorchScript (a GAN's generator), written at the end
    error.txt     the traceback of an unexpected error (a bug), when a run ends on one

Written beside them by the window, so that a run can be listed, looked at, exported
and resumed later (designer.train.run_listing reads them):

    document.json    the drawing exactly as it was trained (later edits do not touch it)
    run.json         status, reason, task, classes, best metric: the runs list reads it
    init_weights.pt  the weights the run started from, when it fine-tunes
    results/         the pictures and numbers of each epoch (designer/ui/training/results_store.py)

Light: no torch.
"""
from __future__ import annotations

from pathlib import Path

from designer.atomic import atomic_path

from .config import TrainConfig
from .errors import TrainSetupError

CONFIG, METRICS, LAST, BEST, MODEL = "config.json", "metrics.csv", "last.pt", "best.pt", "model.pt"
ERROR = "error.txt"
DOCUMENT, META, INIT_WEIGHTS, RESULTS = "document.json", "run.json", "init_weights.pt", "results"


class RunFolder:
    def __init__(self, path):
        self.path = Path(path).expanduser()

    def file(self, name: str) -> Path:
        return self.path / name

    def check(self, resume: bool) -> None:
        """Refuse to overwrite a run, or to resume one that is not there."""
        if resume:
            if not self.file(LAST).is_file():
                raise TrainSetupError(f"There is no {LAST} in {self.path} to resume from.")
            return
        if self.file(LAST).exists():
            raise TrainSetupError(f"{self.path} holds a run already; resume it or choose another folder.")
        if self.file(METRICS).exists():   # a run that ended before its first checkpoint: nothing to resume
            raise TrainSetupError(f"{self.path} holds a run that ended before its first checkpoint; choose another "
                                  "folder, or delete that one.")
        if self.path.exists() and not self.path.is_dir():
            raise TrainSetupError(f"{self.path} is a file, not a folder for the run.")

    def create(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrainSetupError(f"The run folder {self.path} cannot be made: {exc.strerror}.") from None

    def write_config(self, config: TrainConfig) -> None:
        atomic_write_text(self.file(CONFIG), config.to_json() + "\n")

    def write_document(self, document_json: str) -> None:
        """The drawing the run trains (document.json): the window rebuilds and exports the run's
        network from it, and `designer runs` compares the networks of two runs."""
        atomic_write_text(self.file(DOCUMENT), document_json)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
