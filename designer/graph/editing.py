"""The model ops behind the canvas's compound gestures: add a block (connected to
another), insert a block on an edge. Pure functions of the graph (no Qt), each
returning the ops of ONE undo step. Copy and paste: designer.graph.clipboard.
"""
from __future__ import annotations

from .errors import GraphError
from .model import DEFAULT_NETWORK, AddNode, Connect, Disconnect, Edge, Graph, Node, Op


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
