"""Shapes, parameter counts, multiply-adds and errors for every node: pure
arithmetic, incremental, fast enough for every keystroke.

A node's result is cached under its revision and its input shapes, so after an
edit only the nodes whose parameters or incoming shapes changed are computed
again; everything upstream and every unaffected branch is reused. What the
wiring alone decides (the order, each node's incoming edges) is worked out once
per wiring, and the formula texts only when someone reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from .block import Inference, get_block
from .errors import GraphError, ShapeError, UnknownBlockError
from .format import shape as fmt_shape
from .model import Graph, Node
from .order import topological_order
from .params import Param

BYTES_PER_VALUE = 4  # float32 activations
_INPUT_SHAPE = Param("shape", "shape", (1,), label="shape")


class NodeInfo:
    """What the analysis says about one node. The formulas are written, and the empty lists
    made, only when first read: a full analysis makes hundreds of these, and a person reads
    a few (see Inference.formulas)."""

    __slots__ = ("id", "type", "in_shapes", "out_shapes", "weights", "biases", "macs", "activations",
                 "_shape_formula", "_param_formula", "_weight_formula", "_formulas",
                 "resolved", "_inner", "_errors", "_warnings", "blocked")
    _FIELDS = ("id", "type", "in_shapes", "out_shapes", "weights", "biases", "macs", "activations",
               "shape_formula", "param_formula", "weight_formula", "resolved", "inner", "errors",
               "warnings", "blocked")

    def __init__(self, id: str, type: str, in_shapes: dict | None = None, out_shapes: dict | None = None,
                 weights: int = 0, biases: int = 0, macs: int = 0, activations: int = 0,
                 shape_formula: str = "", param_formula: str = "", weight_formula: str = "",
                 resolved: dict | None = None, inner: list | None = None, errors: list[str] | None = None,
                 warnings: list[str] | None = None, blocked: bool = False, formulas=None):
        self.id = id
        self.type = type
        self.in_shapes = {} if in_shapes is None else in_shapes
        self.out_shapes = {} if out_shapes is None else out_shapes
        self.weights = weights
        self.biases = biases
        self.macs = macs
        self.activations = activations  # output values per sample
        self._shape_formula = shape_formula
        self._param_formula = param_formula
        self._weight_formula = weight_formula
        self._formulas = formulas  # None, or the function that writes the three formulas
        self.resolved = {} if resolved is None else resolved
        self._inner = inner or None  # None: an empty list, made when first read
        self._errors = errors or None
        self._warnings = warnings or None
        self.blocked = blocked  # waits on an upstream error; not an error of its own

    @property
    def inner(self) -> list:
        """Composites: one inner Analysis per repetition."""
        if self._inner is None:
            self._inner = []
        return self._inner

    @inner.setter
    def inner(self, value: list):
        self._inner = value

    @property
    def errors(self) -> list[str]:
        if self._errors is None:
            self._errors = []
        return self._errors

    @errors.setter
    def errors(self, value: list[str]):
        self._errors = value

    @property
    def warnings(self) -> list[str]:
        if self._warnings is None:
            self._warnings = []
        return self._warnings

    @warnings.setter
    def warnings(self, value: list[str]):
        self._warnings = value

    def _write_formulas(self):
        write, self._formulas = self._formulas, None
        self._shape_formula, self._param_formula, self._weight_formula = write()

    @property
    def shape_formula(self) -> str:
        if self._formulas is not None:
            self._write_formulas()
        return self._shape_formula

    @shape_formula.setter
    def shape_formula(self, text: str):
        if self._formulas is not None:
            self._write_formulas()
        self._shape_formula = text

    @property
    def param_formula(self) -> str:
        if self._formulas is not None:
            self._write_formulas()
        return self._param_formula

    @param_formula.setter
    def param_formula(self, text: str):
        if self._formulas is not None:
            self._write_formulas()
        self._param_formula = text

    @property
    def weight_formula(self) -> str:
        if self._formulas is not None:
            self._write_formulas()
        return self._weight_formula

    @weight_formula.setter
    def weight_formula(self, text: str):
        if self._formulas is not None:
            self._write_formulas()
        self._weight_formula = text

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return "NodeInfo(" + ", ".join(f"{name}={value!r}" for name, value in
                                       zip(self._FIELDS, self._values())) + ")"

    @classmethod
    def _of_rule(cls, node_id: str, type_: str, in_shapes: dict, r: Inference) -> "NodeInfo":
        """The result of a rule that accepted its inputs: the analysis makes hundreds of these,
        so every slot is set here directly rather than through __init__'s defaults."""
        info = object.__new__(cls)
        info.id = node_id
        info.type = type_
        info.in_shapes = in_shapes
        info.out_shapes = r.outputs
        info.weights = r.weights
        info.biases = r.biases
        info.macs = r.macs
        activations = r.activations
        if activations is None:
            activations = 0
            for shape in r.outputs.values():
                activations += prod(shape)
        info.activations = activations
        info._shape_formula = r.shape_formula
        info._param_formula = r.param_formula
        info._weight_formula = r.weight_formula
        info._formulas = r.formulas
        info.resolved = r.resolved or {}
        info._inner = r.inner or None
        info._errors = None
        info._warnings = list(r.warnings) if r.warnings else None
        info.blocked = False
        return info

    def _with_error(self, message: str) -> "NodeInfo":
        """A copy with one more error (the cached original stays as it was)."""
        return NodeInfo(self.id, self.type, self.in_shapes, self.out_shapes, self.weights, self.biases,
                        self.macs, self.activations, self._shape_formula, self._param_formula,
                        self._weight_formula, self.resolved, self._inner, self.errors + [message],
                        self._warnings, self.blocked, self._formulas)

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def output_shape(self):
        return next(iter(self.out_shapes.values()), None) if self.out_shapes else \
            next(iter(self.in_shapes.values()), None)

    @property
    def ok(self) -> bool:
        return not self._errors and not self.blocked


