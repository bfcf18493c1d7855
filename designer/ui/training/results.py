"""What a run has learnt, epoch by epoch: a confusion matrix, validation images with
predicted and true labels (mistakes first), segmentation triples, a VAE's
reconstructions and samples, a GAN's samples from the same noise every epoch; a
slider goes through the epochs (during the run it follows the newest).

The pictures come from the engine's epoch events (designer/train/tasks:
`epoch_images`) and, for an earlier run, from its results/ folder (results_store).
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QSlider, QVBoxLayout,
                               QWidget)

from designer.train.events import Epoch

from .. import theme
from .results_store import EpochResults, to_qimage

GRID_PAD = 2   # grey pixels between the images of a grid (designer/train/images.grid)
CAPTIONS = {"reconstructions": "Reconstructions: validation images (top) and what the VAE makes of them (bottom)",
            "samples": "Samples", "segmentation": "Image · true mask · predicted mask",
            "predictions": "Validation images"}


def split_grid(picture: np.ndarray, count: int, columns: int, pad: int = GRID_PAD) -> list[np.ndarray]:
    """The `count` images of a grid picture (designer.train.images.grid), in order."""
    rows = max(1, math.ceil(count / columns))
    h = (picture.shape[0] - pad) // rows - pad
    w = (picture.shape[1] - pad) // columns - pad
    tiles = []
    for i in range(count):
        r, c = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        tiles.append(picture[y:y + h, x:x + w])
    return tiles


def mistakes_first(predicted: list, true: list) -> list[int]:
    """Indices of the predictions, the wrong ones first, each group in its own order."""
    wrong = [i for i, (p, t) in enumerate(zip(predicted, true)) if p != t]
    right = [i for i, (p, t) in enumerate(zip(predicted, true)) if p == t]
    return wrong + right


class ConfusionMatrix(QWidget):
    """Rows: the true class; columns: the predicted one. Each cell is shaded by the
    share of its row, so a class with few images reads as clearly as a large one."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.matrix = np.zeros((0, 0), dtype=np.int64)
        self.classes: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def set_matrix(self, matrix, classes) -> None:
        self.matrix = np.asarray(matrix, dtype=np.int64)
        k = self.matrix.shape[0] if self.matrix.ndim == 2 else 0
        self.classes = [str(c) for c in (classes or [])][:k] or [str(i) for i in range(k)]
        if len(self.classes) < k:
            self.classes += [str(i) for i in range(len(self.classes), k)]
        self.updateGeometry()
        self.update()

    def _label_width(self) -> int:
        fm = self.fontMetrics()
        return max([fm.horizontalAdvance(c) for c in self.classes] + [20]) + 8

    def sizeHint(self) -> QSize:
        k = max(len(self.classes), 1)
        cell = 30 if k <= 12 else 16
        lw = self._label_width()
        return QSize(lw + k * cell + 20, lw + k * cell + 40)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, 160)

    def paintEvent(self, _event) -> None:
        t = theme.current()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        k = len(self.classes)
        if k == 0:
            p.setPen(QColor(t.muted))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No confusion matrix yet")
            return
        lw = self._label_width()
        top = 22
        size = min(self.width() - lw - 8, self.height() - lw - top) // k
        size = max(size, 6)
        left = lw
        p.setPen(QColor(t.text))
        font = QFont(self.font())
        p.setFont(font)
        p.drawText(QRect(left, 0, size * k, top - 4), Qt.AlignmentFlag.AlignCenter,
                   "predicted →   (rows: true class)")
        rows = self.matrix.sum(1, keepdims=True).clip(min=1)
        share = self.matrix / rows
        accent = QColor(t.accent)
        small = QFont(font)
        small.setPointSizeF(max(6.0, min(font.pointSizeF(), size * 0.33)))
        for i in range(k):
            for j in range(k):
                cell = QRect(left + j * size, top + i * size, size - 1, size - 1)
                colour = QColor(accent)
                colour.setAlphaF(0.06 + 0.94 * float(share[i, j]))
                if i != j and self.matrix[i, j]:
                    colour = QColor(t.error)
                    colour.setAlphaF(0.15 + 0.85 * float(share[i, j]))
                p.fillRect(cell, colour)
                if size >= 16 and self.matrix[i, j]:
                    p.setFont(small)
                    p.setPen(QColor("#FFFFFF") if share[i, j] > 0.5 else QColor(t.text))
                    p.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(int(self.matrix[i, j])))
        p.setFont(font)
        p.setPen(QColor(t.text))
        for i, name in enumerate(self.classes):
            p.drawText(QRect(0, top + i * size, lw - 6, size), Qt.AlignmentFlag.AlignRight |
                       Qt.AlignmentFlag.AlignVCenter, name)
            p.save()
            p.translate(left + i * size + size / 2, top + k * size + 4)
            p.rotate(90 if max(len(c) for c in self.classes) > 2 else 0)
            p.drawText(QRectF(-size / 2, 0, size if max(len(c) for c in self.classes) <= 2 else lw, 16),
                       Qt.AlignmentFlag.AlignHCenter if max(len(c) for c in self.classes) <= 2
                       else Qt.AlignmentFlag.AlignLeft, name)
            p.restore()


