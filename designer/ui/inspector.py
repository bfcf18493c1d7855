"""The inspector: everything about the selected block, and the place to change it.

It shows the block's type and doc, its label, typed editors generated from the
block declaration, the values inferred from the incoming shape (`in_channels =
6 (from C1)`), its input and output shapes, its parameter and output-size
formulas as the lecture writes them, a trainable switch, and its errors.

It is a view of the DocumentController: it refreshes on analysis_changed,
selection_changed and graph_replaced without emitting edits, and changes the
document only through `controller.edit(...)`, one undo step per committed value.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QFrame, QLabel, QLineEdit, QPushButton, QScrollArea,
                               QSizePolicy, QVBoxLayout, QWidget)

from designer.graph.errors import GraphError
from designer.graph.format import count, shape as fmt_shape
from designer.graph.model import SetField, SetParam
from designer.graph.presets import PRETRAINED_CHOICE, torchvision_model
from designer.ui.observing import Connections, ObservingPanel
from designer.ui.training import PRETRAINED_ACTION
from designer.ui.param_editors import ParamField, error_colour, warning_colour

MAX_LABEL = 200


def _origin(graph, analysis, node_id: str, value) -> str | None:
    """The title of the block an inferred size comes from: walk upstream through
    blocks that pass the leading size (channels, features) through unchanged, so
    that LeNet-5's C3 reads `in_channels = 6 (from C1)` rather than `(from S2)`."""
    edges = graph.edges_into(node_id)
    if not edges:
        return None
    src = edges[0].src
    seen = {node_id}
    while src not in seen:
        seen.add(src)
        info = analysis.nodes.get(src)
        incoming = graph.edges_into(src)
        if info is None or len(incoming) != 1:
            break
        before = info.in_shapes.get(incoming[0].dst_port)
        after = info.output_shape
        if not before or not after or len(before) != len(after) or before[0] != after[0] or after[0] != value:
            break
        src = incoming[0].src
    return graph.nodes[src].title if src in graph.nodes else None


def _ports_text(shapes: dict) -> str:
    if not shapes:
        return ""
    if len(shapes) == 1:
        return fmt_shape(next(iter(shapes.values())))
    return ", ".join(f"{port} {fmt_shape(s)}" for port, s in shapes.items())


class _Section(QLabel):
    """A small heading between groups of rows."""

    def __init__(self, text: str, parent=None):
        super().__init__(text.upper(), parent)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        font.setWeight(QFont.Weight.DemiBold)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
        self.setFont(font)
        self.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.setContentsMargins(0, 8, 0, 0)