@dataclass(slots=True)
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
class Structure:
    """What the analysis needs from the wiring; recomputed only when the wiring changes."""
    order: list[str]
    on_cycle: set[str]
    after_cycle: set[str]
    networks: list[str]
    members: dict[str, list[str]]  # network -> node ids in analysis order
    has_output_node: set[str]   # networks that mark their results with Output nodes
    inputs: dict[str, list[str]]   # network -> its Input nodes
    results: dict[str, list[str]]  # network -> the nodes it returns: Output nodes, else its sinks
    # the per-node loop's input, in analysis order: (node id, its built-in BlockSpec or None for
    # a user composite (looked up live) or an unknown type, ((dst port, src id, src port), …),
    # whether those feed the block's own ports in order, whether its result goes nowhere though
    # its network has Outputs)
    steps: tuple


def structure_of(g: Graph) -> Structure:
    """The wiring's part of the analysis. A pure function of the node ids, types and networks
    (in document order) and of the edges, so graphs wired alike may share one."""
    nodes = g.nodes
    incoming: dict[str, list] = {i: [] for i in nodes}
    succ: dict[str, list[str]] = {i: [] for i in nodes}
    consumed = set()
    for e in g.edges:
        src, dst = e.src, e.dst
        consumed.add(src)
        if dst in incoming:
            incoming[dst].append((e.dst_port, src, e.src_port))
            if src in succ:
                succ[src].append(dst)
    order, stuck = topological_order(nodes, succ, "arrival")
    on_cycle = cycle_members(g, stuck) if stuck else set()
    # document order, the one order a person controls: a VAE returns recon, mu, logvar
    # although mu and logvar are computed first
    inputs: dict[str, list[str]] = {}
    output_nodes: dict[str, list[str]] = {}
    seen_networks: dict[str, None] = {}
    specs: dict[str, object] = {}
    spec_of_type: dict[str, object] = {}
    sinks = []  # nodes with an output that feeds nothing
    for i, n in nodes.items():
        t = n.type
        if t == "Input":
            inputs.setdefault(n.network, []).append(i)
        elif t == "Output":
            output_nodes.setdefault(n.network, []).append(i)
        seen_networks[n.network] = None
        if t in spec_of_type:
            spec = spec_of_type[t]
        else:
            try:
                spec = None if t in g.composites else get_block(t)
            except UnknownBlockError:
                spec = None
            spec_of_type[t] = spec
        specs[i] = spec
        if i not in consumed and t != "Input" and (spec is None or spec.outputs):
            sinks.append(i)
    has_output = set(output_nodes)
    unused = {i for i in sinks if nodes[i].network in has_output}
    full_order = order + [i for i in nodes if i in stuck] if stuck else order
    if len(seen_networks) == 1:  # the usual document: one network
        members = {next(iter(seen_networks)): list(full_order)}
    else:
        members = {}
        for i in full_order:
            members.setdefault(nodes[i].network, []).append(i)
    networks = list(seen_networks) or g.networks()
    results = {net: output_nodes[net] if net in output_nodes else
               [i for i in members.get(net, []) if i not in consumed and nodes[i].type != "Input"]
               for net in networks}
    steps = []
    for i in order:
        spec, feeds = specs[i], tuple(incoming[i])
        # the common case: fixed ports, each fed once, in port order; the dict of incoming shapes
        # is then the node's in_shapes as it stands, without asking the block for its ports (ports
        # that depend on the parameters, Add's and Concat's, are a function: never equal, asked live)
        wired = (feeds[0][0],) if len(feeds) == 1 else tuple([port for port, _, _ in feeds])
        in_order = spec is not None and wired == spec.inputs
        steps.append((i, spec, feeds, in_order, i in unused))
    return Structure(order, on_cycle, stuck - on_cycle, networks, members, has_output, inputs, results,
                      tuple(steps))


