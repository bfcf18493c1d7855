"""The document: nodes, edges, user composites and metadata, changed only through
small reversible operations so that an undo stack can sit on top.

Every mutation is an `Op`; `Graph.apply(op)` performs it, tells the observers, and
returns the op that undoes it. Compound edits (delete a node with its edges,
group a selection) are lists of ops, undone in reverse order.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .block import BlockSpec, get_block
from .errors import (CycleError, DuplicateInputError, GraphError, NetworkMismatchError,
                     ParamError, PortError, UnknownBlockError)

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DEFAULT_NETWORK = "main"


def valid_id(name: str) -> bool:
    """Node ids become module names in the compiled network, so they must be identifiers."""
    return isinstance(name, str) and bool(_ID.match(name)) and not keyword.iskeyword(name) \
        and name not in {"self", "forward", "training", "torch", "nn", "F"}


@dataclass
class Node:
    id: str
    type: str
    params: dict = field(default_factory=dict)
    label: str = ""
    pos: tuple[float, float] = (0.0, 0.0)
    network: str = DEFAULT_NETWORK
    trainable: bool = True
    revision: int = 0  # bumped on every change; the analysis cache keys on it

    @property
    def title(self) -> str:
        return self.label or self.id


@dataclass(frozen=True)
class Edge:
    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self):
        return f"{self.src}.{self.src_port} → {self.dst}.{self.dst_port}"


@dataclass
class CompositeDef:
    """A user's composite block: a sub-graph whose Input/Output nodes are its ports."""
    name: str
    graph: "Graph"
    doc: str = ""


# ---- operations -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AddNode:
    node: Node
    index: int | None = None


@dataclass(frozen=True)
class RemoveNode:
    id: str


@dataclass(frozen=True)
class Connect:
    edge: Edge
    index: int | None = None


@dataclass(frozen=True)
class Disconnect:
    edge: Edge


@dataclass(frozen=True)
class SetParam:
    id: str
    name: str
    value: Any


@dataclass(frozen=True)
class SetField:
    """label, pos, network or trainable of a node."""
    id: str
    name: str
    value: Any


@dataclass(frozen=True)
class SetComposite:
    """Adds (definition given), replaces, or removes (definition None) a user composite."""
    name: str
    definition: CompositeDef | None


@dataclass(frozen=True)
class SetMeta:
    key: str
    value: Any  # None removes the key


Op = AddNode | RemoveNode | Connect | Disconnect | SetParam | SetField | SetComposite | SetMeta
_FIELDS = ("label", "pos", "network", "trainable")


