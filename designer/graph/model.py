"""The document: nodes, edges, user composites and metadata, changed only through
small reversible operations so that an undo stack can sit on top.

Every mutation is an `Op`; `Graph.apply(op)` performs it, tells the observers, and
returns the op that undoes it. Compound edits (delete a node with its edges,
group a selection) are lists of ops, undone in reverse order.
"""
from __future__ import annotations

import json
import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from designer.observers import Observers
from .block import BlockSpec, get_block
from .errors import (CycleError, DuplicateInputError, GraphError, NetworkMismatchError,
                     ParamError, PortError, UnknownBlockError)
from .events import (CompositeChanged, EdgeAdded, EdgeRemoved, GraphEvent, MetaChanged, NodeAdded, NodeChanged,
                     NodeRemoved)
from .ids import unique_id

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # whole string: fullmatch, as `$` lets a "\n" through
# a number names a numbered child, as an nn.Sequential does (torchvision's features.0, layer2.1)
_NUMBER = re.compile(r"0|[1-9][0-9]{0,8}")
DEFAULT_NETWORK = "main"


def valid_network(name) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 64 and name.strip() == name and "." not in name \
        and encodable(name)


def encodable(text: str) -> bool:
    """Text that can be written to a UTF-8 file (JSON lets lone surrogates in)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_data(value, where: str):
    """A deep copy of `value` as plain JSON data, or GraphError saying why it is not."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True).encode("utf-8")
        return json.loads(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise GraphError(f"{where} must be plain JSON data (text, finite numbers, lists, objects): {exc}") \
            from None


def valid_name(name: str) -> bool:
    """A block type's name, or a node id that is not a number: an identifier."""
    return isinstance(name, str) and bool(_ID.fullmatch(name)) and not keyword.iskeyword(name) \
        and name not in {"self", "forward", "training", "torch", "nn", "F"}


def valid_id(name: str) -> bool:
    """Node ids become module names in the compiled network: identifiers, or numbers as an
    nn.Sequential names its children (the presets of torchvision's networks use them)."""
    return valid_name(name) or (isinstance(name, str) and bool(_NUMBER.fullmatch(name)))


@dataclass(slots=True)
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
    # (boundary key, BlockSpec) of composite.user_composite_spec: kept here, so that it lives
    # exactly as long as the definition (a process-wide table kept documents and weights alive)
    spec_cache: tuple | None = field(default=None, init=False, compare=False, repr=False)


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
    """Adds (definition given), replaces, or removes (definition None) a user composite.
    `index` places an added one among the others (undoing a removal puts it back where it was)."""
    name: str
    definition: CompositeDef | None
    index: int | None = None


@dataclass(frozen=True)
class SetMeta:
    key: str
    value: Any  # None removes the key


Op = AddNode | RemoveNode | Connect | Disconnect | SetParam | SetField | SetComposite | SetMeta
_FIELDS = ("label", "pos", "network", "trainable")


class Graph:
    """A network document. Node ids are unique across the whole document; a
    document may hold several networks (a GAN's generator and discriminator),
    told apart by each node's `network`.

    `nodes` and `edges` are the truth and may be read freely; change them only
    through `apply` (direct edits bypass the observers and the analysis cache)."""

    def __init__(self):
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.composites: dict[str, CompositeDef] = {}
        self.meta: dict[str, Any] = {}
        self.structure_revision = 0
        self._observers: Observers[GraphEvent] = Observers()
        self._analyzer = None
        # edges by node, kept beside the list so that connecting stays cheap on big documents
        self._index_key = None
        self._into: dict[str, list[Edge]] = {}
        self._from: dict[str, list[Edge]] = {}
        self._edge_set: set[Edge] = set()
        self._taken: set[tuple[str, str]] = set()

    # ---- observers --------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[GraphEvent], None]) -> Callable[[], None]:
        """callback(event) with one of the dataclasses of `designer.graph.events`, once per
        real change. Returns an unsubscribe function."""
        return self._observers.subscribe(callback)

    def _emit(self, event: GraphEvent):
        self._observers.emit(event)

    # ---- the edge index ---------------------------------------------------------------------
    def _current_key(self):
        return (id(self.edges), len(self.edges), self.structure_revision)

    def _index(self):
        """Bring the index up to date with `edges` (rebuilt when it was edited directly)."""
        if self._index_key != self._current_key():
            self._into, self._from, self._taken = {}, {}, set()
            for e in self.edges:
                self._into.setdefault(e.dst, []).append(e)
                self._from.setdefault(e.src, []).append(e)
                self._taken.add((e.dst, e.dst_port))
            self._edge_set = set(self.edges)
            self._index_key = self._current_key()

    def _structure_changed(self, index_valid: bool = True):
        self.structure_revision += 1
        self._index_key = self._current_key() if index_valid else None

    # ---- lookups ----------------------------------------------------------------------------
    def spec(self, node: Node | str) -> BlockSpec:
        node = self.nodes[node] if isinstance(node, str) else node
        return self._spec_for_type(node.type)

    def input_ports(self, node: Node | str) -> tuple[str, ...]:
        node = self.nodes[node] if isinstance(node, str) else node
        return self.spec(node).input_ports(node.params)

    def output_ports(self, node: Node | str) -> tuple[str, ...]:
        return self.spec(node).outputs

    def edges_into(self, node_id: str) -> list[Edge]:
        self._index()
        return list(self._into.get(node_id, ()))

    def edges_from(self, node_id: str) -> list[Edge]:
        self._index()
        return list(self._from.get(node_id, ()))

    def networks(self) -> list[str]:
        seen: dict[str, None] = {}
        for n in self.nodes.values():
            seen.setdefault(n.network, None)
        return list(seen) or [DEFAULT_NETWORK]

    def new_id(self, base: str) -> str:
        base = re.sub(r"\W", "_", base.lower(), flags=re.ASCII)[:56] or "node"
        if not valid_id(base):
            base = "n_" + base
        return unique_id(base, self.nodes)

    def reaches(self, start: str, target: str) -> bool:
        """Is there a path start → … → target?"""
        self._index()
        stack, seen = [start], set()
        while stack:
            n = stack.pop()
            if n == target:
                return True
            if n in seen:
                continue
            seen.add(n)
            stack.extend(e.dst for e in self._from.get(n, ()))
        return False

    def check_connect(self, edge: Edge):
        """Raise a typed ConnectError for an edge the document cannot take."""
        if not isinstance(edge, Edge) or not all(isinstance(v, str) for v in
                                                 (edge.src, edge.src_port, edge.dst, edge.dst_port)):
            raise PortError(f"{edge!r} is not an edge between named ports")
        if edge.src not in self.nodes or edge.dst not in self.nodes:
            missing = edge.src if edge.src not in self.nodes else edge.dst
            raise PortError(f"{edge}: there is no node {missing!r}")
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        if edge.src_port not in self.output_ports(src):
            raise PortError(f"{src.title} has no output {edge.src_port!r}")
        if edge.dst_port not in self.input_ports(dst):
            raise PortError(f"{dst.title} has no input {edge.dst_port!r}")
        self._index()
        if edge in self._edge_set:
            raise DuplicateInputError(f"{edge} exists already")
        if (edge.dst, edge.dst_port) in self._taken:
            raise DuplicateInputError(f"input {edge.dst_port!r} of {dst.title} is already connected")
        if src.network != dst.network:
            raise NetworkMismatchError(f"{src.title} ({src.network}) and {dst.title} ({dst.network}) "
                                       "belong to different networks")
        if edge.src == edge.dst or self.reaches(edge.dst, edge.src):
            raise CycleError(f"connecting {src.title} to {dst.title} would make a cycle")

    # ---- the one way to change the document -------------------------------------------------
    def apply(self, op: Op) -> Op:
        """Perform `op` and return its inverse. Observers hear one event per real change;
        an op that changes nothing (a value set to what it is) emits nothing."""
        handler = _HANDLERS.get(type(op))
        if handler is None:
            raise TypeError(f"not an operation: {op!r}")
        self._index()  # every handler starts from an index that matches `edges`
        return handler(self, op)

    def _add_node(self, op: AddNode) -> Op:
        node = op.node
        if not valid_id(node.id):
            raise GraphError(f"{node.id!r} is not a valid node id (a letter or _, then letters, digits, _; "
                             "or a number)")
        if node.id in self.nodes:
            raise GraphError(f"a node {node.id!r} exists already")
        spec = self._spec_for_type(node.type)
        if not isinstance(node.params, dict):
            raise ParamError(f"the parameters of {node.id} must be name: value pairs")
        params = spec.coerce_params(node.params)
        label, pos = _check_field(node, "label", node.label), _check_field(node, "pos", node.pos)
        network = _check_field(node, "network", node.network)
        trainable = _check_field(node, "trainable", node.trainable)
        node.params, node.label, node.pos, node.network, node.trainable = params, label, pos, network, trainable
        index = len(self.nodes) if op.index is None else max(0, min(op.index, len(self.nodes)))
        if index == len(self.nodes):
            self.nodes[node.id] = node
        else:
            items = list(self.nodes.items())
            items.insert(index, (node.id, node))
            self.nodes = dict(items)
        self._structure_changed()
        self._emit(NodeAdded(node))
        return RemoveNode(node.id)

    def _remove_node(self, op: RemoveNode) -> Op:
        if op.id not in self.nodes:
            raise GraphError(f"no node {op.id!r}")
        if self._into.get(op.id) or self._from.get(op.id):
            raise GraphError(f"{op.id} still has edges; disconnect them first")
        index = list(self.nodes).index(op.id)
        node = self.nodes.pop(op.id)
        self._structure_changed()
        self._emit(NodeRemoved(node))
        return AddNode(node, index)

    def _connect(self, op: Connect) -> Op:
        self.check_connect(op.edge)
        e = op.edge
        appended = op.index is None or op.index >= len(self.edges)
        if appended:
            self.edges.append(e)
            self._into.setdefault(e.dst, []).append(e)
            self._from.setdefault(e.src, []).append(e)
            self._taken.add((e.dst, e.dst_port))
            self._edge_set.add(e)
        else:
            self.edges.insert(max(0, op.index), e)
        self._structure_changed(index_valid=appended)
        self._emit(EdgeAdded(e))
        return Disconnect(e)

    def _disconnect(self, op: Disconnect) -> Op:
        e = op.edge
        if e not in self._edge_set:
            raise GraphError(f"no edge {e}")
        index = self.edges.index(e)
        del self.edges[index]
        self._into[e.dst].remove(e)
        self._from[e.src].remove(e)
        self._taken.discard((e.dst, e.dst_port))
        self._edge_set.discard(e)
        self._structure_changed()
        self._emit(EdgeRemoved(e))
        return Connect(e, index)

    def _set_param(self, op: SetParam) -> Op:
        node = self._node(op.id)
        spec = self.spec(node)
        param = spec.param(op.name)
        old = node.params[op.name] if op.name in node.params else param.default
        value = param.coerce(op.value)
        if _same_value(value, old):
            return SetParam(op.id, op.name, old)
        ports = spec.input_ports(dict(node.params, **{op.name: value}))
        if ports != spec.input_ports(node.params):
            self._check_ports_kept(node, ports)
        node.params = dict(node.params, **{op.name: value})
        node.revision += 1
        self._emit(NodeChanged(node, "params", op.name))
        return SetParam(op.id, op.name, old)

    def _set_field(self, op: SetField) -> Op:
        node = self._node(op.id)
        if op.name not in _FIELDS:
            raise GraphError(f"a node has no field {op.name!r}")
        old = getattr(node, op.name)
        value = _check_field(node, op.name, op.value)
        if _same_value(value, old):
            return SetField(op.id, op.name, old)
        if op.name == "network":
            if self._into.get(op.id) or self._from.get(op.id):
                raise NetworkMismatchError("disconnect a node before moving it to another network")
        setattr(node, op.name, value)
        if op.name != "pos":
            node.revision += 1
        if op.name == "network":
            self._structure_changed()
        self._emit(NodeChanged(node, op.name, op.name))
        return SetField(op.id, op.name, old)

    def _set_composite(self, op: SetComposite) -> Op:
        old = self.composites.get(op.name)
        if op.definition is old:
            return SetComposite(op.name, old)
        users = [n for n in self.nodes.values() if n.type == op.name]
        index = None
        if op.definition is None:
            if users:
                raise GraphError(f"composite {op.name} is still in use")
            index = list(self.composites).index(op.name)
            del self.composites[op.name]
        else:
            if not isinstance(op.definition, CompositeDef) or not isinstance(op.definition.graph, Graph):
                raise GraphError(f"composite {op.name}: not a definition")
            if not valid_name(op.name):
                raise GraphError(f"{op.name!r} cannot name a block (a letter or _, then letters, digits, _)")
            try:
                get_block(op.name)
            except UnknownBlockError:
                pass
            else:
                raise GraphError(f"{op.name!r} is the name of a built-in block")
            from .composite import user_composite_spec
            spec = user_composite_spec(op.definition)
            for n in users:
                for e in self._into.get(n.id, ()):
                    if e.dst_port not in spec.input_ports(n.params):
                        raise GraphError(f"input {e.dst_port} of {n.title} is connected and would vanish")
                for e in self._from.get(n.id, ()):
                    if e.src_port not in spec.outputs:
                        raise GraphError(f"output {e.src_port} of {n.title} is connected and would vanish")
            if old is None and op.index is not None and op.index < len(self.composites):
                items = list(self.composites.items())
                items.insert(max(0, op.index), (op.name, op.definition))
                self.composites.clear()
                self.composites.update(items)
            else:
                self.composites[op.name] = op.definition
        for n in users:
            n.revision += 1
        self._structure_changed()
        self._emit(CompositeChanged(op.name))
        return SetComposite(op.name, old, index)

    def _set_meta(self, op: SetMeta) -> Op:
        if not isinstance(op.key, str) or not op.key or not encodable(op.key):
            raise GraphError(f"{op.key!r} cannot name a document property")
        old = self.meta.get(op.key)
        value = None if op.value is None else json_data(op.value, f"meta {op.key!r}")
        if value == old and type(value) is type(old):
            return SetMeta(op.key, old)
        if value is None:
            self.meta.pop(op.key, None)
        else:
            self.meta[op.key] = value
        self._emit(MetaChanged(op.key))
        return SetMeta(op.key, old)

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
        except (KeyError, TypeError):
            raise GraphError(f"no node {node_id!r}") from None

    def _check_ports_kept(self, node: Node, ports: tuple[str, ...]):
        for e in self.edges_into(node.id):
            if e.dst_port not in ports:
                raise ParamError(f"input {e.dst_port} of {node.title} is connected; disconnect it first")

    # ---- convenience edits, each returning the ops that undo it ------------------------------
    def add_node(self, type_name: str, params: dict | None = None, id: str | None = None,
                 label: str = "", pos=(0.0, 0.0), network: str = DEFAULT_NETWORK,
                 trainable: bool = True) -> Node:
        node = Node(id or self.new_id(type_name), type_name, dict(params or {}), label, pos, network, trainable)
        self.apply(AddNode(node))
        return node

    def connect(self, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None) -> Edge:
        """Connect src to dst; ports default to the first output and the first free input."""
        if src not in self.nodes or dst not in self.nodes:
            raise PortError(f"there is no node {src if src not in self.nodes else dst!r}")
        if src_port is None:
            outs = self.output_ports(src)
            if not outs:
                raise PortError(f"{self.nodes[src].title} has no output")
            src_port = outs[0]
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

    # ---- analysis -----------------------------------------------------------------------------
    def analyze(self, input_shape=None):
        """Shapes, parameter counts, MACs and errors for every node (incremental)."""
        from .analysis import Analyzer
        if self._analyzer is None:
            self._analyzer = Analyzer(self)
        return self._analyzer.run(input_shape)

    def copy(self) -> "Graph":
        """An independent deep copy (shares nothing with this document)."""
        from .fileformat import dumps, loads
        return loads(dumps(self))


_HANDLERS = {AddNode: Graph._add_node, RemoveNode: Graph._remove_node, Connect: Graph._connect,
             Disconnect: Graph._disconnect, SetParam: Graph._set_param, SetField: Graph._set_field,
             SetComposite: Graph._set_composite, SetMeta: Graph._set_meta}


def _same_value(a, b) -> bool:
    """Equal and of the same kind: 1 and 1.0 and True are different values to a document."""
    return type(a) is type(b) and a == b


def _check_field(node: Node, name: str, value):
    """The canonical value of a node field, or GraphError saying why not."""
    if name == "label":
        if not isinstance(value, str) or len(value) > 200 or not encodable(value):
            raise GraphError(f"the label of {node.id} must be text of at most 200 characters")
        return value
    if name == "pos":
        ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e9
            for v in value)
        if not ok:
            raise GraphError(f"the position of {node.id} must be two finite numbers (x, y)")
        return (float(value[0]), float(value[1]))
    if name == "network":
        if not valid_network(value):
            raise GraphError(f"the network of {node.id} must be a name of 1 to 64 characters without '.'")
        return value
    if name == "trainable":
        if not isinstance(value, bool):
            raise GraphError(f"trainable of {node.id} must be true or false")
        return value
    raise GraphError(f"a node has no field {name!r}")