class Analyzer:
    """Owns the cache of one graph's analysis. `structure`, when given, is the graph's
    wiring worked out beforehand (a generated inside shares it with its look-alikes);
    `remember=False` keeps no cache, for a graph analysed once (a generated inside, whose
    result its composite remembers)."""

    def __init__(self, graph: Graph, structure: Structure | None = None, remember: bool = True):
        self.graph = graph
        self._s = structure
        self._rev = self._structure_key() if structure is not None else None
        self._cache: dict[str, tuple[tuple, NodeInfo]] | None = {} if remember else None

    def _structure_key(self) -> tuple:
        g = self.graph
        return (g.structure_revision, id(g.edges), len(g.edges), id(g.nodes), len(g.nodes))

    def _structure(self) -> Structure:
        key = self._structure_key()
        if self._rev != key:
            self._s = structure_of(self.graph)
            self._rev = key
            if self._cache:
                alive = self.graph.nodes
                self._cache = {k: v for k, v in self._cache.items() if k in alive}
        return self._s

    def run(self, input_shape=None) -> Analysis:
        g = self.graph
        s = self._structure()
        infos = self._node_infos(s, _input_overrides(g, input_shape))
        for node_id in s.on_cycle:
            infos[node_id] = NodeInfo(node_id, g.nodes[node_id].type,
                                      errors=["is part of a cycle: data would flow in a loop"])
        for node_id in s.after_cycle:
            infos[node_id] = NodeInfo(node_id, g.nodes[node_id].type, blocked=True)
        # a copy: the structure's own list outlives this analysis (and may be shared)
        order = s.order + [i for i in g.nodes if i in s.on_cycle or i in s.after_cycle] \
            if (s.on_cycle or s.after_cycle) else list(s.order)
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
        for node_id in order:
            info = infos[node_id]
            if info._errors:
                node_errors += [(node_id, m) for m in info._errors]
            if info._warnings:
                warnings += [(node_id, m) for m in info._warnings]
            weights += info.weights
            biases += info.biases
            macs += info.macs
            activations += info.activations
            if nodes[node_id].trainable:
                trainable += info.weights + info.biases
        return Analysis(infos, order, node_errors + errors, warnings, input_shapes, output_shapes, outputs,
                        total_params=weights + biases, weight_params=weights, bias_params=biases,
                        trainable_params=trainable, macs=macs, activation_values=activations)

    def _node_infos(self, s: Structure, overrides: dict) -> dict[str, NodeInfo]:
        """The result of every node in topological order. A node's result is reused while its
        revision, its input shapes, the shape given to it and whether its output is used stay
        the same; a user composite's is always recomputed (its definition may have changed)."""
        g = self.graph
        nodes, composites, cache = g.nodes, g.composites, self._cache
        infos: dict[str, NodeInfo] = {}
        for node_id, spec, incoming, in_order, unused in s.steps:
            node = nodes[node_id]
            if len(incoming) == 1:  # most blocks: one edge in, no comprehension to run
                port, src, src_port = incoming[0]
                ins = {port: infos[src].out_shapes.get(src_port)}
            else:
                ins = {port: infos[src].out_shapes.get(src_port) for port, src, src_port in incoming}
            override = overrides.get(node_id) if overrides else None
            if cache is not None:
                key = (node.revision, node.type, ins, override, unused)
                cached = cache.get(node_id)
                if cached is not None and cached[0] == key and node.type not in composites:
                    infos[node_id] = cached[1]
                    continue
            if spec is None:  # a user composite (its definition may change), or an unknown type
                try:
                    spec = g._spec_for_type(node.type)
                except UnknownBlockError as exc:
                    infos[node_id] = NodeInfo(node_id, node.type, errors=[str(exc)])
                    continue
            # `in_order`: the edges feed every port of the block, in order (the common case)
            in_shapes = ins if in_order else {p: ins.get(p) for p in spec.input_ports(node.params)}
            if override is not None or None in in_shapes.values():
                info = _unusual(node, spec, ins, in_shapes, override)
            else:
                try:
                    r = spec.infer(node.params, in_shapes)
                except Exception as exc:  # noqa: BLE001 - a rule's refusal is the node's error
                    info = NodeInfo(node_id, node.type, in_shapes, errors=[_refusal(exc)])
                else:
                    info = NodeInfo._of_rule(node_id, node.type, in_shapes, r)
            if unused and not info._errors:
                info.warnings.append("its output is not used")
            if cache is not None:
                cache[node_id] = (key, info)
            infos[node_id] = info
        return infos

    def _check_names(self, ids: list[str], kind: str, infos: dict[str, NodeInfo]):
        """Inputs name the forward() arguments and Outputs the results: a name used twice
        in one network is an error on every node after the first."""
        seen: set[str] = set()
        for i in ids:
            name = self.graph.nodes[i].params["name"]
            if name in seen:
                infos[i] = infos[i]._with_error(f"another {kind} of this network is already named {name!r}")
            seen.add(name)