class PredictionGrid(QWidget):
    """Validation images, each with the predicted class (red when wrong, with the true
    one below), mistakes first."""
    COLUMNS = 8

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tiles: list[tuple[QPixmap, str, str, bool]] = []   # picture, predicted, true, right

    def set_predictions(self, picture: np.ndarray, predictions: dict, classes) -> None:
        predicted = list(predictions.get("predicted") or [])
        true = list(predictions.get("true") or [])
        columns = int(predictions.get("columns") or self.COLUMNS)
        names = [str(c) for c in (classes or [])]

        def name(i):
            return names[i] if 0 <= i < len(names) else str(i)
        images = split_grid(picture, len(predicted), columns)
        self.tiles = [(QPixmap.fromImage(to_qimage(images[i])), name(predicted[i]), name(true[i]),
                       predicted[i] == true[i]) for i in mistakes_first(predicted, true)]
        self.updateGeometry()
        self.update()

    @property
    def order(self) -> list[tuple[str, str]]:
        return [(pred, true) for _, pred, true, _ in self.tiles]

    def _tile(self) -> int:
        return 56

    def sizeHint(self) -> QSize:
        rows = max(1, math.ceil(len(self.tiles) / self.COLUMNS))
        return QSize(self.COLUMNS * (self._tile() + 8), rows * (self._tile() + 36))

    def paintEvent(self, _event) -> None:
        t = theme.current()
        p = QPainter(self)
        size = self._tile()
        fm = self.fontMetrics()
        for i, (pix, pred, true, right) in enumerate(self.tiles):
            r, c = divmod(i, self.COLUMNS)
            x, y = c * (size + 8), r * (size + 36)
            p.drawPixmap(QRect(x, y, size, size), pix)
            p.setPen(QColor(t.ok if right else t.error))
            p.drawRect(QRect(x, y, size - 1, size - 1))
            p.drawText(QRect(x, y + size + 1, size, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                       fm.elidedText(pred, Qt.TextElideMode.ElideRight, size))
            if not right:
                p.setPen(QColor(t.muted))
                p.drawText(QRect(x, y + size + 1 + fm.height(), size, fm.height()), Qt.AlignmentFlag.AlignHCenter,
                           fm.elidedText(f"true {true}", Qt.TextElideMode.ElideRight, size))


class Picture(QLabel):
    """One picture fitted into the room it is given: by whole factors while they fit (crisp
    pixels), smoothly in between; never below its own size."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.array: np.ndarray | None = None
        self._base: QPixmap | None = None
        self._room = QSize(600, 400)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    def set_array(self, picture: np.ndarray) -> None:
        self.array = picture
        self._base = QPixmap.fromImage(to_qimage(picture))
        self._scale()

    def fit_into(self, room: QSize) -> None:
        if room != self._room:
            self._room = room
            self._scale()

    def _scale(self) -> None:
        if self._base is None:
            return
        w, h = self._base.width(), self._base.height()
        factor = max(1.0, min(self._room.width() / max(w, 1), self._room.height() / max(h, 1)))
        whole = math.floor(factor)
        if whole >= 2 or factor < 1.05:
            factor, mode = float(whole), Qt.TransformationMode.FastTransformation
        else:
            mode = Qt.TransformationMode.SmoothTransformation
        self.setPixmap(self._base if factor == 1 else
                       self._base.scaled(round(w * factor), round(h * factor), Qt.AspectRatioMode.KeepAspectRatio,
                                         mode))


class ResultsView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.epochs: list[EpochResults] = []
        self.classes: list[str] = []
        self._stale = False
        self._shown: list[str] = []         # the pictures on view now, by name
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._show_index)
        self.slider.setToolTip("Go through the epochs")
        self.epoch_label = QLabel("No results yet: they appear after each epoch.")
        top = QHBoxLayout()
        top.addWidget(self.epoch_label)
        top.addWidget(self.slider, 1)

        self.confusion = ConfusionMatrix()
        self.confusion_title = QLabel("<b>Confusion matrix</b> (validation)")
        self.predictions = PredictionGrid()
        self.predictions_title = QLabel("<b>Predictions</b>, mistakes first")
        self.pictures: dict[str, tuple[QLabel, Picture]] = {}

        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.grid.setHorizontalSpacing(24)
        self.grid.addWidget(self.confusion_title, 0, 0)
        self.grid.addWidget(self.confusion, 1, 0, 3, 1, Qt.AlignmentFlag.AlignTop)
        self.grid.addWidget(self.predictions_title, 0, 1)
        self.grid.addWidget(self.predictions, 1, 1, 3, 1, Qt.AlignmentFlag.AlignTop)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 4, 4)
        column.addLayout(top)
        column.addWidget(scroll, 1)
        self.clear()

    # ---- filling ---------------------------------------------------------------------------------
    def clear(self) -> None:
        self.epochs = []
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.epoch_label.setText("No results yet: they appear after each epoch.")
        for widget in (self.confusion, self.confusion_title, self.predictions, self.predictions_title):
            widget.hide()
        for title, picture in self.pictures.values():
            title.hide()
            picture.hide()

    def set_classes(self, classes) -> None:
        self.classes = [str(c) for c in (classes or [])]

    def add_epoch(self, event: Epoch) -> None:
        """An Epoch event of the run going on; the view follows it unless the person moved
        the slider back to look at an earlier epoch."""
        follow = not self.epochs or self.slider.value() == len(self.epochs) - 1
        self.epochs.append(EpochResults.from_event(event, self.classes))
        self._update_slider(follow)

    def load(self, epochs: list[EpochResults]) -> None:
        """The saved results of an earlier run."""
        self.clear()
        self.epochs = list(epochs)
        if self.epochs and self.epochs[-1].classes:
            self.classes = list(self.epochs[-1].classes)
        self._update_slider(True)

    def _update_slider(self, follow: bool) -> None:
        n = len(self.epochs)
        if not n:
            return
        self.slider.blockSignals(True)
        self.slider.setRange(0, n - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(n > 1)
        if follow:
            self.slider.blockSignals(True)
            self.slider.setValue(n - 1)
            self.slider.blockSignals(False)
            self._show_current()

    def _show_current(self) -> None:
        """Drawn now when on screen, else when next shown (a hidden tab costs nothing)."""
        if self.isVisible():
            self._stale = False
            self._show_index(self.slider.value())
        else:
            self._stale = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._show_current()

    # ---- showing ---------------------------------------------------------------------------------
    def current(self) -> EpochResults | None:
        i = self.slider.value()
        return self.epochs[i] if 0 <= i < len(self.epochs) else None

    def _show_index(self, index: int) -> None:
        if not (0 <= index < len(self.epochs)):
            return
        r = self.epochs[index]
        classes = r.classes or self.classes
        self.epoch_label.setText(f"Epoch {r.epoch} ({index + 1} of {len(self.epochs)})")
        has_confusion = r.confusion is not None and len(r.confusion) > 0
        self.confusion.setVisible(has_confusion)
        self.confusion_title.setVisible(has_confusion)
        if has_confusion:
            names = classes if len(classes) == len(r.confusion) else \
                (["background"] + list(classes) if len(classes) + 1 == len(r.confusion) else
                 ["background", "foreground"] if len(r.confusion) == 2 else [])
            self.confusion.set_matrix(r.confusion, names)
        preds = r.predictions is not None and "predictions" in r.images
        self.predictions.setVisible(preds)
        self.predictions_title.setVisible(preds)
        if preds:
            self.predictions.set_predictions(r.images["predictions"], r.predictions, classes)
        shown = [n for n in r.images if not (preds and n == "predictions")]
        for name, (title, picture) in self.pictures.items():
            if name not in shown:
                title.hide()
                picture.hide()
        # beside the confusion matrix and the predictions, or alone; several pictures stack
        column = 2 if (has_confusion or preds) else 0
        for row, name in enumerate(shown):
            title, picture = self._picture(name, 2 * row, column)
            title.setText(f"<b>{CAPTIONS.get(name, name.replace('_', ' ').capitalize())}</b>"
                          + (" from the same noise each epoch" if name == "samples" and "reconstructions"
                             not in r.images else ""))
            picture.set_array(r.images[name])
            title.show()
            picture.show()
        self._shown = shown
        self._fit_pictures()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_pictures()

    def _fit_pictures(self) -> None:
        """Each picture gets the room left of the view: its width beside the other parts,
        an equal share of the height when several stack."""
        shown = self._shown
        if not shown:
            return
        view = self.scroll.viewport().size()
        used = sum(w.sizeHint().width() + 24 for w in (self.confusion, self.predictions) if w.isVisibleTo(self))
        width = max(120, view.width() - used - 24)
        height = max(80, (view.height() - 10) // len(shown) - 34)
        for name in shown:
            self.pictures[name][1].fit_into(QSize(width, height))

    def _picture(self, name: str, row: int, column: int) -> tuple[QLabel, Picture]:
        if name not in self.pictures:
            title = QLabel()
            title.setWordWrap(True)
            title.setMaximumWidth(520)
            picture = Picture()
            self.pictures[name] = (title, picture)
        title, picture = self.pictures[name]
        self.grid.addWidget(title, row, column)      # (re)placed: where depends on the task
        self.grid.addWidget(picture, row + 1, column)
        return title, picture