def _wrapping_label(selectable: bool = False) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class InspectorPanel(ObservingPanel, QWidget):
    """Settings, shapes and formulas of the selected block(s)."""

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self._ids: list[str] = []
        self._form_key = None
        self._fields: dict[str, ParamField] = {}
        self._updating = False
        self._label_shown = ""
        self._problem_lines: list[str] = []
        self._formula_lines: list[str] = []
        self._build()
        self._connections = Connections()
        self.attach()

    # ---- layout -------------------------------------------------------------------------------
    def _build(self):
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(4)

        self._title = QLabel()
        font = self._title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setWeight(QFont.Weight.DemiBold)
        self._title.setFont(font)
        self._title.setWordWrap(True)
        self._subtitle = _wrapping_label(selectable=True)
        self._subtitle.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self._doc = _wrapping_label()
        lay.addWidget(self._title)
        lay.addWidget(self._subtitle)
        lay.addWidget(self._doc)
        # a network that is torchvision's: start it from torchvision's ImageNet weights
        # short, so the inspector keeps its width (the whole name is in the tooltip and the menu)
        self._pretrained = QPushButton("Load ImageNet Weights")
        self._pretrained.setToolTip(f"{PRETRAINED_CHOICE}: the weights torchvision trained on ImageNet, from "
                                    "torch hub's cache (downloaded there the first time); the Train panel's "
                                    "Fine-tune tab reports which layers they fill")
        self._pretrained.clicked.connect(self._load_pretrained)
        self._pretrained.setVisible(False)
        lay.addWidget(self._pretrained, 0, Qt.AlignmentFlag.AlignLeft)

        self._block_head = _Section("Block")
        self._label_edit = QLineEdit()
        self._label_edit.setMaxLength(MAX_LABEL)
        self._label_edit.setPlaceholderText("a name shown on the canvas")
        self._label_edit.setToolTip("The name shown on the canvas and in the summary; empty shows the id.")
        self._label_edit.editingFinished.connect(self._commit_label)
        self._trainable = QCheckBox("trainable")
        self._trainable.setToolTip("Off freezes this block's weights: training leaves them as they are "
                                   "(fine-tuning keeps early layers frozen).")
        self._trainable.toggled.connect(self._commit_trainable)
        block_form = QFormLayout()
        self._tune_form(block_form)
        self._label_caption = QLabel("Label")
        block_form.addRow(self._label_caption, self._label_edit)
        block_form.addRow("", self._trainable)
        self._block_box = QWidget()
        self._block_box.setLayout(block_form)
        block_form.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._block_head)
        lay.addWidget(self._block_box)

        self._params_head = _Section("Parameters")
        self._params_box = QWidget()
        self._params_form = QFormLayout(self._params_box)
        self._params_form.setContentsMargins(0, 0, 0, 0)
        self._tune_form(self._params_form)
        lay.addWidget(self._params_head)
        lay.addWidget(self._params_box)

        self._inferred_head = _Section("Inferred from the input")
        self._inferred = _wrapping_label(selectable=True)
        lay.addWidget(self._inferred_head)
        lay.addWidget(self._inferred)

        self._shapes_head = _Section("Shapes")
        self._shapes = _wrapping_label(selectable=True)
        lay.addWidget(self._shapes_head)
        lay.addWidget(self._shapes)

        self._formula_head = _Section("Formulas")
        self._formulas = _wrapping_label(selectable=True)
        self._formulas.setTextFormat(Qt.TextFormat.RichText)
        font = self._formulas.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self._formulas.setFont(font)
        self._counts = _wrapping_label(selectable=True)
        self._counts.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        lay.addWidget(self._formula_head)
        lay.addWidget(self._formulas)
        lay.addWidget(self._counts)

        self._problems_head = _Section("Problems")
        self._problems = _wrapping_label(selectable=True)
        self._problems.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self._problems_head)
        lay.addWidget(self._problems)
        lay.addStretch(1)

    @staticmethod
    def _tune_form(form: QFormLayout):
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(4)

    # ---- public API ---------------------------------------------------------------------------
    def editor(self, param_name: str) -> QWidget:
        """The real Qt widget editing `param_name` (also "label" and "trainable")."""
        if param_name in self._fields:
            return self._fields[param_name].widget
        if param_name == "label":
            return self._label_edit
        if param_name == "trainable":
            return self._trainable
        raise KeyError(f"the inspector shows no editor for {param_name!r}")

    def set_value(self, param_name: str, value):
        """Drive the real widget with `value` and commit it, as a person would."""
        if param_name in self._fields:
            self._fields[param_name].drive(value)
        elif param_name == "label":
            self._label_edit.setText(str(value))
            self._label_edit.editingFinished.emit()
        elif param_name == "trainable":
            self._trainable.setChecked(bool(value))
        else:
            raise KeyError(f"the inspector shows no editor for {param_name!r}")

    def field_error(self, param_name: str) -> str:
        """The refusal shown under a field, or ''."""
        field = self._fields.get(param_name)
        return field.error() if field else ""

    def formula_text(self) -> str:
        """The parameter formula and the output-size formula, one per line."""
        return "\n".join(self._formula_lines)

    def shape_text(self) -> str:
        return self._shapes.text()

    def error_text(self) -> str:
        """Every problem shown: the node's errors and warnings, and refused fields."""
        lines = list(self._problem_lines)
        lines += [f.error() for f in self._fields.values() if f.has_error()]
        return "\n".join(lines)

    # ---- observing (see ObservingPanel) ---------------------------------------------------------
    def _catch_up(self):
        self._form_key = None
        self._on_selection_changed(list(self.controller.selection))

    def _on_palette_changed(self):
        self._refresh()  # light/dark switch: the reds and greys are picked per palette

    # ---- observers ----------------------------------------------------------------------------
    def _on_graph_replaced(self, graph):
        self._ids = []
        self._form_key = None
        self._rebuild_form()
        self._refresh()

    def _on_selection_changed(self, ids):
        self._flush_pending()
        self._ids = [i for i in ids if i in self.controller.graph.nodes]
        self._rebuild_form()
        self._refresh()

    def _on_analysis_changed(self, analysis):
        self._ids = [i for i in self._ids if i in self.controller.graph.nodes]
        self._rebuild_form()
        self._refresh()

    def _flush_pending(self):
        """A value typed but not yet committed when the selection moves on belongs to the
        blocks it was typed for."""
        if self._updating or not self._ids:
            return
        for name, field in self._fields.items():
            waiting, raw = field.pending()
            if waiting:
                field.commit(raw)
        if self._label_edit.text() != self._label_shown and len(self._ids) == 1:
            self._commit_label()

    # ---- building the parameter form ----------------------------------------------------------
    def _nodes(self):
        graph = self.controller.graph
        return [graph.nodes[i] for i in self._ids if i in graph.nodes]

    def _shared_spec(self):
        nodes = self._nodes()
        if not nodes or len({n.type for n in nodes}) != 1:
            return None
        return self.controller.graph.spec(nodes[0])  # the model admits known types only

    def _rebuild_form(self):
        spec = self._shared_spec()
        key = (tuple(self._ids), spec.type if spec else None, spec.params if spec else None)
        if key == self._form_key:
            return
        self._form_key = key
        self._label_caption.setMinimumWidth(0)
        self._updating = True  # a field losing focus as it is deleted must not commit
        try:
            while self._params_form.rowCount():
                self._params_form.removeRow(0)
        finally:
            self._updating = False
        self._fields = {}
        if spec is None:
            return
        captions = [self._label_caption]
        for param in spec.params:
            field = ParamField(param)
            field.value_committed.connect(
                lambda name, value, f=field, ids=tuple(self._ids): self._commit_param(f, ids, name, value))
            self._fields[param.name] = field
            if param.kind == "bool":
                self._params_form.addRow("", field)  # the check box carries its own text
            else:
                label = QLabel(param.title)
                label.setToolTip(param.help)
                captions.append(label)
                self._params_form.addRow(label, field)
        # the two forms read as one: their captions share a width
        width = max(c.sizeHint().width() for c in captions)
        for caption in captions:
            caption.setMinimumWidth(width)

    # ---- showing the model --------------------------------------------------------------------
    def _refresh(self):
        self._updating = True
        try:
            nodes = self._nodes()
            if not nodes:
                self._show_document()
            elif len(nodes) == 1:
                self._show_node(nodes[0])
            else:
                self._show_many(nodes)
            self._pretrained.setVisible(not nodes and torchvision_model(self.controller.graph) is not None)
        finally:
            self._updating = False

    def _set_visible(self, block=False, params=False, inferred=False, shapes=False, formulas=False,
                     problems=False):
        for widgets, on in (((self._block_head, self._block_box), block),
                            ((self._params_head, self._params_box), params and bool(self._fields)),
                            ((self._inferred_head, self._inferred), inferred),
                            ((self._shapes_head, self._shapes), shapes),
                            ((self._formula_head, self._formulas, self._counts), formulas),
                            ((self._problems_head, self._problems), problems)):
            for w in widgets:
                w.setVisible(on)

    def _load_pretrained(self):
        """The window's Training ▸ Load ImageNet Weights (the Train panel loads and reports)."""
        action = getattr(self.window(), "actions", {}).get(PRETRAINED_ACTION)
        if action is not None:
            action.trigger()

    def _show_document(self):
        meta = self.controller.graph.meta
        self._title.setText(str(meta.get("title") or "Untitled network"))
        byline = ", ".join(str(meta[k]) for k in ("authors", "year") if meta.get(k))
        paper = str(meta.get("paper") or "")
        self._subtitle.setText("\n".join(t for t in (paper, byline) if t))
        description = str(meta.get("description") or "")
        hint = "Select a block on the canvas to see its settings, shapes and formulas."
        self._doc.setText(f"{description}\n\n{hint}" if description else hint)
        self._problem_lines = []
        self._formulas.clear()
        self._formula_lines = []
        self._shapes.clear()
        self._set_visible()

    def _show_node(self, node):
        graph = self.controller.graph
        spec = graph.spec(node)
        analysis = self.controller.analysis
        info = analysis.nodes.get(node.id)
        self._title.setText(node.title if node.label else (spec.title or spec.type))
        summary = ""
        try:
            summary = spec.summary(node.params)
        except (KeyError, TypeError, ValueError):
            pass  # a summary is decoration; a half-edited node may not have one yet
        parts = [spec.title or spec.type, spec.category, f"id {node.id}"]
        sharing = sum(n.type == node.type for n in graph.nodes.values()) if node.type in graph.composites else 0
        if sharing > 1:   # imported repeated blocks: editing the inside of one edits all of them
            parts.append(f"one definition shared by {sharing} blocks")
        self._subtitle.setText(" · ".join(parts) + (f"\n{summary}" if summary else ""))
        self._doc.setText(spec.doc)

        self._label_shown = node.label
        self._label_edit.setText(node.label)
        self._label_edit.setCursorPosition(0)
        self._label_edit.setEnabled(True)
        self._label_edit.setPlaceholderText(node.id)
        # hidden only where it can do nothing: a block known to have no weights
        weightless = info is not None and info.ok and not info.params and not spec.is_composite
        has_weights = not weightless or not node.trainable
        self._trainable.blockSignals(True)
        self._trainable.setChecked(node.trainable)
        self._trainable.blockSignals(False)
        self._trainable.setVisible(has_weights)

        for name, field in self._fields.items():
            field.show_value(node.params.get(name, spec.param(name).default))
            self._mark_mixed(name, False)

        inferred_lines = []
        if info:
            for key, value in info.resolved.items():
                origin = _origin(graph, analysis, node.id, value) if isinstance(value, int) else None
                inferred_lines.append(f"{key} = {value}" + (f" (from {origin})" if origin else ""))
        self._inferred.setText("\n".join(inferred_lines))

        formulas = []  # (caption, formula)
        if info and info.param_formula:
            formulas.append(("parameters", info.param_formula))
        shape_line = self._shape_line(node, info)
        self._shapes.setText(shape_line)
        if info and info.shape_formula and info.shape_formula != shape_line:  # composites: in → out, said above
            formulas.append(("output size", info.shape_formula))
        self._formula_lines = [f for _, f in formulas]
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        self._formulas.setText("<table cellspacing='0' cellpadding='1'>" + "".join(
            f"<tr><td style='color:{muted}; padding-right:8px'>{caption}</td>"
            f"<td>{html.escape(f, quote=False)}</td></tr>" for caption, f in formulas) + "</table>" if formulas else "")
        counts = ""
        if info and (info.params or info.macs):
            counts = f"{count(info.weights)} weights + {count(info.biases)} biases"
            if info.macs:
                counts += f" · {count(info.macs)} multiply-adds"
        self._counts.setText(counts)
        self._counts.setVisible(bool(counts))

        self._show_problems(info)
        self._set_visible(block=True, params=True, inferred=bool(inferred_lines), shapes=True,
                          formulas=bool(formulas), problems=bool(self._problem_lines))
        self._counts.setVisible(bool(counts) and bool(formulas))

    def _shape_line(self, node, info) -> str:
        if info is None:
            return ""
        if info.blocked:
            return "waits for an upstream block with an error"
        ins = _ports_text({p: s for p, s in info.in_shapes.items() if s is not None})
        outs = _ports_text(info.out_shapes)
        if info.errors and not outs:
            return f"{ins} → ?" if ins else "?"
        if not info.in_shapes:
            return f"→ {outs}"
        if not info.out_shapes:
            return f"{ins} →"
        return f"{ins} → {outs}"

    def _show_problems(self, info):
        lines, rich = [], []
        red, amber = error_colour(self.palette()), warning_colour(self.palette())
        if info:
            for message in info.errors:
                lines.append(message)
                rich.append(_coloured(message, red))
            for message in info.warnings:
                lines.append(message)
                rich.append(_coloured(message, amber))
        self._problem_lines = lines
        self._problems.setText("".join(rich))

    def _show_many(self, nodes):
        graph = self.controller.graph
        analysis = self.controller.analysis
        types = list(dict.fromkeys(n.type for n in nodes))
        self._title.setText(f"{len(nodes)} blocks selected")
        self._subtitle.setText(f"all {types[0]}" if len(types) == 1 else "types: " + ", ".join(types))
        total = sum(analysis.nodes[n.id].params for n in nodes if n.id in analysis.nodes)
        hint = ("A value set here applies to every selected block, as one undo step."
                if len(types) == 1 else "Select blocks of one type to edit their shared settings.")
        self._doc.setText(f"{count(total)} parameters together.\n{hint}")
        self._label_shown = ""
        self._label_edit.setText("")
        self._label_edit.setEnabled(False)
        self._label_edit.setPlaceholderText("one label per block")
        self._trainable.blockSignals(True)
        self._trainable.setChecked(all(n.trainable for n in nodes))
        self._trainable.blockSignals(False)
        self._trainable.setVisible(True)
        if len(types) == 1:
            spec = graph.spec(nodes[0])
            for name, field in self._fields.items():
                values = [n.params.get(name, spec.param(name).default) for n in nodes]
                field.show_value(values[0])
                self._mark_mixed(name, any(v != values[0] for v in values))
        self._problem_lines = []
        self._formulas.clear()
        self._formula_lines = []
        self._shapes.clear()
        self._set_visible(block=True, params=len(types) == 1)

    def _mark_mixed(self, name: str, mixed: bool):
        field = self._fields[name]
        label = self._params_form.labelForField(field)
        target = field.widget if field.param.kind == "bool" or not isinstance(label, QLabel) else label
        font = target.font()
        font.setItalic(mixed)
        target.setFont(font)
        field.setToolTip("The selected blocks differ here; a new value applies to all." if mixed else "")

    # ---- edits --------------------------------------------------------------------------------
    def _edit(self, text: str, ops, field: ParamField | None = None) -> bool:
        if not ops:
            return False
        try:
            self.controller.edit(text, ops)
        except GraphError as exc:  # the model's refusal, shown where the value was typed
            if field is not None:
                field.show_error(str(exc))
            else:
                self._problem_lines = [str(exc)]
                self._problems.setText(_coloured(str(exc), error_colour(self.palette())))
                self._problems_head.show()
                self._problems.show()
            return False
        return True

    def _what(self, nodes) -> str:
        return nodes[0].title if len(nodes) == 1 else f"{len(nodes)} blocks"

    def _commit_param(self, field: ParamField, ids: tuple, name: str, value):
        if self._updating:
            return
        # the blocks the field was made for, even if the selection has just moved on
        graph = self.controller.graph
        nodes = [graph.nodes[i] for i in ids if i in graph.nodes]
        if not nodes:
            return
        ops = [SetParam(n.id, name, value) for n in nodes if n.params.get(name) != value]
        self._edit(f"Set {field.param.title} of {self._what(nodes)}", ops, field)

    def _commit_label(self):
        if self._updating:
            return
        nodes = self._nodes()
        if len(nodes) != 1:
            return
        text = self._label_edit.text().strip()
        if text == nodes[0].label:
            return
        self._label_shown = text
        self._edit(f"Rename {nodes[0].title}", [SetField(nodes[0].id, "label", text)])

    def _commit_trainable(self, on: bool):
        if self._updating:
            return
        nodes = self._nodes()
        ops = [SetField(n.id, "trainable", bool(on)) for n in nodes if n.trainable != bool(on)]
        self._edit(f"{'Unfreeze' if on else 'Freeze'} {self._what(nodes)}", ops)


def _coloured(message: str, colour: str) -> str:
    return f'<div style="color:{colour}">{html.escape(message, quote=False)}</div>'
