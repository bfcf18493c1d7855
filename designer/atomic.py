"""Writing a file so that a crash or an error mid-way leaves the old file whole:
write beside the target under a temporary name, flush, then rename over it.
No torch and no Qt here: every layer writes its files through this module."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target):
    """Yields a temporary path in the target's folder; on success it replaces the
    target, on any error it is removed and the target is untouched."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:  # mkstemp makes the file private; keep the mode of the file replaced, else the usual one
        os.fchmod(fd, target.stat().st_mode & 0o777 if target.exists() else 0o644)
    except (OSError, AttributeError):
        pass
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def atomic_folder(target):
    """For writers that make several files named after the target (ONNX with its
    external weights): yields a temporary folder; on success every file in it is
    moved beside the target, the one named like the target last."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder))
    try:
        yield tmp
        produced = sorted(tmp.iterdir(), key=lambda p: p.name == target.name)
        for p in produced:
            with open(p, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(p, folder / p.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
