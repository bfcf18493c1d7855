"""The parts of designer.train the window uses before training starts (settings, the
worker handle) do not even import torch. That designer.train (and designer.cli) never
import Qt is the import-linter contract run by tests/test_layering.py."""
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

