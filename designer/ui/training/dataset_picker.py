"""Choosing the images to train on: the bundled digits and shapes (always there),
MNIST / Fashion-MNIST / CIFAR-10 when their files are in the data folder (or can be
downloaded), and a folder of a person's own images (one sub-folder per class).
A grid of samples, fitted to the graph's Input as training will see them, and the
class count show what was chosen.

The datasets module imports torch, so the list and the previews are fetched on a
thread; the two bundled sets are listed at once without it.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from .. import theme
from .background import Background
from .results_store import to_qimage

FOLDER_PREFIX = "folder:"
PREVIEW_COUNT = 16
BUNDLED = {"digits": ("Digits (scikit-learn, 8×8)", 10, 1797), "shapes": ("Shapes (synthetic, with masks)", 3, None)}
DATASET_ROLE = Qt.ItemDataRole.UserRole
INFO_ROLE = Qt.ItemDataRole.UserRole + 1


def _list_datasets():
    from designer.train.datasets import available_datasets
    return available_datasets()


def _preview(name: str, shape):
    from designer.train.datasets import preview_samples
    return preview_samples(name, PREVIEW_COUNT, shape)


class PreviewGrid(QWidget):
    """A few training images with their labels."""
    COLUMNS = 8

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tiles: list[tuple[QPixmap, str]] = []
        self.message = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_samples(self, images: np.ndarray, labels, class_names) -> None:
        names = [str(c) for c in class_names or []]
        tiles = []
        for i, image in enumerate(images):
            rgb = image if image.shape[-1] == 3 else np.repeat(image[..., :1], 3, axis=-1)
            label = labels[i] if i < len(labels) else -1
            tiles.append((QPixmap.fromImage(to_qimage(rgb)), names[label] if 0 <= label < len(names) else "?"))
        self.tiles = tiles
        self.message = ""
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def set_message(self, text: str) -> None:
        self.tiles = []
        self.message = text
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def _tile(self) -> int:
        return max(24, min(44, (self.width() - 4) // self.COLUMNS - 4))

    def sizeHint(self) -> QSize:
        rows = max(1, math.ceil(len(self.tiles) / self.COLUMNS)) if self.tiles else 1
        size = self._tile()
        return QSize(280, rows * (size + 16) + 2 if self.tiles else 40)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.setFixedHeight(self.sizeHint().height())

    def paintEvent(self, _event) -> None:
        t = theme.current()
        p = QPainter(self)
        if not self.tiles:
            p.setPen(QColor(t.muted))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            return
        size = self._tile()
        fm = self.fontMetrics()
        for i, (pix, label) in enumerate(self.tiles):
            r, c = divmod(i, self.COLUMNS)
            x, y = c * (size + 4), r * (size + 16)
            p.drawPixmap(QRect(x, y, size, size), pix)
            p.setPen(QColor(t.muted))
            p.drawText(QRect(x, y + size, size, 14), Qt.AlignmentFlag.AlignHCenter,
                       fm.elidedText(label, Qt.TextElideMode.ElideRight, size))


class DatasetPicker(QWidget):
    changed = Signal(str)            # the dataset's name (TrainConfig.dataset)
    classes_known = Signal(int)      # its class count, once known

    def __init__(self, parent=None, list_datasets=_list_datasets, preview=_preview):
        super().__init__(parent)
        self._list_datasets = list_datasets
        self._preview = preview
        self.input_shape: tuple | None = None
        self.class_count: int | None = None
        self.class_names: list[str] = []
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(18)
        for name, (title, classes, size) in BUNDLED.items():
            self._add(name, title, f"{classes} classes" + (f", {size:,} images" if size else ""))
        self.folder_button = QToolButton()
        self.folder_button.setText("Folder…")
        self.folder_button.setToolTip("Train on your own images: a folder with one sub-folder per class")
        self.folder_button.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.folder_button)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(f"color: {theme.current().muted};")
        self.preview = PreviewGrid()
        self.preview.set_message("Loading a preview…")
        self.skipped = QLabel("")   # files of a folder that are skipped or ignored (dataset warnings)
        self.skipped.setWordWrap(True)
        self.skipped.setStyleSheet(f"color: {theme.current().warning};")
        self.skipped.hide()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.summary)
        column.addWidget(self.skipped)
        column.addWidget(self.preview)

        self._listing = Background(self, "datasets")
        self._listing.done.connect(self._on_listing)
        self._listing.failed.connect(lambda _t, msg: self.summary.setText(f"Other datasets could not be listed: {msg}"))
        self._previews = Background(self, "dataset-preview")
        self._previews.done.connect(self._on_preview)
        self._previews.failed.connect(self._on_preview_failed)
        self.combo.currentIndexChanged.connect(self._on_index)
        self.listed = False
        self._preview_pending = True

    # ---- the list --------------------------------------------------------------------------------
    def _add(self, name: str, title: str, detail: str, enabled: bool = True) -> int:
        self.combo.addItem(title)
        i = self.combo.count() - 1
        self.combo.setItemData(i, name, DATASET_ROLE)
        self.combo.setItemData(i, detail, INFO_ROLE)
        self.combo.setItemData(i, detail, Qt.ItemDataRole.ToolTipRole)
        if not enabled:
            item = self.combo.model().item(i)
            item.setEnabled(False)
        return i

    def find(self, name: str) -> int:
        for i in range(self.combo.count()):
            if self.combo.itemData(i, DATASET_ROLE) == name:
                return i
        return -1

    def list_more(self) -> None:
        """Ask (on a thread) which other datasets can be used here."""
        if not self.listed:
            self.listed = True
            self._listing.start(self._list_datasets)

    def _on_listing(self, _token, infos) -> None:
        for info in infos:
            if info.name in BUNDLED:
                i = self.find(info.name)
                self.combo.setItemText(i, info.title)
                self.combo.setItemData(i, f"{info.num_classes} classes" +
                                       (f", {info.size:,} images" if info.size and info.name != "shapes" else "")
                                       + f"; {info.note}", INFO_ROLE)
                continue
            if self.find(info.name) >= 0 or not info.available:
                continue   # files absent and no download possible: not offered (the note says why in the log)
            self._add(info.name, info.title, f"{info.num_classes} classes, {info.size:,} images; {info.note}")
        self._show_summary()

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Images to train on (one sub-folder per class)")
        if path:
            self.select(FOLDER_PREFIX + path)

    # ---- the choice ------------------------------------------------------------------------------
    @property
    def dataset(self) -> str:
        return str(self.combo.currentData(DATASET_ROLE) or "digits")

    def select(self, name: str) -> None:
        """Pick `name`, adding it (a folder, or a torchvision set not listed yet) when needed."""
        i = self.find(name)
        if i < 0:
            if name.startswith(FOLDER_PREFIX):
                path = name[len(FOLDER_PREFIX):]
                i = self._add(name, f"Folder: {path.rstrip('/').split('/')[-1]}", path)
            else:
                i = self._add(name, name, "not checked yet")
        if i == self.combo.currentIndex():
            self._on_index(i)
        else:
            self.combo.setCurrentIndex(i)

    def set_input_shape(self, shape) -> None:
        """The graph's Input: the preview shows the images fitted to it."""
        shape = tuple(shape) if shape else None
        if shape != self.input_shape:
            self.input_shape = shape
            self._request_preview()

    def _on_index(self, _index: int) -> None:
        self.class_count = None
        self.class_names = []
        self._show_summary()
        self._request_preview()
        self.changed.emit(self.dataset)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # after this paint, and only if still on screen: a dock tabbed behind another
        # is shown for a moment while the window first lays out
        QTimer.singleShot(0, self.on_shown)

    def on_shown(self) -> None:
        if not self.isVisible() or self.visibleRegion().isEmpty():
            return  # e.g. in a dock tabbed behind another; the dock's visibilityChanged calls again
        self.list_more()
        if self._preview_pending:
            self._request_preview()

    def _request_preview(self) -> None:
        """The preview is fetched once the picker is on screen: until someone opens the Train
        panel, nothing loads torch or a dataset."""
        if not self.isVisible():
            self._preview_pending = True
            return
        self._preview_pending = False
        self.preview.set_message("Loading a preview…")
        shape = self.input_shape if self.input_shape and len(self.input_shape) == 3 else None
        self._previews.start(self._preview, self.dataset, shape)

    def _on_preview(self, token, found) -> None:
        if not self._previews.is_latest(token):
            return
        self.class_names = list(found.get("class_names") or [])
        self.class_count = len(self.class_names)
        self.preview.set_samples(found["images"], found.get("labels") or [], self.class_names)
        warnings = found.get("warnings") or []
        self.skipped.setText("; ".join(warnings) + "." if warnings else "")
        self.skipped.setVisible(bool(warnings))
        self._show_summary()
        self.classes_known.emit(self.class_count)

    def _on_preview_failed(self, token, message) -> None:
        if self._previews.is_latest(token):
            self.skipped.hide()
            self.preview.set_message(message)

    def _show_summary(self) -> None:
        detail = str(self.combo.currentData(INFO_ROLE) or "")
        if self.class_count is not None and self.dataset.startswith(FOLDER_PREFIX):
            detail = f"{self.class_count} classes: {', '.join(self.class_names[:6])}" + \
                ("…" if len(self.class_names) > 6 else "")
        self.summary.setText(detail)
