"""Copy, paste and duplicate as model ops (no Qt; the window's clipboard glue is
designer/ui/canvas/editing.py).

The clipboard holds a regular document (the file format), so a copied selection
pastes into another window, and a whole .json document can be pasted too. Pasted
ids stay as they were where free; taken ones are numbered by the one id rule
(designer.graph.ids.unique_id).
"""
from __future__ import annotations

import json

from .errors import GraphError
from .fileformat import from_dict, to_dict
from .ids import unique_id
from .model import AddNode, CompositeDef, Connect, Edge, Graph, Node, Op, SetComposite


def selection_document(graph: Graph, ids) -> Graph:
    """The selected nodes, the edges between them, and the user composites they use."""
    chosen = set(ids)
    sub = Graph()
    used = {graph.nodes[i].type for i in chosen if i in graph.nodes}
    for name, definition in graph.composites.items():
        if name in used:
            sub.apply(SetComposite(name, CompositeDef(name, definition.graph.copy(), definition.doc)))
    for node_id, n in graph.nodes.items():
        if node_id in chosen:
            sub.apply(AddNode(Node(n.id, n.type, dict(n.params), n.label, n.pos, n.network, n.trainable)))
    for e in graph.edges:
        if e.src in chosen and e.dst in chosen:
            sub.apply(Connect(e))
    return sub


def clip_text(graph: Graph, ids) -> str:
    """The clipboard's text for the nodes `ids` of `graph`: a document, as JSON."""
    return json.dumps(to_dict(selection_document(graph, ids)), ensure_ascii=False)


def parse_clip(text: str) -> Graph | None:
    """A pasted document, or None when the text is not one."""
    try:
        return from_dict(json.loads(text))
    except (ValueError, GraphError, RecursionError, TypeError):
        return None


def paste_ops(target: Graph, clip: Graph, at: tuple[float, float] | None = None,
              offset: tuple[float, float] = (40.0, 40.0), composites_allowed: bool = True,
              network: str | None = None) -> tuple[list[Op], list[str]]:
    """Ops adding a copy of `clip` to `target` (ids renamed where taken), centred on `at`
    or shifted by `offset`; returns (ops, the new node ids)."""
    if not clip.nodes:
        return [], []
    ops: list[Op] = []
    for name, definition in clip.composites.items():
        if name in target.composites:
            continue   # the same block of the same document; keep the one there
        if not composites_allowed:
            raise GraphError(f"{name} is a composite of your own; it cannot go inside another composite")
        ops.append(SetComposite(name, CompositeDef(name, definition.graph.copy(), definition.doc)))
    xs = [n.pos[0] for n in clip.nodes.values()]
    ys = [n.pos[1] for n in clip.nodes.values()]
    if at is not None:
        dx, dy = at[0] - (min(xs) + max(xs)) / 2, at[1] - (min(ys) + max(ys)) / 2
    else:
        dx, dy = offset
    taken = set(target.nodes)
    rename: dict[str, str] = {}
    for old, n in clip.nodes.items():
        new = unique_id(old, taken)
        taken.add(new)
        rename[old] = new
        ops.append(AddNode(Node(new, n.type, dict(n.params), n.label, (n.pos[0] + dx, n.pos[1] + dy),
                                network or n.network, n.trainable)))
    for e in clip.edges:
        ops.append(Connect(Edge(rename[e.src], e.src_port, rename[e.dst], e.dst_port)))
    return ops, list(rename.values())
