"""The model ops behind the canvas's compound gestures: paste, duplicate, insert a
block on an edge, add a block connected to another. Pure functions of the graph
(no Qt), each returning the ops of ONE undo step.

The clipboard holds a regular document (the file format), so a copied selection
pastes into another window, and a whole .json document can be pasted too.
"""
from __future__ import annotations

import json

from designer.graph.errors import GraphError
from designer.graph.fileformat import from_dict, to_dict
from designer.graph.model import (DEFAULT_NETWORK, AddNode, CompositeDef, Connect, Disconnect, Edge, Graph,
                                  Node, Op, SetComposite)


def fresh_id(base: str, taken: set[str]) -> str:
    """`base` if free, else base_1, base_2…"""
    if base not in taken:
        return base
    stem = base.rstrip("0123456789").rstrip("_") or base
    i = 1
    while f"{stem}_{i}" in taken:
        i += 1
    return f"{stem}_{i}"


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
        new = fresh_id(old, taken)
        taken.add(new)
        rename[old] = new
        ops.append(AddNode(Node(new, n.type, dict(n.params), n.label, (n.pos[0] + dx, n.pos[1] + dy),
                                network or n.network, n.trainable)))
    for e in clip.edges:
        ops.append(Connect(Edge(rename[e.src], e.src_port, rename[e.dst], e.dst_port)))
    return ops, list(rename.values())


def new_node(graph: Graph, type_name: str, pos: tuple[float, float], network: str = DEFAULT_NETWORK) -> Node:
    """A node of `type_name` (its defaults fill in when it is added), with an id from
    its type: conv2d, conv2d_1…"""
    return Node(graph.new_id(type_name), type_name, {}, "", (float(pos[0]), float(pos[1])), network)


def _ports(graph: Graph, node: Node, spec=None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    spec = spec or graph.spec(node)   # a Node need not be in the graph to be looked up
    return spec.input_ports(spec.coerce_params(node.params)), tuple(spec.outputs)


def add_ops(graph: Graph, node: Node, connect_from: tuple[str, str] | None = None, spec=None) -> list[Op]:
    """Add `node`; with connect_from (node id, output port), feed it from there too.
    `spec` describes a composite that earlier ops of the same step will define."""
    ops: list[Op] = [AddNode(node)]
    ins, _ = _ports(graph, node, spec)
    if connect_from is not None and ins:
        ops.append(Connect(Edge(connect_from[0], connect_from[1], node.id, ins[0])))
    return ops


def splice_ops(graph: Graph, edge: Edge, node: Node, spec=None) -> list[Op]:
    """Insert `node` into `edge`: src → node → dst, as one step."""
    ins, outs = _ports(graph, node, spec)
    if not ins or not outs:
        raise GraphError(f"{node.type} has no input or no output; it cannot go on a link")
    return [Disconnect(edge), AddNode(node), Connect(Edge(edge.src, edge.src_port, node.id, ins[0])),
            Connect(Edge(node.id, outs[0], edge.dst, edge.dst_port))]
