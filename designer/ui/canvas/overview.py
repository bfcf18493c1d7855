"""The far layer: how the canvas draws a whole network when the cards are too small
to read (zoom below node_item.FAR_LOD).

Painting a thousand cards and a thousand links one item at a time costs Python a
call each, every frame. Far out the scene stops painting them (ItemHasNoContents;
they stay in place for hit-testing, selection and dragging) and this one item draws
them all in a few calls: the links as one path, the cards as one path per type
colour. The batches are rebuilt only after something changed.

What a card says far out is chosen for the distance instead of being cut short
into "c…": inside a tile large enough, the output shape in large type (a composite
block: its name), with the block's name under it when that fits too; a tile too
small for that gets the text in a small label beside it when the label has room
there: composite blocks first, then the inputs and the blocks that change the
tensor's shape (a block that passes its input's shape on says nothing new from
afar). No label is ever truncated: a label that does not fit is left out.

`Batches` is shared with the minimap, which draws the same tiles and links smaller.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPen, QStaticText, QTransform
from PySide6.QtWidgets import QGraphicsItem

from .. import theme
from ..theme import category_color

TILE_RADIUS = 10.0
INSIDE_MIN_PX = 9.0      # text inside a tile is drawn from this many screen pixels on
INSIDE_MAX_PX = 40.0
LABEL_PX = 11.0          # a label beside a tile, in screen pixels
CELL = 256.0             # the label placement's grid, in scene units
DENSE_LINKS = 1500       # more links than this are drawn far out without antialiasing
LOD_STEP = 1.05          # labels are placed afresh when the zoom moved by more than this factor


@dataclass
class Card:
    rect: QRectF            # the card, in scene coordinates (moved in place when the card moves)
    colour: str
    text: str               # the output shape, or a composite's name
    title: str              # the block's name, drawn under `text` inside a large tile
    priority: int           # 0 composite, 1 changes the shape, 2 the rest
    selected: bool
    composite: bool


class Batches:
    """Everything the far drawing needs, in scene coordinates: the cards (by node id) and
    the links as two paths, rebuilt when a link changed."""

    def __init__(self, scene):
        self.scene = scene
        t = theme.current()
        self.cards: dict[str, Card] = {}
        self.tiles: dict[str, list[QRectF]] = {}    # colour -> the cards of that colour
        self.stacks: list[QRectF] = []               # composite blocks: the cards behind
        for node_id, item in scene.nodes.items():
            rect = item.mapRectToScene(item.card_rect())
            texts = item._text
            colour = t.error if texts.get("error") else category_color(item.category).name()
            composite = item.is_composite
            info = item.info
            changes = info is not None and info.output_shape is not None and \
                (not info.in_shapes or any(s != info.output_shape for s in info.in_shapes.values()))
            self.cards[node_id] = Card(rect, colour, texts["title"] if composite else texts.get("shape", ""),
                                       "" if composite else texts["title"], 0 if composite else 1 if changes else 2,
                                       item.isSelected(), composite)
            self.tiles.setdefault(colour, []).append(rect)
            if composite:
                self.stacks.append(rect)
        self._links = None
        self._tile_grid = None
        self._bounds: QRectF | None = None

    def tile_grid(self) -> dict[tuple[int, int], list[tuple[float, float, float, float]]]:
        """The tiles as (left, top, right, bottom) in cells of CELL scene units."""
        if self._tile_grid is None:
            grid: dict[tuple[int, int], list] = {}
            for c in self.cards.values():
                _take(grid, (c.rect.left(), c.rect.top(), c.rect.right(), c.rect.bottom()))
            self._tile_grid = grid
        return self._tile_grid

    def bounds(self) -> QRectF:
        if self._bounds is None:
            rect = QRectF()
            for c in self.cards.values():
                rect = rect.united(c.rect)
            self._bounds = rect
        return QRectF(self._bounds)

    def moved(self, node_id: str, rect: QRectF) -> QPointF | None:
        """The card `node_id` is now at `rect`; returns how far it went."""
        card = self.cards.get(node_id)
        if card is None:
            return None
        delta = rect.topLeft() - card.rect.topLeft()
        card.rect.translate(delta)   # the same object is in `tiles`
        self._links = None
        self._tile_grid = None
        self._bounds = None
        return delta

    def links(self, area: QRectF | None = None):
        """(ordinary, waiting: no shape, [(path, colour)] highlighted); those in `area` alone
        when it is given (a card dragged far out repaints only around it)."""
        if area is not None:
            return self._collect_links([item for item in self.scene.edges.values()
                                        if item._bounds.intersects(area)])
        if self._links is None:
            self._links = self._collect_links(self.scene.edges.values())
        return self._links

    @staticmethod
    def _collect_links(items):
        t = theme.current()
        plain, waiting, highlighted = QPainterPath(), QPainterPath(), []
        if True:
            for item in items:
                if item.isSelected() or item.hovered or item.flash:
                    highlighted.append((item._path, t.error if item.flash else t.accent))
                elif item.carries is None:
                    waiting.addPath(item._path)
                else:
                    plain.addPath(item._path)
        return plain, waiting, highlighted


def _pen(colour, width_px: float, dashed: bool = False) -> QPen:
    pen = QPen(colour, width_px)
    pen.setCosmetic(True)   # in screen pixels: drawn much faster than a scaled pen
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def paint_batches(painter, b: Batches, lod: float, outlines: bool = True, area: QRectF | None = None):
    """Links and tiles (those meeting `area` when given); the lines stay a pixel or two wide
    at any zoom. The links' pen is one pixel wide: Qt's fast path (1.3 pixels cost 12× more)."""
    t = theme.current()
    plain, waiting, highlighted = b.links(area)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(_pen(t.color("edge"), 1.0))
    # thousands of links far out (DenseNet's): smoothing their edges costs 3× and is not seen
    smooth = len(b.scene.edges) <= DENSE_LINKS
    painter.setRenderHint(painter.RenderHint.Antialiasing, smooth)
    painter.drawPath(plain)
    painter.setRenderHint(painter.RenderHint.Antialiasing)
    if not waiting.isEmpty():
        painter.setPen(_pen(t.color("edge"), 1.0, dashed=True))
        painter.drawPath(waiting)
    for path, colour in highlighted:
        painter.setPen(_pen(QColor(colour), 2.5))
        painter.drawPath(path)
    rounded = TILE_RADIUS * lod >= 1.5
    offset = 9.0
    if b.stacks:
        painter.setPen(_pen(t.color("card_border"), 1.0) if outlines else Qt.PenStyle.NoPen)
        painter.setBrush(t.color("card"))
        for r in b.stacks:
            painter.drawRoundedRect(r.translated(offset, -offset), TILE_RADIUS, TILE_RADIUS)
    painter.setPen(Qt.PenStyle.NoPen)
    for colour, rects in b.tiles.items():
        painter.setBrush(QColor(colour))
        if rounded:
            for r in rects:
                painter.drawRoundedRect(r, TILE_RADIUS, TILE_RADIUS)
        else:
            painter.drawRects(rects)


_FONTS: dict[tuple[bool, int], QFont] = {}
_WIDTHS: dict[tuple[bool, str], float] = {}


def _font(bold: bool, size: float) -> QFont:
    key = (bold, max(1, round(size)))
    font = _FONTS.get(key)
    if font is None:
        font = QFont()
        font.setPixelSize(key[1])
        font.setBold(bold)
        _FONTS[key] = font
    return font


_METRICS: dict[bool, QFontMetricsF] = {}


def text_width(text: str, bold: bool = True) -> float:
    """The width of `text` per pixel of font size (measured once at 100 px)."""
    key = (bold, text)
    w = _WIDTHS.get(key)
    if w is None:
        metrics = _METRICS.get(bold)
        if metrics is None:
            metrics = _METRICS[bold] = QFontMetricsF(_font(bold, 100))
        w = _WIDTHS[key] = metrics.horizontalAdvance(text) / 100
    return w


@dataclass
class Placed:
    rect: QRectF     # where the text goes, in scene coordinates
    text: str
    size: float      # font size in scene units
    inside: bool     # white on the tile, or dark on a plate beside it
    bold: bool = True


def _take(grid, box):
    for i in range(int(box[0] // CELL), int(box[2] // CELL) + 1):
        for j in range(int(box[1] // CELL), int(box[3] // CELL) + 1):
            grid.setdefault((i, j), []).append(box)


def _free(grid, box) -> bool:
    left, top, right, bottom = box
    for i in range(int(left // CELL), int(right // CELL) + 1):
        for j in range(int(top // CELL), int(bottom // CELL) + 1):
            for o in grid.get((i, j), ()):
                if o[0] < right and left < o[2] and o[1] < bottom and top < o[3]:
                    return False
    return True


def place_labels(b: Batches, lod: float) -> dict[str, list[Placed]]:
    """What each card says at this zoom, and where (see the module's docstring)."""
    cards = b.cards
    px = 1.0 / lod                 # one screen pixel in scene units
    placed: dict[str, list[Placed]] = {}
    outside: list[tuple[int, str, Card]] = []
    for node_id, c in cards.items():
        if not c.text:
            continue
        w, h = c.rect.width() - 12 * px, c.rect.height()
        size = min(w / max(text_width(c.text), 1e-3), h * (0.42 if c.title else 0.6), INSIDE_MAX_PX * px)
        if size * lod < INSIDE_MIN_PX:
            outside.append((c.priority, node_id, c))
            continue
        second = min(w / max(text_width(c.title, False), 1e-3), size * 0.75) if c.title else 0.0
        r = c.rect
        if second * lod >= INSIDE_MIN_PX:
            gap = (h - size * 1.2 - second * 1.2) / 3
            placed[node_id] = [Placed(QRectF(r.left(), r.top() + gap, r.width(), size * 1.2), c.text, size, True),
                               Placed(QRectF(r.left(), r.bottom() - gap - second * 1.2, r.width(), second * 1.2),
                                      c.title, second, True, bold=False)]
        else:
            placed[node_id] = [Placed(QRectF(r), c.text, size, True)]
    if not outside:
        return placed
    # beside the tiles: where neither a tile nor a label placed before is
    tiles = b.tile_grid()
    grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    size = LABEL_PX * px
    th = size * 1.35
    outside.sort(key=lambda e: e[0])
    for priority, node_id, c in outside:
        if priority > 1:
            break   # the shape it passes on is labelled where it was made
        bold = c.priority == 0
        tw = text_width(c.text, bold) * size + 8 * px
        r = c.rect
        left = r.center().x() - tw / 2
        for top in (r.bottom() + 2 * px, r.top() - 2 * px - th):
            box = (left, top, left + tw, top + th)
            if _free(tiles, box) and _free(grid, box):
                _take(grid, box)
                placed[node_id] = [Placed(QRectF(left, top, tw, th), c.text, size, False, bold)]
                break
    return placed


_STATIC: dict[tuple[str, bool], QStaticText] = {}


def _static(text: str, bold: bool) -> QStaticText:
    key = (text, bold)
    st = _STATIC.get(key)
    if st is None:
        if len(_STATIC) > 5000:
            _STATIC.clear()
        st = _STATIC[key] = QStaticText(text)
        st.prepare(QTransform(), _font(bold, LABEL_PX))
    return st


def paint_labels(painter, labels: dict[str, list[Placed]], exposed: QRectF):
    """Inside a tile: scaled with the tile. Beside it: LABEL_PX on the screen, drawn in screen
    coordinates from laid-out text kept between frames (QStaticText)."""
    t = theme.current()
    white, text = QColor("#FFFFFF"), t.color("text")
    plate = t.color("canvas")
    plate.setAlphaF(0.88)
    beside = []
    painter.setPen(white)
    for placed in labels.values():
        for p in placed:
            if not p.rect.intersects(exposed):
                continue
            if not p.inside:
                beside.append(p)
                continue
            painter.setFont(_font(p.bold, p.size))
            painter.drawText(p.rect, Qt.AlignmentFlag.AlignCenter, p.text)
    if not beside:
        return
    world = painter.worldTransform()
    painter.save()
    painter.resetTransform()
    plates = [world.mapRect(p.rect) for p in beside]
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(plate)
    for r in plates:
        painter.drawRoundedRect(r, r.height() / 2, r.height() / 2)
    painter.setPen(text)
    for bold in (False, True):
        painter.setFont(_font(bold, LABEL_PX))
        for p, r in zip(beside, plates):
            if p.bold == bold:
                st = _static(p.text, bold)
                size = st.size()
                painter.drawStaticText(QPointF(r.center().x() - size.width() / 2,
                                               r.center().y() - size.height() / 2), st)
    painter.restore()


class FarLayer(QGraphicsItem):
    """One item that draws the whole scene far out (see the module's docstring)."""

    def __init__(self, scene):
        super().__init__()
        self._scene = scene
        self.batches: Batches | None = None
        self._labels: tuple[float, dict[str, list[Placed]]] | None = None
        self._bounds = QRectF()   # grows to cover every card (cover); the scene's index depends on it
        self.setZValue(5)      # above the links and cards it stands for, below a link being dragged
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)   # exposedRect
        # panning scrolls the cached picture: only the strip that comes into view is drawn
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setVisible(False)

    def cover(self, rect: QRectF):
        """Make room for a card at `rect` (scene coordinates). Only ever grows, in steps, so
        that Qt's index of the scene, whose cells follow the scene's extent, stays fine."""
        if not self._bounds.contains(rect):
            self.prepareGeometryChange()
            self._bounds = self._bounds.united(rect.adjusted(-2000, -2000, 2000, 2000))

    def reset_cover(self):
        self.prepareGeometryChange()
        self._bounds = QRectF()

    def invalidate(self):
        """Something other than a card's position changed: everything is collected again."""
        self.batches = None
        self._labels = None
        if self.isVisible():
            self.update()

    def card_moved(self, item):
        if self.batches is None:
            return
        card = self.batches.cards.get(item.node_id)
        if card is None:
            self.invalidate()
            return
        before = self._around(item, card.rect)
        delta = self.batches.moved(item.node_id, item.mapRectToScene(item.card_rect()))
        labels = self._labels[1].get(item.node_id, ()) if self._labels else ()
        for p in labels:
            p.rect.translate(delta)   # the label goes with its card; placed afresh at the next zoom
        if self.isVisible():
            # only around the card: its old and new place, its links, its label
            self.update(before.united(self._around(item, card.rect)))

    def _around(self, item, rect: QRectF) -> QRectF:
        area = QRectF(rect)
        for edge in item.edges:
            area = area.united(edge._bounds)
        for p in (self._labels[1].get(item.node_id, ()) if self._labels else ()):
            area = area.united(p.rect)
        return area.adjusted(-40, -40, 40, 40)

    def links_changed(self, area: QRectF | None = None):
        """A link changed; `area`: where it was and is (None: anywhere)."""
        if self.batches is not None:
            self.batches._links = None
        if self.isVisible():
            if area is None:
                self.update()
            else:
                self.update(area.adjusted(-4, -4, 4, 4))

    def current(self) -> Batches:
        if self.batches is None:
            self.batches = Batches(self._scene)
        return self.batches

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return QPainterPath()   # never under the mouse: the cards are

    def paint(self, painter, option, widget=None):
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        b = self.current()
        painter.setRenderHint(painter.RenderHint.Antialiasing)
        device = painter.device()
        shown = painter.worldTransform().inverted()[0].mapRect(QRectF(0, 0, device.width(), device.height()))
        # refreshing its cache, Qt exposes the whole item though the cache holds only what is in view
        exposed = option.exposedRect.intersected(shown)
        part = exposed.width() * exposed.height() < 0.25 * shown.width() * shown.height()
        paint_batches(painter, b, lod, area=exposed if part else None)
        selected = [c.rect for c in b.cards.values() if c.selected]
        if selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(_pen(theme.current().color("accent"), 3))
            for r in selected:
                painter.drawRoundedRect(r.adjusted(-4 / lod, -4 / lod, 4 / lod, 4 / lod), TILE_RADIUS, TILE_RADIUS)
        if self._labels is None or not 1 / LOD_STEP < lod / self._labels[0] < LOD_STEP:
            self._labels = (lod, place_labels(b, lod))
        paint_labels(painter, self._labels[1], exposed)
