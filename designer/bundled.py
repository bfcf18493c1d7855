"""The files that ship inside the package: the preset documents and the sample images.

In the repository they live in the top-level presets/ and resources/ folders; the build
maps those folders onto the packages `designer.presets_data` and `designer.resources_data`
(setup.py), so a built wheel and an editable checkout find them the same way, through
importlib.resources. A leaf module: it imports nothing else from designer.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PRESETS_PACKAGE = "designer.presets_data"
RESOURCES_PACKAGE = "designer.resources_data"


def _folder(package: str) -> Path:
    root = files(package)
    if not isinstance(root, Path):  # a zip import: pip never installs this way; the window needs real files
        raise RuntimeError(f"{package} is not installed as plain files ({root!r}); install the package unzipped")
    return root


def presets_dir() -> Path:
    """The folder of the bundled presets: `<name>.json` per network, and their README.md."""
    return _folder(PRESETS_PACKAGE)


def resources_dir() -> Path:
    return _folder(RESOURCES_PACKAGE)


def samples_dir() -> Path:
    """The sample images (digit_seven.png, shapes.png, smiley.png)."""
    return resources_dir() / "samples"
