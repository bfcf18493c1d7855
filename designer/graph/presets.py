"""Where the bundled presets live, and how a name stands in for a path."""
from __future__ import annotations

from pathlib import Path

PRESET_DIR = Path(__file__).resolve().parents[2] / "presets"


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
