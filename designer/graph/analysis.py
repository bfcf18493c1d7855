"""Shapes, parameter counts, multiply-adds and errors for every node: pure
arithmetic, incremental, fast enough for every keystroke.

A node's result is cached under its revision and its input shapes, so after an
edit only the nodes whose parameters or incoming shapes changed are computed
again; everything upstream and every unaffected branch is reused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .block import Inference
from .errors import GraphError, ParamError, ShapeError, UnknownBlockError
from .format import shape as fmt_shape
from .model import Graph, Node

BYTES_PER_VALUE = 4  # float32 activations


@dataclass
class NodeInfo:
    id: str
    type: str
    in_shapes: dict = field(default_factory=dict)
    out_shapes: dict = field(default_factory=dict)
    weights: int = 0
    biases: int = 0
    macs: int = 0
    activations: int = 0  # output values per sample
    shape_formula: str = ""
    param_formula: str = ""
    weight_formula: str = ""
    resolved: dict = field(default_factory=dict)
    inner: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blocked: bool = False  # waits on an upstream error; not an error of its own

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def output_shape(self):
        return next(iter(self.out_shapes.values()), None) if self.out_shapes else \
            next(iter(self.in_shapes.values()), None)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.blocked


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    order: list[str]
    errors: list[tuple[str | None, str]]
    warnings: list[tuple[str | None, str]]
    input_shapes: dict[str, tuple]
    output_shapes: dict[str, tuple]
    outputs: list[tuple[str, str]]  # (node id, output name) in return order
    total_params: int = 0
    weight_params: int = 0
    bias_params: int = 0
    trainable_params: int = 0
    macs: int = 0
    activation_values: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def activation_bytes(self) -> int:
        return self.activation_values * BYTES_PER_VALUE

    @property
    def boundary_outputs(self) -> dict[str, tuple]:
        return self.output_shapes

    def shape_of(self, node_id: str, port: str = "out"):
        info = self.nodes.get(node_id)
        return info.out_shapes.get(port) if info else None

    def weight_formula(self) -> str:
        """The lecture's whole-network sum: (5×5)×6 + (5×5×6)×16 + … = 61,470."""
        terms = [self.nodes[i].weight_formula for i in self.order if self.nodes[i].weight_formula]
        return " + ".join(terms) + f" = {self.weight_params:,}"