def _unusual(node: Node, spec, ins: dict, in_shapes: dict, override) -> NodeInfo:
    """A node's result when a shape is given from outside (`override`, an Input's) or an input
    shape is missing: `ins` the shapes its edges bring, `in_shapes` the same by the block's ports
    (None: not connected, or not known upstream)."""
    if isinstance(override, _BadShape):
        return NodeInfo(node.id, node.type, in_shapes, errors=[override.message])
    if None in in_shapes.values():  # an unconnected port, or an upstream node without a result
        missing = [p for p in in_shapes if p not in ins]
        if missing:
            names = ", ".join(repr(p) for p in missing)
            return NodeInfo(node.id, node.type, in_shapes,
                            errors=[f"input {names} is not connected" if len(missing) == 1
                                    else f"inputs {names} are not connected"])
        return NodeInfo(node.id, node.type, in_shapes, blocked=True)
    params = node.params if override is None else dict(node.params, shape=override)
    try:
        r: Inference = spec.infer(params, in_shapes)
    except Exception as exc:  # noqa: BLE001 - a rule's refusal is the node's error
        return NodeInfo(node.id, node.type, in_shapes, errors=[_refusal(exc)])
    return NodeInfo._of_rule(node.id, node.type, in_shapes, r)


def _refusal(exc: Exception) -> str:
    """A rule's refusal in words: its own message, or what went wrong in it (a rule's slip
    must not take the window down)."""
    if isinstance(exc, GraphError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "cannot compute this block: it is nested too deeply"
    return f"cannot compute this block: {exc}"


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
