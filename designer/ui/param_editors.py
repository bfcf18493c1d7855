"""Typed editor widgets for block parameters, generated from their declaration.

A `ParamField` wraps the Qt widget that suits a `Param` (spin box, check box,
combo box or text field) together with a message line beneath it. It checks
every committed value with `Param.coerce` and emits `value_committed` only for a
value the declaration accepts; anything else is refused at the field (red
border, the reason underneath) and never reaches the model.

Commits happen when the person is done with a value, not on every keystroke:
Enter or leaving the field for typed text, each click for spin arrows, check
boxes and combo boxes. One commit becomes one undo step upstream.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPalette, QValidator
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QCompleter, QDoubleSpinBox, QLabel, QLineEdit,
                               QSpinBox, QVBoxLayout, QWidget)

from designer.graph.errors import ParamError
from designer.graph.params import MAX_INT, Param
from designer.ui.theme import DARK, LIGHT, Theme

# Spin boxes accept any typed number so that an out-of-range value can be refused
# with its reason; the declared range still bounds the arrows.
_WIDE_INT = (1 << 31) - 1
_WIDE_FLOAT = 1e15
_FLOAT_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_FLOAT_PREFIX = re.compile(r"^[+-]?(\d*\.?\d*)([eE][+-]?\d*)?$")
_SEPARATORS = re.compile(r"[\s,;]+")
_TIMES = re.compile(r"(?<=\d)\s*[×xX*]\s*(?=[-+]?\d)")  # 5×3 and 5x3 read as 5, 3


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def theme_for(palette: QPalette) -> Theme:
    """The window theme matching a widget's actual background, light or dark."""
    return DARK if is_dark(palette) else LIGHT


def error_colour(palette: QPalette) -> str:
    """The theme's red, picked for the background it will be read on."""
    return theme_for(palette).error


def warning_colour(palette: QPalette) -> str:
    return theme_for(palette).warning


# ---- text forms of the tuple-like kinds -----------------------------------------------------------

