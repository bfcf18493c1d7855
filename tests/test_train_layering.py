"""designer.train never imports Qt; the parts the window uses before training
starts (settings, the worker handle) do not even import torch."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return set(out.stdout.split())


def test_the_window_can_configure_and_start_training_without_torch():
    modules = imported_after("import designer.train.config, designer.train.worker, designer.train.errors")
    assert "torch" not in modules and "PySide6" not in modules


def test_the_whole_training_package_stays_free_of_qt():
    import pkgutil
    import designer.train
    names = [m.name for m in pkgutil.walk_packages(designer.train.__path__, "designer.train.")]
    assert "designer.train.engine" in names and "designer.train.tasks.gan" in names
    modules = imported_after("import designer.cli.train\n" + "\n".join(f"import {n}" for n in names))
    assert not {m for m in modules if m.startswith("PySide6")}