def topological_order(graph: Graph) -> tuple[list[str], set[str]]:
    """Kahn's algorithm in document order; returns (order, nodes on or after a cycle)."""
    indeg = {i: 0 for i in graph.nodes}
    succ: dict[str, list[str]] = {i: [] for i in graph.nodes}
    for e in graph.edges:
        if e.src in indeg and e.dst in indeg:
            indeg[e.dst] += 1
            succ[e.src].append(e.dst)
    ready = [i for i in graph.nodes if indeg[i] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    stuck = set(graph.nodes) - set(order)
    return order, stuck


class Analyzer:
    """Owns the cache of one graph's analysis."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._order_rev = -1
        self._order: list[str] = []
        self._cycle: set[str] = set()
        self._incoming: dict[str, list] = {}
        self._cache: dict[str, tuple[tuple, NodeInfo]] = {}

    def _structure(self):
        g = self.graph
        if self._order_rev != g.structure_revision:
            self._order, self._cycle = topological_order(g)
            self._incoming = {i: [] for i in g.nodes}
            for e in g.edges:
                if e.dst in self._incoming:
                    self._incoming[e.dst].append(e)
            self._order_rev = g.structure_revision
            alive = set(g.nodes)
            self._cache = {k: v for k, v in self._cache.items() if k in alive}

    def run(self, input_shape=None) -> Analysis:
        g = self.graph
        self._structure()
        overrides = _input_overrides(g, input_shape)
        infos: dict[str, NodeInfo] = {}
        errors: list[tuple[str | None, str]] = []
        warnings: list[tuple[str | None, str]] = []
        for node_id in self._order:
            node = g.nodes[node_id]
            info = self._node(node, infos, overrides.get(node_id))
            infos[node_id] = info
        for node_id in self._cycle:
            infos[node_id] = NodeInfo(node_id, g.nodes[node_id].type,
                                      errors=["is part of a cycle: data would flow in a loop"])
        order = self._order + [i for i in g.nodes if i in self._cycle]
        for node_id in order:
            info = infos[node_id]
            errors += [(node_id, m) for m in info.errors]
            warnings += [(node_id, m) for m in info.warnings]
        input_shapes, outputs, output_shapes = {}, [], {}
        multi = len(g.networks()) > 1
        for net in g.networks():
            members = [i for i in order if g.nodes[i].network == net]
            inputs = [i for i in members if g.nodes[i].type == "Input"]
            prefix = f"{net}." if multi else ""
            if members and not inputs:
                errors.append((None, f"network {net!r} has no Input block" if multi else "the network has no Input block"))
            for i in inputs:
                if infos[i].out_shapes:
                    input_shapes[prefix + g.nodes[i].params["name"]] = infos[i].out_shapes["out"]
            net_outputs = self._outputs(members)
            if members and not net_outputs:
                errors.append((None, "the network has no output"))
            for node_id, name in net_outputs:
                outputs.append((node_id, name))
                shape = infos[node_id].in_shapes.get("in") if g.nodes[node_id].type == "Output" \
                    else infos[node_id].output_shape
                if shape is not None:
                    output_shapes[prefix + name] = shape
        a = Analysis(infos, order, errors, warnings, input_shapes, output_shapes, outputs)
        for node_id in order:
            info, node = infos[node_id], g.nodes[node_id]
            a.weight_params += info.weights
            a.bias_params += info.biases
            a.macs += info.macs
            a.activation_values += info.activations
            if node.trainable:
                a.trainable_params += info.params
        a.total_params = a.weight_params + a.bias_params
        return a

    def _outputs(self, members: list[str]) -> list[tuple[str, str]]:
        g = self.graph
        explicit = [(i, g.nodes[i].params["name"]) for i in members if g.nodes[i].type == "Output"]
        if explicit:
            return explicit
        used = {e.src for e in g.edges}
        return [(i, i) for i in members if i not in used and g.nodes[i].type != "Input"]

    def _node(self, node: Node, infos: dict[str, NodeInfo], override) -> NodeInfo:
        g = self.graph
        try:
            spec = g.spec(node)
        except UnknownBlockError as exc:
            return NodeInfo(node.id, node.type, errors=[str(exc)])
        ins: dict = {}
        blocked = False
        for e in self._incoming.get(node.id, ()):
            src = infos.get(e.src)
            shape = src.out_shapes.get(e.src_port) if src else None
            if shape is None:
                blocked = True
            ins[e.dst_port] = shape
        ports = spec.input_ports(node.params)
        missing = [p for p in ports if p not in ins]
        params = dict(node.params)
        if override is not None:
            params["shape"] = override
        key = (node.revision, node.type, tuple(sorted(ins.items())), override)
        cached = self._cache.get(node.id)
        if cached and cached[0] == key and not spec.type in g.composites:
            return cached[1]
        info = NodeInfo(node.id, node.type, in_shapes={p: ins.get(p) for p in ports})
        if missing:
            names = ", ".join(repr(p) for p in missing)
            info.errors.append(f"input {names} is not connected" if len(missing) == 1
                               else f"inputs {names} are not connected")
        elif blocked:
            info.blocked = True
        else:
            try:
                result: Inference = spec.infer(params, {p: ins[p] for p in ports})
            except (ShapeError, ParamError, GraphError) as exc:
                info.errors.append(str(exc))
            except (ArithmeticError, ValueError, TypeError, KeyError, IndexError) as exc:
                info.errors.append(f"cannot compute this block: {exc}")
            else:
                info.out_shapes = result.outputs
                info.weights, info.biases, info.macs = result.weights, result.biases, result.macs
                info.shape_formula, info.param_formula = result.shape_formula, result.param_formula
                info.weight_formula, info.resolved = result.weight_formula, result.resolved
                info.inner, info.warnings = result.inner, list(result.warnings)
                info.activations = sum(math.prod(s) for s in result.outputs.values())
        if spec.outputs and not info.errors and not g.edges_from(node.id) and node.type != "Input" \
                and any(n.type == "Output" and n.network == node.network for n in g.nodes.values()):
            info.warnings.append("its output is not used")
        self._cache[node.id] = (key, info)
        return info


def _input_overrides(graph: Graph, input_shape) -> dict:
    """--input C,H,W replaces the shape of the (first) Input; a dict names Inputs by id."""
    if input_shape is None:
        return {}
    if isinstance(input_shape, dict):
        return {k: tuple(v) for k, v in input_shape.items()}
    first = next((i for i, n in graph.nodes.items() if n.type == "Input"), None)
    return {first: tuple(input_shape)} if first else {}


def analyze_inner(inside: Graph, shapes: dict[str, tuple]) -> Analysis:
    """Analyse a composite's inside with its Inputs fed the given port shapes."""
    by_name = {n.params["name"]: n.id for n in inside.nodes.values() if n.type == "Input"}
    missing = [p for p in by_name if p not in shapes]
    if missing:
        raise ShapeError(f"port {missing[0]} is not connected")
    return inside.analyze({by_name[p]: tuple(s) for p, s in shapes.items() if p in by_name})


def describe(a: Analysis) -> str:
    """One line for a status bar."""
    outs = ", ".join(f"{k} {fmt_shape(v)}" for k, v in a.output_shapes.items())
    return f"{a.total_params:,} parameters, {a.macs:,} MACs, outputs {outs}, {len(a.errors)} errors"