def format_value(param: Param, value) -> str:
    """How a value reads in a text field: 5, `5, 3`, `1, 32, 32`, same."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


_EXAMPLES = {
    "pair": "a number or two numbers like 5, 3",
    "padding": "a number, two numbers like 2, 1, or same",
    "pad4": "a number, two numbers (h, w) or four (left, right, top, bottom)",
    "shape": "1 to 4 sizes like 1, 32, 32",
}


def parse_text(param: Param, text: str):
    """The value a typed text stands for; ParamError when it cannot be one.
    Range checks are left to Param.coerce."""
    if param.kind == "str":
        return text
    raw = text.strip()
    if param.kind == "padding" and raw.lower() == "same":
        return "same"
    parts = [p for p in _SEPARATORS.split(_TIMES.sub(",", raw.strip("()[] "))) if p]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ParamError(f"{param.title}: write {_EXAMPLES[param.kind]}") from None
    counts = {"pair": (1, 2), "padding": (1, 2), "pad4": (1, 2, 4), "shape": (1, 2, 3, 4)}[param.kind]
    if len(numbers) not in counts:
        raise ParamError(f"{param.title}: write {_EXAMPLES[param.kind]}")
    if param.kind == "shape":
        return tuple(numbers)
    return numbers[0] if len(numbers) == 1 else tuple(numbers)


def range_text(param: Param) -> str:
    lo = param.min
    hi = param.max if param.max is not None else (MAX_INT if param.kind in ("int", "pair") else None)
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"at least {lo:g}"
    if lo is None:
        return f"at most {hi:g}"
    return f"{lo:g} to {hi:g}"


# ---- the Qt widgets -----------------------------------------------------------------------------

class _CompactSpinMixin:
    """Spin boxes sized for their values rather than their (wide) range, deaf to the
    wheel unless focused, so that scrolling the inspector never edits a value, and
    stepping only within the declared range [_lo, _hi]."""

    def _compact(self, hint: QSize) -> QSize:
        width = self.fontMetrics().horizontalAdvance("0" * 9) + 36
        return QSize(min(hint.width(), width), hint.height())

    def sizeHint(self):
        return self._compact(super().sizeHint())

    def minimumSizeHint(self):
        return self._compact(super().minimumSizeHint())

    def wheelEvent(self, event):
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()

    def stepEnabled(self):
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() > self._lo:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self.value() < self._hi:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags


class IntSpinBox(_CompactSpinMixin, QSpinBox):
    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self._lo = int(param.min) if param.min is not None else -_WIDE_INT
        self._hi = int(param.max) if param.max is not None else MAX_INT
        self.setRange(-_WIDE_INT, _WIDE_INT)
        self.setKeyboardTracking(False)  # valueChanged on Enter, focus-out and arrows only
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def stepBy(self, steps: int):
        self.setValue(max(self._lo, min(self._hi, self.value() + steps * self.singleStep())))


class FloatSpinBox(_CompactSpinMixin, QDoubleSpinBox):
    """Shows 0.5, 1e-05, 0.0001 as written, not padded to a fixed number of decimals."""

    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self._lo = param.min if param.min is not None else -_WIDE_FLOAT
        self._hi = param.max if param.max is not None else _WIDE_FLOAT
        self.setDecimals(12)
        self.setRange(-_WIDE_FLOAT, _WIDE_FLOAT)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.setKeyboardTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        if _FLOAT_TEXT.match(text.strip()):
            return QValidator.State.Acceptable, text, pos
        if _FLOAT_PREFIX.match(text.strip()):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int):
        # let Qt pick the adaptive step, then clamp before anyone hears of the value
        before = self.value()
        self.blockSignals(True)
        super().stepBy(steps)
        after = max(self._lo, min(self._hi, self.value()))
        self.setValue(before)
        self.blockSignals(False)
        self.setValue(after)


# ---- bindings: one per kind, joining a widget to the field --------------------------------------

class _Binding:
    """Shows a value in its widget without emitting, and reports the person's commits."""

    def __init__(self, field: "ParamField"):
        self.field = field
        self.widget = self._make()

    def _make(self) -> QWidget:
        raise NotImplementedError

    def show(self, value):
        raise NotImplementedError

    def drive(self, value):
        """Put `value` in the widget and commit it, as a person typing it would."""
        raise NotImplementedError

    def pending(self):
        """(True, value) when the widget holds a typed value not yet committed."""
        return False, None


class _IntBinding(_Binding):
    _spin_box = IntSpinBox
    _number = staticmethod(int)

    def _make(self):
        w = self._spin_box(self.field.param)
        w.valueChanged.connect(lambda v: self.field.commit(v))
        return w

    def show(self, value):
        self.widget.setValue(self._number(value))

    def pending(self):
        # without keyboard tracking the typed text is ahead of value() until Enter
        text = self.widget.cleanText()
        if text == self.widget.textFromValue(self.widget.value()):
            return False, None
        try:
            return True, self._number(text)
        except ValueError:
            return False, None

    def drive(self, value):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _WIDE_INT:
            self.widget.setValue(value)
        else:
            self.field.commit(value)


class _FloatBinding(_IntBinding):
    _spin_box = FloatSpinBox
    _number = staticmethod(float)

    def drive(self, value):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < _WIDE_FLOAT:
            self.widget.setValue(float(value))
        else:
            self.field.commit(value)


class _BoolBinding(_Binding):
    def _make(self):
        w = QCheckBox(self.field.param.title)
        w.toggled.connect(lambda v: self.field.commit(bool(v)))
        return w

    def show(self, value):
        self.widget.setChecked(bool(value))

    def drive(self, value):
        if isinstance(value, bool):
            self.widget.setChecked(value)
        else:
            self.field.commit(value)


class _EnumBinding(_Binding):
    def _make(self):
        w = QComboBox()
        for choice in self.field.param.choices:
            w.addItem(str(choice), choice)
        w.activated.connect(lambda i: self.field.commit(w.itemData(i)))
        return w

    def show(self, value):
        i = self.widget.findData(value)
        self.widget.setCurrentIndex(i if i >= 0 else 0)

    def drive(self, value):
        i = self.widget.findData(value)
        if i < 0:
            self.field.commit(value)
            return
        self.widget.setCurrentIndex(i)
        self.widget.activated.emit(i)


