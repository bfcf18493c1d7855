"""Where the window keeps its state between runs: QSettings (layout, recent files)
and a data folder (personal block library, recovery files).

Both can be redirected with environment variables, which tests use so that a
test run never reads or writes a person's real settings:
DESIGNER_SETTINGS (an .ini file) and DESIGNER_DATA_DIR (a folder).
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

ORGANIZATION = "NetworkDesigner"
APPLICATION = "Network Designer"


def settings() -> QSettings:
    override = os.environ.get("DESIGNER_SETTINGS")
    if override:
        return QSettings(override, QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def data_dir() -> Path:
    override = os.environ.get("DESIGNER_DATA_DIR")
    if override:
        path = Path(override)
    else:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        path = Path(base) if base else Path.home() / ".network-designer"
    path.mkdir(parents=True, exist_ok=True)
    return path
