"""Where the bundled presets live, and how a name stands in for a path."""
from __future__ import annotations

from pathlib import Path

from designer.bundled import presets_dir

PRESET_DIR = presets_dir()  # package data (designer.presets_data): presets/ in the repository


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def preset_path(name: str) -> Path | None:
    p = PRESET_DIR / f"{name}.json"
    return p if p.is_file() and "/" not in name and "\\" not in name else None


def resolve(name_or_path) -> Path:
    """A preset name (`lenet5`) or a file path; an existing file wins over a preset."""
    path = Path(name_or_path)
    if path.exists() or path.suffix:
        return path
    return preset_path(str(name_or_path)) or path


def is_preset_path(path) -> bool:
    """Is this file one of the bundled presets (a template: opened without a path to save to)?"""
    path = Path(path)
    return path.suffix == ".json" and preset_path(path.stem) is not None \
        and preset_path(path.stem).resolve() == path.resolve()


# ---- torchvision's networks ------------------------------------------------------------------
# A document whose layers are named as one of torchvision's builders says which in
# meta["torchvision"] (the presets vgg11/13/16/19, resnet18/34/50, resnet18_transfer);
# the window and `train --weights torchvision` then offer that builder's ImageNet weights
# (designer.compile.pretrained fetches them).
TORCHVISION_KEY = "torchvision"
PRETRAINED_WEIGHTS = "IMAGENET1K_V1"
PRETRAINED_CHOICE = f"ImageNet weights (torchvision {PRETRAINED_WEIGHTS})"


def torchvision_model(graph) -> str | None:
    """The torchvision builder whose names and layers the document has, or None."""
    name = graph.meta.get(TORCHVISION_KEY) if graph is not None else None
    return name if isinstance(name, str) and name else None