class _TextBinding(_Binding):
    """pair, padding, pad4, shape and str: typed text, committed on Enter or focus-out."""

    def _make(self):
        w = QLineEdit()
        w.setMaxLength(200)
        p = self.field.param
        if p.kind in _EXAMPLES:
            w.setPlaceholderText(_EXAMPLES[p.kind])
        if p.kind == "padding":
            completer = QCompleter(["same"], w)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            w.setCompleter(completer)
        w.editingFinished.connect(self._finished)
        self._shown = ""
        return w

    def _finished(self):
        text = self.widget.text()
        if text == self._shown and not self.field.has_error():
            return  # Enter then focus-out: one commit, not two
        self.field.commit_text(text)

    def show(self, value):
        self._shown = format_value(self.field.param, value)
        self.widget.setText(self._shown)
        self.widget.setCursorPosition(0)

    def drive(self, value):
        self.widget.setText(value if isinstance(value, str) else format_value(self.field.param, value))
        self.widget.editingFinished.emit()

    def pending(self):
        text = self.widget.text()
        if text == self._shown:
            return False, None
        try:
            return True, parse_text(self.field.param, text)
        except ParamError:
            return False, None


def _text_field_height() -> int:
    probe = QLineEdit()
    height = probe.sizeHint().height()
    probe.deleteLater()
    return height


_BINDINGS = {"int": _IntBinding, "float": _FloatBinding, "bool": _BoolBinding, "enum": _EnumBinding,
             "pair": _TextBinding, "padding": _TextBinding, "pad4": _TextBinding, "shape": _TextBinding,
             "str": _TextBinding}


class ParamField(QWidget):
    """One parameter's editor and the message line beneath it."""

    value_committed = Signal(str, object)  # parameter name, value already checked by Param.coerce

    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self.param = param
        self._error = ""
        self._current = None
        self._quiet = False
        self._binding = _BINDINGS[param.kind](self)
        self.widget = self._binding.widget
        tip = param.help
        if range_text(param) and param.kind in ("int", "float", "pair", "padding", "pad4"):
            tip += f" ({range_text(param)})"
        self.widget.setToolTip(tip)
        self.widget.setObjectName(f"param_{param.name}")
        if isinstance(self.widget, (QAbstractSpinBox, QComboBox)):
            # the same height as the text fields beside it, whatever the style pads those with
            self.widget.setMinimumHeight(_text_field_height())
        self._message = QLabel()
        self._message.setWordWrap(True)
        self._message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.widget)
        layout.addWidget(self._message)

    # ---- shown value --------------------------------------------------------------------------
    def show_value(self, value):
        """Display the model's value; never emits, clears any refusal."""
        self._current = value
        self._quiet = True
        self.widget.blockSignals(True)
        try:
            self._binding.show(value)
        finally:
            self.widget.blockSignals(False)
            self._quiet = False
        self.clear_error()

    def drive(self, value):
        self._binding.drive(value)

    def pending(self):
        return self._binding.pending()

    # ---- commits ------------------------------------------------------------------------------
    def commit_text(self, text: str):
        try:
            raw = parse_text(self.param, text)
        except ParamError as exc:
            self.show_error(str(exc))
            return
        self.commit(raw)

    def commit(self, raw):
        if self._quiet:
            return
        try:
            value = self.param.coerce(raw)
        except ParamError as exc:
            self.show_error(str(exc))
            return
        self.clear_error()
        if value == self._current:
            return
        self.value_committed.emit(self.param.name, value)

    # ---- refusals -----------------------------------------------------------------------------
    def has_error(self) -> bool:
        return bool(self._error)

    def error(self) -> str:
        return self._error

    def show_error(self, message: str):
        self._error = message
        red = error_colour(self.palette())
        self._message.setText(message)
        self._message.setStyleSheet(f"color: {red};")
        self._message.show()
        # the border marks the field itself; the selector keeps it off the children
        name = self.widget.objectName()
        self.widget.setStyleSheet(f"#{name} {{ border: 1px solid {red}; border-radius: 3px; }}")

    def clear_error(self):
        if not self._error:
            return
        self._error = ""
        self._message.hide()
        self._message.clear()
        self.widget.setStyleSheet("")
