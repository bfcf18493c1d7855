"""Shapes, parameter counts, multiply-adds and errors for every node: pure
arithmetic, incremental, fast enough for every keystroke.

A node's result is cached under its revision and its input shapes, so after an
edit only the nodes whose parameters or incoming shapes changed are computed
again; everything upstream and every unaffected branch is reused.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace

from .block import Inference, get_block
from .errors import GraphError, ShapeError, UnknownBlockError
from .format import shape as fmt_shape
from .model import Graph, Node
from .params import Param

BYTES_PER_VALUE = 4  # float32 activations
_INPUT_SHAPE = Param("shape", "shape", (1,), label="shape")


@dataclass(slots=True)
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
    ready = deque(i for i in graph.nodes if indeg[i] == 0)
    order: list[str] = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for m in succ[n]:
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    stuck = set(graph.nodes) - set(order)
    return order, stuck


def cycle_members(graph: Graph, stuck: set[str]) -> set[str]:
    """The nodes of `stuck` that lie on a cycle themselves (the rest only wait downstream of
    one): strongly connected components with more than one node, or a node fed by itself."""
    succ: dict[str, list[str]] = {i: [] for i in stuck}
    for e in graph.edges:
        if e.src in stuck and e.dst in stuck:
            succ[e.src].append(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    members: set[str] = set()
    for root in (i for i in graph.nodes if i in stuck):
        if root in index:
            continue
        work = [(root, iter(succ[root]))]  # Tarjan's algorithm without recursion
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1 or v in succ[v]:
                        members.update(component)
    return members


@dataclass
class _Structure:
    """What the analysis needs from the wiring; recomputed only when the wiring changes."""
    order: list[str]
    on_cycle: set[str]
    after_cycle: set[str]
    incoming: dict[str, tuple]  # node id -> ((dst port, src id, src port), ...)
    consumed: set[str]          # nodes whose output feeds something
    networks: list[str]
    members: dict[str, list[str]]  # network -> node ids in analysis order
    has_output_node: set[str]   # networks that mark their results with Output nodes
    unused: set[str]            # nodes whose result goes nowhere though their network has Outputs
    specs: dict                 # node id -> its built-in BlockSpec (None: a user composite, looked up live)
    inputs: dict[str, list[str]]   # network -> its Input nodes
    results: dict[str, list[str]]  # network -> the nodes it returns: Output nodes, else its sinks


def _structure_of(g: Graph) -> _Structure:
    order, stuck = topological_order(g)
    on_cycle = cycle_members(g, stuck) if stuck else set()
    incoming: dict[str, list] = {i: [] for i in g.nodes}
    consumed = set()
    for e in g.edges:
        if e.dst in incoming:
            incoming[e.dst].append((e.dst_port, e.src, e.src_port))
        consumed.add(e.src)
    full_order = order + [i for i in g.nodes if i in stuck] if stuck else order
    nodes = g.nodes
    members: dict[str, list[str]] = {}
    for i in full_order:
        members.setdefault(nodes[i].network, []).append(i)
    inputs: dict[str, list[str]] = {}
    output_nodes: dict[str, list[str]] = {}
    specs, unused = {}, set()
    for i, n in nodes.items():  # document order, the one order a person controls: a VAE returns
        if n.type == "Input":  # recon, mu, logvar although mu and logvar are computed first
            inputs.setdefault(n.network, []).append(i)
        elif n.type == "Output":
            output_nodes.setdefault(n.network, []).append(i)
    has_output = set(output_nodes)
    for i, n in nodes.items():
        try:
            spec = None if n.type in g.composites else get_block(n.type)
        except UnknownBlockError:
            spec = None
        specs[i] = spec
        outputs = spec.outputs if spec is not None else ("out",)
        if outputs and i not in consumed and n.type != "Input" and n.network in has_output:
            unused.add(i)
    networks = g.networks()
    results = {net: output_nodes[net] if net in output_nodes else
               [i for i in members.get(net, []) if i not in consumed and nodes[i].type != "Input"]
               for net in networks}
    return _Structure(order, on_cycle, stuck - on_cycle, {k: tuple(v) for k, v in incoming.items()},
                      consumed, networks, members, has_output, unused, specs, inputs, results)


class Analyzer:
    """Owns the cache of one graph's analysis."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._rev = None
        self._s: _Structure | None = None
        self._cache: dict[str, tuple[tuple, NodeInfo]] = {}

    def _structure(self) -> _Structure:
        g = self.graph
        key = (g.structure_revision, id(g.edges), len(g.edges), id(g.nodes), len(g.nodes))
        if self._rev != key:
            self._s = _structure_of(g)
            self._rev = key
            alive = g.nodes
            self._cache = {k: v for k, v in self._cache.items() if k in alive}
        return self._s

    def run(self, input_shape=None) -> Analysis:
        g = self.graph
        s = self._structure()
        overrides = _input_overrides(g, input_shape)
        infos: dict[str, NodeInfo] = {}
        node_fn = self._node
        for node_id in s.order:
            infos[node_id] = node_fn(node_id, infos, overrides.get(node_id) if overrides else None, s)
        for node_id in s.on_cycle:
            infos[node_id] = NodeInfo(node_id, g.nodes[node_id].type,
                                      errors=["is part of a cycle: data would flow in a loop"])
        for node_id in s.after_cycle:
            infos[node_id] = NodeInfo(node_id, g.nodes[node_id].type, blocked=True)
        order = s.order + [i for i in g.nodes if i in s.on_cycle or i in s.after_cycle] \
            if (s.on_cycle or s.after_cycle) else s.order
        errors: list[tuple[str | None, str]] = []
        warnings: list[tuple[str | None, str]] = []
        input_shapes, outputs, output_shapes = {}, [], {}
        multi = len(s.networks) > 1
        nodes = g.nodes
        for net in s.networks:
            members = s.members.get(net)
            prefix = f"{net}." if multi else ""
            where = f"network {net!r}" if multi else "the network"
            inputs = s.inputs.get(net, [])
            if members and not inputs:
                errors.append((None, f"{where} has no Input block"))
            if len(inputs) > 1:
                self._check_names(inputs, "Input", infos)
            for i in inputs:
                if infos[i].out_shapes:
                    input_shapes[prefix + nodes[i].params["name"]] = infos[i].out_shapes["out"]
            returned = s.results[net]
            marked = net in s.has_output_node
            if marked and len(returned) > 1:
                self._check_names(returned, "Output", infos)
            if members and not returned:
                errors.append((None, f"{where} has no output"))
            for node_id in returned:
                name = nodes[node_id].params["name"] if marked else node_id
                outputs.append((node_id, name))
                info = infos[node_id]
                shape = info.in_shapes.get("in") if marked else info.output_shape
                if shape is not None:
                    output_shapes[prefix + name] = shape
        node_errors: list[tuple[str | None, str]] = []
        weights = biases = macs = activations = trainable = 0
        nodes = g.nodes
        for node_id in order:
            info = infos[node_id]
            if info.errors:
                node_errors += [(node_id, m) for m in info.errors]
            if info.warnings:
                warnings += [(node_id, m) for m in info.warnings]
            weights += info.weights
            biases += info.biases
            macs += info.macs
            activations += info.activations
            if nodes[node_id].trainable:
                trainable += info.weights + info.biases
        return Analysis(infos, order, node_errors + errors, warnings, input_shapes, output_shapes, outputs,
                        total_params=weights + biases, weight_params=weights, bias_params=biases,
                        trainable_params=trainable, macs=macs, activation_values=activations)

    def _check_names(self, ids: list[str], kind: str, infos: dict[str, NodeInfo]):
        """Inputs name the forward() arguments and Outputs the results: a name used twice
        in one network is an error on every node after the first."""
        seen: set[str] = set()
        for i in ids:
            name = self.graph.nodes[i].params["name"]
            if name in seen:
                info = infos[i]
                infos[i] = replace(info, errors=info.errors + [f"another {kind} of this network is "
                                                              f"already named {name!r}"])
            seen.add(name)

    def _node(self, node_id: str, infos: dict[str, NodeInfo], override, s: _Structure) -> NodeInfo:
        g = self.graph
        node = g.nodes[node_id]
        spec = s.specs[node_id]
        if spec is None:  # a user composite (its definition may change), or an unknown type
            try:
                spec = g._spec_for_type(node.type)
            except UnknownBlockError as exc:
                return NodeInfo(node_id, node.type, errors=[str(exc)])
        shapes = tuple([(port, infos[src].out_shapes.get(src_port))
                        for port, src, src_port in s.incoming[node_id]])
        unused = node_id in s.unused
        key = (node.revision, node.type, shapes, override, unused)
        cached = self._cache.get(node_id)
        if cached is not None and cached[0] == key and node.type not in g.composites:
            return cached[1]
        info = self._infer(node, spec, dict(shapes), override)
        if unused and not info.errors:
            info.warnings.append("its output is not used")
        self._cache[node_id] = (key, info)
        return info

    def _infer(self, node: Node, spec, ins: dict, override) -> NodeInfo:
        ports = spec.input_ports(node.params)
        in_shapes = {p: ins.get(p) for p in ports}
        if isinstance(override, _BadShape):
            return NodeInfo(node.id, node.type, in_shapes, errors=[override.message])
        missing = [p for p in ports if p not in ins]
        if missing:
            names = ", ".join(repr(p) for p in missing)
            return NodeInfo(node.id, node.type, in_shapes,
                            errors=[f"input {names} is not connected" if len(missing) == 1
                                    else f"inputs {names} are not connected"])
        if None in in_shapes.values():
            return NodeInfo(node.id, node.type, in_shapes, blocked=True)
        params = node.params if override is None else dict(node.params, shape=override)
        try:
            r: Inference = spec.infer(params, in_shapes)
        except GraphError as exc:
            message = str(exc)
        except RecursionError:
            message = "cannot compute this block: it is nested too deeply"
        except Exception as exc:  # noqa: BLE001 - a rule's slip must not take the window down
            message = f"cannot compute this block: {exc}"
        else:
            activations = 0
            for shape in r.outputs.values():
                activations += math.prod(shape)
            return NodeInfo(node.id, node.type, in_shapes, r.outputs, r.weights, r.biases, r.macs, activations,
                            r.shape_formula, r.param_formula, r.weight_formula, r.resolved, r.inner,
                            [], list(r.warnings))
        return NodeInfo(node.id, node.type, in_shapes, errors=[message])


@dataclass(frozen=True)
class _BadShape:
    """An input shape given to analyze() that an Input cannot take; reported on that Input."""
    message: str


def _input_overrides(graph: Graph, input_shape) -> dict:
    """--input C,H,W replaces the shape of the (first) Input; a dict names Inputs by id."""
    if input_shape is None:
        return {}
    given = dict(input_shape) if isinstance(input_shape, dict) else \
        {next((i for i, n in graph.nodes.items() if n.type == "Input"), None): input_shape}
    out = {}
    for node_id, value in given.items():
        node = graph.nodes.get(node_id) if isinstance(node_id, str) else None
        if node is None or node.type != "Input":
            continue
        try:
            out[node_id] = _INPUT_SHAPE.coerce(list(value) if isinstance(value, (list, tuple)) else value)
        except GraphError as exc:
            out[node_id] = _BadShape(f"the input shape given: {exc}")
    return out


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
