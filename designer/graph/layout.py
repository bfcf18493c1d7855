"""Automatic layout in layers, left to right (networkx topological generations).

Each node goes in the column of its longest path from an input; within a column
nodes are ordered by the mean row of their predecessors (a few barycentre
sweeps, the Sugiyama heuristic) so that edges cross as little as possible, and a
link that skips columns keeps a free row in each column it passes.
Weakly connected parts (a GAN's two networks) are stacked one under the other.
networkx serves here (generations and weakly connected parts, not just an order;
designer.graph.order is the project's one topological order). It is imported when a
layout is first asked for: it takes longer to import than the window takes to appear.
"""
from __future__ import annotations

from .model import Graph, SetField

COLUMN = 280.0       # a card is 176 wide: room for the edge's shape label between columns
ROW = 116.0
CARD_WIDTH = 176.0
BAND_GAP = 60.0      # extra space between wrapped rows, where the links back to the left run
VIEW_HEIGHT = 560.0  # a typical canvas height, for choosing where to wrap


def _layers(g, order: dict) -> list[list]:
    """Columns of nodes. A link that skips columns gets a placeholder in each column it
    crosses (Sugiyama's dummy nodes): the placeholder keeps a row free there, so the
    link runs in the clear instead of behind the cards. Placeholders are tuples; only
    the graph's own nodes (strings) get positions."""
    import networkx as nx
    try:
        layers = [sorted(gen, key=order.get) for gen in nx.topological_generations(g)]
    except nx.NetworkXUnfeasible:   # a cycle (a broken file): fall back to document order
        return [[n] for n in sorted(g, key=order.get)]
    column = {n: i for i, layer in enumerate(layers) for n in layer}
    preds: dict = {n: list(g.predecessors(n)) for n in g}
    rank = dict(order)
    lanes: set = set()
    for u, v in list(g.edges):
        # the links leaving one node share one lane of placeholders (DenseNet feeds every later
        # layer of a block from each layer: one lane per link would be quadratic)
        previous = u
        for c in range(column[u] + 1, column[v]):
            dummy = ("link", u, c)
            if dummy not in lanes:
                lanes.add(dummy)
                layers[c].append(dummy)
                preds[dummy] = [previous]
                rank[dummy] = rank[u]
            previous = dummy
        if previous != u:
            preds[v] = [previous if p == u else p for p in preds[v]]
    row = {n: i for layer in layers for i, n in enumerate(layer)}
    for _ in range(4):
        for layer in layers[1:]:
            def barycentre(n):
                ps = preds[n]
                return sum(row[p] for p in ps) / len(ps) if ps else row[n]
            layer.sort(key=lambda n: (barycentre(n), rank[n]))
            row.update({n: i for i, n in enumerate(layer)})
    return layers


def _bands(layers: list[list[str]], aspect: float | None) -> int:
    """How many columns per row of the drawing: all of them, unless the picture would be
    so wide that it only fits the view at an unreadable zoom; then the columns wrap into
    rows, like lines of text, choosing the width that lets the whole fit the largest."""
    n = len(layers)
    if aspect is None or n <= 3:
        return n
    best_k, best_zoom = n, 0.0
    for k in range(n, 2, -1):
        rows = [layers[i:i + k] for i in range(0, n, k)]
        width = (k - 1) * COLUMN + CARD_WIDTH
        height = sum(max(len(layer) for layer in row) for row in rows) * ROW + (len(rows) - 1) * BAND_GAP
        zoom = min(1.0, min(aspect * VIEW_HEIGHT / width, VIEW_HEIGHT / height))
        if zoom > best_zoom * 1.03:
            best_k, best_zoom = k, zoom
    return best_k


def layered_positions(graph: Graph, ids=None, aspect: float | None = None,
                      column: float = COLUMN) -> dict[str, tuple[float, float]]:
    """Centre positions for `ids` (default: every node), laid out from (0, 0). With `aspect`
    (the view's width / height) a long network wraps into rows that fit the view."""
    import networkx as nx
    chosen = [i for i in graph.nodes if ids is None or i in set(ids)]
    order = {n: k for k, n in enumerate(chosen)}
    g = nx.DiGraph()
    g.add_nodes_from(chosen)
    g.add_edges_from((e.src, e.dst) for e in graph.edges if e.src in order and e.dst in order)
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    parts = sorted(nx.weakly_connected_components(g), key=lambda part: min(order[n] for n in part))
    for part in parts:
        layers = _layers(g.subgraph(part), order)
        # stacked parts share the height: each may be as many times wider
        k = _bands(layers, aspect * len(parts) if aspect else None)
        for start in range(0, len(layers), k):
            row = layers[start:start + k]
            tallest = max(len(layer) for layer in row)
            for x, layer in enumerate(row):
                offset = (tallest - len(layer)) / 2
                for y, n in enumerate(layer):
                    if isinstance(n, str):
                        positions[n] = (x * column, top + (y + offset) * ROW)
            top += tallest * ROW + BAND_GAP
    return positions


def _fit_zoom(positions, aspect: float) -> float:
    xs = [p[0] for p in positions]
    ys = [p[1] for p in positions]
    width = max(xs) - min(xs) + CARD_WIDTH + 96
    height = max(ys) - min(ys) + ROW + 96
    return min(aspect * VIEW_HEIGHT / width, VIEW_HEIGHT / height)


def needs_layout(graph: Graph, aspect: float) -> bool:
    """Should a template (a preset) be laid out afresh for this canvas? Yes when its cards
    overlap, or when as drawn it fits the view only at a zoom too small to read and a
    layered layout fits far better; no for a deliberate 2-D drawing (U-Net's U: many rows,
    none of them holding most of the blocks)."""
    if len(graph.nodes) < 2:
        return False
    if overlapping(graph, CARD_WIDTH + 24, ROW - 22):
        return True
    rows: dict[int, int] = {}
    for node in graph.nodes.values():
        rows[round(node.pos[1])] = rows.get(round(node.pos[1]), 0) + 1
    if len(rows) >= 4 and max(rows.values()) < 0.6 * len(graph.nodes):
        return False
    now = _fit_zoom([n.pos for n in graph.nodes.values()], aspect)
    laid_out = _fit_zoom(list(layered_positions(graph, aspect=aspect).values()), aspect)
    return now < 0.5 and laid_out > 1.5 * now


def layout_ops(graph: Graph, ids=None, aspect: float | None = None) -> list[SetField]:
    """Ops that lay out the nodes; a selection keeps its place (its top-left corner stays)."""
    positions = layered_positions(graph, ids, aspect)
    if not positions:
        return []
    if ids is not None:
        old_x = min(graph.nodes[i].pos[0] for i in positions)
        old_y = min(graph.nodes[i].pos[1] for i in positions)
        new_x = min(p[0] for p in positions.values())
        new_y = min(p[1] for p in positions.values())
        positions = {i: (x - new_x + old_x, y - new_y + old_y) for i, (x, y) in positions.items()}
    return [SetField(i, "pos", (round(x, 2), round(y, 2))) for i, (x, y) in positions.items()
            if tuple(graph.nodes[i].pos) != (round(x, 2), round(y, 2))]


def overlapping(graph: Graph, width: float, height: float) -> bool:
    """Do any two cards of this size overlap at the stored positions?"""
    cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for node in graph.nodes.values():
        x, y = node.pos
        cx, cy = int(x // width), int(y // height)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for ox, oy in cells.get((cx + dx, cy + dy), ()):
                    if abs(ox - x) < width and abs(oy - y) < height:
                        return True
        cells.setdefault((cx, cy), []).append((x, y))
    return False