class Graph:
    """A network document. Node ids are unique across the whole document; a
    document may hold several networks (a GAN's generator and discriminator),
    told apart by each node's `network`."""

    def __init__(self):
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.composites: dict[str, CompositeDef] = {}
        self.meta: dict[str, Any] = {}
        self.structure_revision = 0
        self._observers: list[Callable[..., None]] = []
        self._analyzer = None

    # ---- observers --------------------------------------------------------------------------
    def subscribe(self, callback: Callable[..., None]) -> Callable[[], None]:
        """callback(event, **data) with event one of node_added, node_removed, node_changed,
        edge_added, edge_removed, composite_changed, meta_changed. Returns an unsubscribe."""
        self._observers.append(callback)
        return lambda: self._observers.remove(callback) if callback in self._observers else None

    def _emit(self, event: str, **data):
        for cb in list(self._observers):
            cb(event, **data)

    # ---- lookups ----------------------------------------------------------------------------
    def spec(self, node: Node | str) -> BlockSpec:
        node = self.nodes[node] if isinstance(node, str) else node
        if node.type in self.composites:
            from .composite import user_composite_spec
            return user_composite_spec(self.composites[node.type])
        return get_block(node.type)

    def input_ports(self, node: Node | str) -> tuple[str, ...]:
        node = self.nodes[node] if isinstance(node, str) else node
        return self.spec(node).input_ports(node.params)

    def output_ports(self, node: Node | str) -> tuple[str, ...]:
        return self.spec(node).outputs

    def edges_into(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def edges_from(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]

    def networks(self) -> list[str]:
        seen: dict[str, None] = {}
        for n in self.nodes.values():
            seen.setdefault(n.network, None)
        return list(seen) or [DEFAULT_NETWORK]

    def new_id(self, base: str) -> str:
        base = re.sub(r"\W", "_", base.lower()) or "node"
        if not valid_id(base):
            base = "n_" + base
        if base not in self.nodes:
            return base
        i = 1
        while f"{base}_{i}" in self.nodes:
            i += 1
        return f"{base}_{i}"

    def reaches(self, start: str, target: str) -> bool:
        """Is there a path start → … → target?"""
        stack, seen = [start], set()
        while stack:
            n = stack.pop()
            if n == target:
                return True
            if n in seen:
                continue
            seen.add(n)
            stack.extend(e.dst for e in self.edges if e.src == n)
        return False

    def check_connect(self, edge: Edge):
        """Raise a typed ConnectError for an edge the document cannot take."""
        if edge.src not in self.nodes or edge.dst not in self.nodes:
            raise PortError(f"{edge}: no such node")
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        if edge.src_port not in self.output_ports(src):
            raise PortError(f"{src.title} has no output {edge.src_port!r}")
        if edge.dst_port not in self.input_ports(dst):
            raise PortError(f"{dst.title} has no input {edge.dst_port!r}")
        if edge in self.edges:
            raise DuplicateInputError(f"{edge} exists already")
        if any(e.dst == edge.dst and e.dst_port == edge.dst_port for e in self.edges):
            raise DuplicateInputError(f"input {edge.dst_port!r} of {dst.title} is already connected")
        if src.network != dst.network:
            raise NetworkMismatchError(f"{src.title} ({src.network}) and {dst.title} ({dst.network}) "
                                       "belong to different networks")
        if edge.src == edge.dst or self.reaches(edge.dst, edge.src):
            raise CycleError(f"connecting {src.title} to {dst.title} would make a cycle")

    # ---- the one way to change the document -------------------------------------------------
    def apply(self, op: Op) -> Op:
        """Perform `op` and return its inverse."""
        if isinstance(op, AddNode):
            node = op.node
            if not valid_id(node.id):
                raise GraphError(f"{node.id!r} is not a valid node id (letters, digits, _)")
            if node.id in self.nodes:
                raise GraphError(f"a node {node.id!r} exists already")
            spec = self._spec_for_type(node.type)
            node.params = spec.coerce_params(node.params)
            items = list(self.nodes.items())
            index = len(items) if op.index is None else op.index
            items.insert(index, (node.id, node))
            self.nodes = dict(items)
            self._structure_changed()
            self._emit("node_added", node=node)
            return RemoveNode(node.id)
        if isinstance(op, RemoveNode):
            if op.id not in self.nodes:
                raise GraphError(f"no node {op.id!r}")
            if any(e.src == op.id or e.dst == op.id for e in self.edges):
                raise GraphError(f"{op.id} still has edges; disconnect them first")
            index = list(self.nodes).index(op.id)
            node = self.nodes.pop(op.id)
            self._structure_changed()
            self._emit("node_removed", node=node)
            return AddNode(node, index)
        if isinstance(op, Connect):
            self.check_connect(op.edge)
            index = len(self.edges) if op.index is None else op.index
            self.edges.insert(index, op.edge)
            self._structure_changed()
            self._emit("edge_added", edge=op.edge)
            return Disconnect(op.edge)
        if isinstance(op, Disconnect):
            if op.edge not in self.edges:
                raise GraphError(f"no edge {op.edge}")
            index = self.edges.index(op.edge)
            self.edges.remove(op.edge)
            self._structure_changed()
            self._emit("edge_removed", edge=op.edge)
            return Connect(op.edge, index)
        if isinstance(op, SetParam):
            node = self._node(op.id)
            spec = self.spec(node)
            old = node.params[op.name] if op.name in node.params else spec.param(op.name).default
            value = spec.param(op.name).coerce(op.value)
            if spec.input_ports(dict(node.params, **{op.name: value})) != spec.input_ports(node.params):
                self._check_ports_kept(node, spec.input_ports(dict(node.params, **{op.name: value})))
            node.params = dict(node.params, **{op.name: value})
            node.revision += 1
            self._emit("node_changed", node=node, field="params", name=op.name)
            return SetParam(op.id, op.name, old)
        if isinstance(op, SetField):
            node = self._node(op.id)
            if op.name not in _FIELDS:
                raise GraphError(f"a node has no field {op.name!r}")
            old = getattr(node, op.name)
            value = op.value
            if op.name == "pos":
                value = (float(value[0]), float(value[1]))
            if op.name == "network" and any(e.src == op.id or e.dst == op.id for e in self.edges):
                raise NetworkMismatchError("disconnect a node before moving it to another network")
            setattr(node, op.name, value)
            if op.name != "pos":
                node.revision += 1
            self._emit("node_changed", node=node, field=op.name, name=op.name)
            return SetField(op.id, op.name, old)
        if isinstance(op, SetComposite):
            old = self.composites.get(op.name)
            if op.definition is None:
                if any(n.type == op.name for n in self.nodes.values()):
                    raise GraphError(f"composite {op.name} is still in use")
                self.composites.pop(op.name, None)
            else:
                try:
                    get_block(op.name)
                    raise GraphError(f"{op.name!r} is the name of a built-in block")
                except UnknownBlockError:
                    pass
                self.composites[op.name] = op.definition
            self._structure_changed()
            self._emit("composite_changed", name=op.name)
            return SetComposite(op.name, old)
        if isinstance(op, SetMeta):
            old = self.meta.get(op.key)
            if op.value is None:
                self.meta.pop(op.key, None)
            else:
                self.meta[op.key] = op.value
            self._emit("meta_changed", key=op.key)
            return SetMeta(op.key, old)
        raise TypeError(f"not an operation: {op!r}")

    def apply_all(self, ops: list[Op]) -> list[Op]:
        """Apply ops in order; on failure roll back what was done and re-raise.
        Returns the inverses in the order they must be applied to undo."""
        done: list[Op] = []
        try:
            for op in ops:
                done.append(self.apply(op))
        except Exception:
            for inv in reversed(done):
                self.apply(inv)
            raise
        return list(reversed(done))

    def _spec_for_type(self, type_name: str) -> BlockSpec:
        if type_name in self.composites:
            from .composite import user_composite_spec
            return user_composite_spec(self.composites[type_name])
        return get_block(type_name)

    def _node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node {node_id!r}") from None

    def _check_ports_kept(self, node: Node, ports: tuple[str, ...]):
        for e in self.edges_into(node.id):
            if e.dst_port not in ports:
                raise ParamError(f"input {e.dst_port} of {node.title} is connected; disconnect it first")

    def _structure_changed(self):
        self.structure_revision += 1

    # ---- convenience edits, each returning the ops that undo it ------------------------------
    def add_node(self, type_name: str, params: dict | None = None, id: str | None = None,
                 label: str = "", pos=(0.0, 0.0), network: str = DEFAULT_NETWORK,
                 trainable: bool = True) -> Node:
        node = Node(id or self.new_id(type_name), type_name, dict(params or {}), label,
                    (float(pos[0]), float(pos[1])), network, trainable)
        self.apply(AddNode(node))
        return node

    def connect(self, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None) -> Edge:
        """Connect src to dst; ports default to the first output and the first free input."""
        if src_port is None:
            src_port = self.output_ports(src)[0]
        if dst_port is None:
            taken = {e.dst_port for e in self.edges_into(dst)}
            free = [p for p in self.input_ports(dst) if p not in taken]
            if not free:
                raise DuplicateInputError(f"every input of {self.nodes[dst].title} is connected")
            dst_port = free[0]
        edge = Edge(src, src_port, dst, dst_port)
        self.apply(Connect(edge))
        return edge

    def chain(self, *ids: str):
        for a, b in zip(ids, ids[1:]):
            self.connect(a, b)

    def removal_ops(self, node_ids) -> list[Op]:
        """Ops deleting nodes together with their edges (edges first)."""
        ids = set(node_ids)
        ops: list[Op] = [Disconnect(e) for e in self.edges if e.src in ids or e.dst in ids]
        ops += [RemoveNode(i) for i in self.nodes if i in ids]
        return ops

    def remove_nodes(self, node_ids) -> list[Op]:
        return self.apply_all(self.removal_ops(node_ids))

    def set_param(self, node_id: str, name: str, value) -> Op:
        return self.apply(SetParam(node_id, name, value))

    def move(self, node_id: str, pos) -> Op:
        return self.apply(SetField(node_id, "pos", pos))

    def group(self, node_ids, name: str, node_id: str | None = None) -> list[Op]:
        from .composite import group_ops
        return self.apply_all(group_ops(self, list(node_ids), name, node_id))

    def ungroup(self, node_id: str) -> list[Op]:
        from .composite import ungroup_ops
        return self.apply_all(ungroup_ops(self, node_id))

    # ---- analysis and compilation -----------------------------------------------------------
    def analyze(self, input_shape=None):
        """Shapes, parameter counts, MACs and errors for every node (incremental)."""
        from .analysis import Analyzer
        if self._analyzer is None:
            self._analyzer = Analyzer(self)
        return self._analyzer.run(input_shape)

    def compile(self, network: str | None = None, device=None, input_shape=None):
        """A torch.nn.Module of the network (all networks as a ModuleDict when the document
        holds several and none is named)."""
        from designer.compile import compile_graph
        return compile_graph(self, network=network, device=device, input_shape=input_shape)

    def copy(self) -> "Graph":
        from .fileformat import from_dict, to_dict
        return from_dict(to_dict(self))

    def subgraph_nodes(self, network: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.network == network]
