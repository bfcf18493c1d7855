"""Where the canvas looks: the document itself, or the inside of a composite node
(a user composite, editable; or a built-in one such as Inception, generated from
its parameters and read-only)."""
from __future__ import annotations

from designer.graph.model import Graph


class Scope:
    """What the canvas shows: the document itself, or the inside of a composite node."""

    def __init__(self, graph: Graph, analysis, editable: bool, path: tuple[str, ...], titles: tuple[str, ...],
                 note: str = ""):
        self.graph = graph
        self.analysis = analysis      # Analysis of `graph` (None when it cannot be computed)
        self.editable = editable
        self.path = path              # node ids from the document down to here
        self.titles = titles          # how the breadcrumbs name each level
        self.note = note              # why it is read-only, or which copy of a repeated block

    @property
    def is_root(self) -> bool:
        return not self.path


def composite_inside(graph: Graph, analysis, node_id: str, top_level: bool):
    """(inside graph, its analysis, editable, note) of a composite node, or None when it
    is not a composite or its inside cannot be generated yet."""
    node = graph.nodes.get(node_id)
    if node is None:
        return None
    try:
        spec = graph.spec(node)
    except Exception:  # noqa: BLE001 - an unknown block type simply has no inside
        return None
    if not spec.is_composite:
        return None
    info = analysis.nodes.get(node_id) if analysis is not None else None
    repeat = node.params.get("repeat", 1)
    copies = f"copy 1 of {repeat}; " if repeat > 1 else ""
    if node.type in graph.composites:
        inside = graph.composites[node.type].graph
        inner = info.inner[0] if info is not None and info.inner else inside.analyze()
        return inside, inner, top_level, copies.rstrip("; ")
    if info is None or not info.in_shapes or any(s is None for s in info.in_shapes.values()):
        return None
    try:
        inside = spec.expand(node.params, info.in_shapes)
    except Exception:  # noqa: BLE001 - a block that cannot be generated has no inside to show
        return None
    inner = info.inner[0] if info.inner else inside.analyze()
    return inside, inner, False, copies + "set by the block's parameters: change them in the inspector"
