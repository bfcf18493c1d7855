"""A node card: category-coloured header with the block's name, its key settings
("conv 5×5 ×6, s1"), the output shape it produces and its parameter count.

The card draws what the model and the latest analysis say and nothing else; it
is refreshed by the scene when either changes. On the editor's canvas, below
FAR_LOD the cards do not paint themselves: the scene's far layer (overview.py)
draws every card and link in a few batched calls instead. In other scenes (the
Compare dialog) a card far out paints a coloured tile with its name.

The card also paints its ports' circles (the PortItems are children without
contents, kept for hit-testing), so a card and its ports are one cached picture.
Its tooltip is written when the mouse first rests on it, not for every card on
every analysis.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from designer.graph.format import count, shape as fmt_shape, si

from .. import theme
from ..icons import paint_glyph
from ..theme import category_color
from .port_item import PortItem

NODE_WIDTH = 176.0
HEADER_HEIGHT = 24.0
BODY_HEIGHT = 50.0
PORT_ROW = 18.0
RADIUS = 8.0
DETAIL_LOD = 0.55     # full detail from this zoom on
OVERVIEW_LOD = 0.35   # below this only the tile and the name (scenes without a far layer)
FAR_LOD = 0.45        # the editor's canvas hands the drawing to its far layer below this


def _fonts():
    base = QFont()
    title = QFont(base)
    title.setPixelSize(12)
    title.setBold(True)
    small = QFont(base)
    small.setPixelSize(11)
    tiny = QFont(base)
    tiny.setPixelSize(9)
    shape = QFont(base)
    shape.setPixelSize(12)
    shape.setBold(True)
    return title, small, tiny, shape


def short_count(n: int) -> str:
    """Exact below a million (the lecture's numbers are read digit by digit), short above."""
    return count(n) if n < 1_000_000 else si(n).replace(" ", "")


class NodeItem(QGraphicsItem):
    Type = QGraphicsItem.UserType + 1
    _fonts = None

    def __init__(self, graph, node, editable: bool, info=None):
        super().__init__()
        self.graph = graph
        self.node = node
        self.info = info   # the analysis's NodeInfo, when the card is made with it (one refresh, not two)
        self.editable = editable
        self.category = "Input"
        self.is_composite = False
        self._bounds = None
        self._overview = None   # (lod, font, elided title) of the last far-out paint
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.edges: set = set()          # EdgeItems attached, kept by the scene
        self.height = HEADER_HEIGHT + BODY_HEIGHT
        self._text: dict[str, str] = {}
        self._tooltip_stale = True
        self.peek = None                 # the inside drawn under the card (set_expanded)
        self.moving_from_model = False
        flags = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | \
            QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        if editable:
            flags |= QGraphicsItem.GraphicsItemFlag.ItemIsMovable
        self.setFlags(flags)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.setPos(QPointF(*node.pos))
        self.refresh()

    def type(self) -> int:
        return self.Type

    @property
    def node_id(self) -> str:
        return self.node.id

    # ---- content --------------------------------------------------------------------------------
    def spec(self):
        try:
            return self.graph.spec(self.node)
        except Exception:  # noqa: BLE001 - an unknown type still gets a card saying so
            return None

    def refresh(self):
        """Re-read the node (params, label, ports) and the analysis into the card's texts."""
        spec = self.spec()
        self.category = spec.category if spec else "Input"
        in_ports = tuple(spec.input_ports(self.node.params)) if spec else ()
        out_ports = tuple(spec.outputs) if spec else ()
        self._sync_ports(in_ports, out_ports)
        n = max(len(in_ports), len(out_ports), 1)
        height = HEADER_HEIGHT + max(BODY_HEIGHT, 12 + n * PORT_ROW)
        composite = bool(spec and spec.is_composite)
        if height != self.height or composite != self.is_composite or self._bounds is None:
            self.prepareGeometryChange()
            self.height = height
            self.is_composite = composite
            self._update_bounds()
        self._layout_ports()
        self._set_texts(self._texts(spec))
        self.update()    # ports, frozen hatching: more than the texts
        self._changed()

    def set_info(self, info):
        self.info = info
        self._set_texts(self._texts(self.spec()))
        if self.peek is not None and not self.peek.redraw():
            self.set_expanded(False)   # its inside cannot be generated now (an input came off)

    # ---- a composite expanded in place (inside_peek.py) ------------------------------------------
    def expandable(self) -> bool:
        """A composite block on the editor's canvas (which can say what is inside it)."""
        return self.is_composite and hasattr(self.scene(), "far_layer")

    def fold_rect(self) -> QRectF:
        rect = self.card_rect()
        return QRectF(rect.left() + 2, rect.top(), 24, HEADER_HEIGHT)

    def set_expanded(self, expanded: bool) -> bool:
        """Show (or fold) this composite's inside under its card; False when it has none yet."""
        if expanded == (self.peek is not None):
            return True
        if expanded:
            from .inside_peek import InsidePeek
            peek = InsidePeek(self)
            if peek.boundingRect().isEmpty():
                peek.setParentItem(None)
                if peek.scene() is not None:
                    peek.scene().removeItem(peek)
                return False
            self.peek = peek
            self.setZValue(3)   # over the cards next to it
        else:
            peek, self.peek = self.peek, None
            peek.setParentItem(None)
            if peek.scene() is not None:
                peek.scene().removeItem(peek)
            self.setZValue(1)
        self.update()
        return True

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton and self.expandable() and \
                self.fold_rect().contains(event.pos()):
            if not self.set_expanded(self.peek is None):
                for view in (self.scene().views() if self.scene() else ()):
                    if hasattr(view, "controller"):
                        view.controller.message.emit("Connect this block's inputs to see inside it.")
            event.accept()
            return
        super().mousePressEvent(event)

    def _set_texts(self, texts: dict[str, str]):
        self._tooltip_stale = True
        if texts != self._text:   # an unchanged card is not drawn again
            self._text = texts
            self.update()
            self._changed()

    def _changed(self):
        """Tell the scene (when it keeps a far layer) that this card looks different."""
        scene = self.scene()
        if scene is not None and hasattr(scene, "card_changed"):
            scene.card_changed(self)

    def toolTip(self) -> str:
        if self._tooltip_stale:
            self._tooltip_stale = False
            self.setToolTip(self._tooltip(self.spec()))
        return super().toolTip()

    def hoverEnterEvent(self, event):
        self.toolTip()   # written now, before the scene asks for it
        super().hoverEnterEvent(event)

    def _texts(self, spec) -> dict[str, str]:
        node, info = self.node, self.info
        try:
            summary = spec.summary(node.params) if spec else ""
        except Exception:  # noqa: BLE001 - a summary must never break drawing
            summary = ""
        if node.params.get("repeat", 1) > 1 and f"×{node.params['repeat']}" not in summary:
            summary += f" ×{node.params['repeat']}"
        kind = spec.title or spec.type if spec else node.type
        texts = {"title": node.title, "kind": kind if kind != node.title else "", "summary": summary,
                 "shape": "", "params": "", "error": ""}
        if info is not None:
            out = info.output_shape
            texts["shape"] = fmt_shape(out) if out is not None else ""
            if texts["summary"] == texts["shape"]:
                texts["summary"] = f"argument {node.params['name']}" if node.type == "Input" else ""
            texts["params"] = short_count(info.params) if info.params else ""
            if info.errors:
                texts["error"] = info.errors[0]
            elif info.blocked:
                texts["shape"] = "waits for its input"
        elif spec is None:
            texts["error"] = f"unknown block type {node.type}"
        return texts

    def _tooltip(self, spec) -> str:
        node, info = self.node, self.info
        lines = [f"<b>{html.escape(node.title)}</b> &nbsp;<span style='color:gray'>{html.escape(node.type)}</span>"]
        if spec is not None and spec.doc:
            lines.append(f"<i>{html.escape(spec.doc)}</i>")
        if info is not None:
            for port, s in info.in_shapes.items():
                lines.append(f"in {html.escape(port)}: {fmt_shape(s)}")
            for port, s in info.out_shapes.items():
                lines.append(f"out {html.escape(port)}: <b>{fmt_shape(s)}</b>")
            if info.shape_formula:
                lines.append(f"size: {html.escape(info.shape_formula)}")
            if info.param_formula:
                lines.append(f"parameters: {html.escape(info.param_formula)}")
            for e in info.errors:
                lines.append(f"<span style='color:#DC2626'>✖ {html.escape(e)}</span>")
            for w in info.warnings:
                lines.append(f"<span style='color:#D97706'>⚠ {html.escape(w)}</span>")
            if info.blocked:
                lines.append("waits on an error upstream")
        if not node.trainable:
            lines.append("frozen: its weights are not trained")
        if self.is_composite:
            lines.append("<span style='color:gray'>double-click to look inside</span>")
        return "<br>".join(lines)

    # ---- ports ----------------------------------------------------------------------------------
    def _sync_ports(self, in_ports, out_ports):
        for names, ports, is_output in ((in_ports, self.inputs, False), (out_ports, self.outputs, True)):
            for name in [p for p in ports if p not in names]:
                item = ports.pop(name)
                item.setParentItem(None)
                if item.scene():
                    item.scene().removeItem(item)
            for name in names:
                if name not in ports:
                    ports[name] = PortItem(self, name, is_output)
            ordered = {name: ports[name] for name in names}
            ports.clear()
            ports.update(ordered)

    def _layout_ports(self):
        body_top = HEADER_HEIGHT - self.height / 2
        body_h = self.height - HEADER_HEIGHT
        for ports, x in ((self.inputs, -NODE_WIDTH / 2), (self.outputs, NODE_WIDTH / 2)):
            n = len(ports)
            for i, item in enumerate(ports.values()):
                if n == 1:
                    y = 0.0 if self.height <= HEADER_HEIGHT + BODY_HEIGHT else body_top + body_h / 2
                else:
                    y = body_top + 6 + (i + 0.5) * (body_h - 12) / n
                item.setPos(x, y)

    def port(self, name: str, output: bool) -> PortItem | None:
        return (self.outputs if output else self.inputs).get(name)

    def set_connected(self, name: str, output: bool, connected: bool):
        item = self.port(name, output)
        if item is not None and item.connected != connected:
            item.connected = connected
            item.update()

    # ---- geometry -------------------------------------------------------------------------------
    def card_rect(self) -> QRectF:
        return QRectF(-NODE_WIDTH / 2, -self.height / 2, NODE_WIDTH, self.height)

    def _update_bounds(self):
        # asked for thousands of times per frame on a big graph: computed once per change
        extra = 10.0 if self.is_composite else 0.0
        self._bounds = self.card_rect().adjusted(-8, -6 - extra, 8 + extra, 6)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.card_rect(), RADIUS, RADIUS)
        return path

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.adjust()
            scene = self.scene()
            if scene is not None and hasattr(scene, "card_moved"):
                scene.card_moved(self)
        elif change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._changed()
        return super().itemChange(change, value)

    # ---- painting -------------------------------------------------------------------------------
    def paint(self, painter, option: QStyleOptionGraphicsItem, widget=None):
        if NodeItem._fonts is None:
            NodeItem._fonts = _fonts()
        title_font, small_font, tiny_font, shape_font = NodeItem._fonts
        t = theme.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        rect = self.card_rect()
        colour = category_color(self.category)
        error = bool(self._text.get("error"))
        selected = self.isSelected()
        painter.setRenderHint(painter.RenderHint.Antialiasing)

        if self.is_composite:   # a stack of cards: this block holds more inside
            painter.setPen(QPen(t.color("card_border"), 1))
            painter.setBrush(t.color("card"))
            for k in (2, 1):
                painter.drawRoundedRect(rect.translated(5 * k, -5 * k), RADIUS, RADIUS)

        if lod < OVERVIEW_LOD:
            self._paint_overview(painter, rect, colour, error, selected, lod, title_font)
            return
        self._paint_card(painter, t, lod, rect, colour, error, selected, title_font, small_font, tiny_font,
                         shape_font)
        if lod >= 0.3:
            for port in (*self.inputs.values(), *self.outputs.values()):
                painter.save()
                painter.translate(port.pos())
                port.paint_circle(painter)
                painter.restore()

    def _paint_card(self, painter, t, lod, rect, colour, error, selected, title_font, small_font, tiny_font,
                    shape_font):

        # card body and header
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(t.color("error_tint") if error else t.color("card"))
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        header = QPainterPath()
        header.addRoundedRect(QRectF(rect.left(), rect.top(), rect.width(), HEADER_HEIGHT + RADIUS), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(rect.left(), rect.top(), rect.width(), HEADER_HEIGHT))
        painter.setBrush(t.color("error") if error else colour)
        painter.drawPath(header.intersected(clip))
        body = QRectF(rect.left(), rect.top() + HEADER_HEIGHT, rect.width(), rect.height() - HEADER_HEIGHT)
        if not self.node.trainable:   # frozen: hatched body
            painter.setBrush(QBrush(t.color("hatch", 0.55), Qt.BrushStyle.BDiagPattern))
            body_path = QPainterPath()
            body_path.addRoundedRect(rect, RADIUS, RADIUS)
            cut = QPainterPath()
            cut.addRect(body)
            painter.drawPath(body_path.intersected(cut))
        # outline
        border = t.color("error") if error else t.color("card_border")
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(border, 1.6 if error else 1.0))
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        if selected:
            painter.setPen(QPen(t.color("accent"), 2.5))
            painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), RADIUS + 3, RADIUS + 3)

        # header: glyph, title, block type
        glyph = QRectF(rect.left() + 7, rect.top() + 5, 14, 14)
        if self.expandable():   # where the composite's icon goes: ▸ expands its inside in place, ▾ folds it
            painter.setFont(title_font)
            painter.setPen(QColor("#FFFFFF"))
            painter.drawText(self.fold_rect(), Qt.AlignmentFlag.AlignCenter, "▾" if self.peek is not None else "▸")
        else:
            paint_glyph(painter, glyph, self.category, QColor("#FFFFFF"))
        painter.setFont(title_font)
        painter.setPen(QColor("#FFFFFF"))
        kind = self._text.get("kind", "")
        if not self.node.trainable:
            kind = ("frozen · " + kind) if kind else "frozen"
        fm_tiny = QFontMetricsF(tiny_font)
        fm_title = QFontMetricsF(title_font)
        room = rect.right() - 8 - (glyph.right() + 6)
        title = self._text["title"]
        kind_w = fm_tiny.horizontalAdvance(kind) + 8 if kind else 0.0
        if kind and fm_title.horizontalAdvance(title) + kind_w > room:
            kind, kind_w = "", 0.0   # the name matters more; the type is in the tooltip
        title_rect = QRectF(glyph.right() + 6, rect.top(), room - kind_w, HEADER_HEIGHT)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         fm_title.elidedText(title, Qt.TextElideMode.ElideRight, title_rect.width()))
        if kind:
            painter.setFont(tiny_font)
            painter.setPen(QColor(255, 255, 255, 210))
            painter.drawText(QRectF(rect.right() - kind_w - 4, rect.top(), kind_w, HEADER_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, kind)

        detail = min(1.0, (lod - OVERVIEW_LOD) / (DETAIL_LOD - OVERVIEW_LOD))
        painter.setOpacity(detail)
        self._paint_body(painter, body, t, small_font, tiny_font, shape_font)
        painter.setOpacity(1.0)

    def _paint_body(self, painter, body: QRectF, t, small_font, tiny_font, shape_font):
        left_pad = 10.0
        right_pad = 10.0
        fm_tiny = QFontMetricsF(tiny_font)
        multi_in = len(self.inputs) > 1 or any(n != "in" for n in self.inputs)
        multi_out = len(self.outputs) > 1 or any(n != "out" for n in self.outputs)
        painter.setFont(tiny_font)
        painter.setPen(t.color("muted"))
        if multi_in:
            width = max(fm_tiny.horizontalAdvance(n) for n in self.inputs)
            for name, port in self.inputs.items():
                painter.drawText(QRectF(body.left() + 8, port.y() - 7, width + 2, 14),
                                 Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            left_pad = 14 + width
        if multi_out:
            width = max(fm_tiny.horizontalAdvance(n) for n in self.outputs)
            for name, port in self.outputs.items():
                painter.drawText(QRectF(body.right() - 10 - width, port.y() - 7, width + 2, 14),
                                 Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
            right_pad = 14 + width
        inner = body.adjusted(left_pad, 4, -right_pad, -4)
        mid = inner.top() + inner.height() / 2
        # key settings
        painter.setFont(small_font)
        painter.setPen(t.color("muted"))
        fm_small = QFontMetricsF(small_font)
        summary_rect = QRectF(inner.left(), inner.top(), inner.width(), mid - inner.top())
        painter.drawText(summary_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         fm_small.elidedText(self._text["summary"], Qt.TextElideMode.ElideRight, inner.width()))
        # output shape and parameter count, or the error
        row = QRectF(inner.left(), mid, inner.width(), inner.bottom() - mid)
        if self._text["error"]:
            painter.setPen(t.color("error"))
            painter.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             fm_small.elidedText("✖ " + self._text["error"], Qt.TextElideMode.ElideRight,
                                                 row.width()))
            return
        params = self._text["params"]
        params_w = 0.0
        if params:
            painter.setFont(small_font)
            painter.setPen(t.color("muted"))
            params_w = fm_small.horizontalAdvance(params) + 6
            painter.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, params)
        painter.setFont(shape_font)
        painter.setPen(t.color("text"))
        fm_shape = QFontMetricsF(shape_font)
        painter.drawText(QRectF(row.left(), row.top(), row.width() - params_w, row.height()),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         fm_shape.elidedText(self._text["shape"], Qt.TextElideMode.ElideRight,
                                             row.width() - params_w))

    def _paint_overview(self, painter, rect, colour, error, selected, lod, title_font):
        """Far out: a solid tile and the name, sized to stay readable on screen."""
        t = theme.current()
        painter.setPen(QPen(t.color("accent"), 3 / max(lod, 0.05)) if selected else Qt.PenStyle.NoPen)
        painter.setBrush(t.color("error") if error else colour)
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        # as large as fits the card, but never smaller than 9 pixels on the screen
        title = self._text["title"]
        if self._overview is None or self._overview[0] != (round(lod, 3), title):
            font = QFont(title_font)
            font.setPixelSize(100)
            natural = QFontMetricsF(font).horizontalAdvance(title) / 100 or 1
            size = min((rect.width() - 14) / natural, rect.height() * 0.55)
            font.setPixelSize(max(int(9 / max(lod, 0.05)), int(size), 6))
            elided = QFontMetricsF(font).elidedText(title, Qt.TextElideMode.ElideRight, rect.width() - 12)
            self._overview = ((round(lod, 3), title), font, elided)
        _, font, elided = self._overview
        painter.setFont(font)
        painter.setPen(QColor("#FFFFFF"))
        painter.drawText(rect.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignCenter, elided)
