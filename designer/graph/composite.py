"""Composite blocks: a node whose inside is a graph.

Built-in composites (Inception, Residual) generate their inside from their own
parameters and the incoming shape; a user's composite (made with Group) stores
its inside in the document. Either way the inside's Input and Output nodes are
the composite's ports, and `repeat` chains the inside several times.
"""
from __future__ import annotations

from functools import lru_cache, partial

from .analysis import Analyzer, Structure, analyze_inner, structure_of
from .block import BlockSpec, Inference, get_block, register
from .errors import GraphError, ShapeError
from .format import count, shape as fmt_shape
from .model import (AddNode, CompositeDef, Connect, Edge, Graph, Node, Op, SetComposite, valid_name)
from .params import Param

REPEAT = Param("repeat", "int", 1, "Chain this block N times (each copy has its own weights).", min=1, max=64)


def boundary(graph: Graph, type_name: str) -> list[Node]:
    return [n for n in graph.nodes.values() if n.type == type_name]


def port_names(graph: Graph, type_name: str) -> tuple[str, ...]:
    return tuple(n.params["name"] for n in boundary(graph, type_name))


def composite_infer(expand, memo: bool = False):
    """The shape rule of every composite: analyse the inside, chained `repeat` times.
    With `memo` (built-in composites, whose inside is a pure function of their parameters
    and input shapes) the result is remembered process-wide."""
    def infer(p, ins):
        repeat = p.get("repeat", 1)
        shapes = dict(ins)
        inner_results = []
        weights = biases = macs = activations = 0
        for i in range(repeat):
            inner_graph = expand(p, shapes)
            result = analyze_inner(inner_graph, shapes)
            if result.errors:
                node_id, msg = result.errors[0]
                where = f" (copy {i + 1})" if repeat > 1 else ""
                raise ShapeError(f"inside, at {node_id}{where}: {msg}")
            inner_results.append(result)
            weights += result.weight_params
            biases += result.bias_params
            macs += result.macs
            # every value computed inside; the inner Inputs only stand for the block's inputs
            activations += result.activation_values - sum(
                result.nodes[n].activations for n in result.order if result.nodes[n].type == "Input")
            outs = result.boundary_outputs
            if i + 1 < repeat:
                if len(outs) != 1 or len(shapes) != 1:
                    raise ShapeError("repeat needs a block with one input and one output")
                shapes = {next(iter(shapes)): next(iter(outs.values()))}
        return Inference(outs, weights, biases, macs, inner=inner_results, activations=activations,
                         formulas=partial(_composite_formulas, weights + biases, repeat, ins, outs))

    if not memo:
        return infer
    results: dict = {}
    _MEMOS.append(results)

    def remembered(p, ins):
        key = (_freeze(p), tuple(ins.items()))
        hit = results.get(key)
        if hit is None:
            hit = infer(p, ins)
            if len(results) >= 2048:
                results.clear()
            results[key] = hit
        return hit
    return remembered


def _composite_formulas(n: int, repeat: int, ins: dict, outs: dict) -> tuple[str, str, str]:
    shapes = [fmt_shape(v) for v in ins.values()][:1] + [fmt_shape(v) for v in outs.values()]
    return " → ".join(shapes), f"{count(n)} inside" + (f" ({repeat} copies)" if repeat > 1 else ""), ""


_MEMOS: list[dict] = []


def clear_caches():
    """Forget every generated inside and remembered result (benchmarks time the cold path)."""
    for memo in _MEMOS:
        memo.clear()
    _inception_graph.cache_clear()
    _residual_graph.cache_clear()
    _WIRINGS.clear()


def _freeze(d: dict) -> tuple:
    return tuple(sorted(d.items()))


@lru_cache(maxsize=None)
def _defaults(type_name: str) -> dict:
    """A block type's default parameters (shared: copy before changing)."""
    return get_block(type_name).defaults()


class _Sketch:
    """Draws a generated inside without the per-edit checks of the document API, which
    cost more than the analysis itself: the generators below are ours, and the tests load
    what they draw through the checked path (test_model_ops).

    The wiring of an inside (ids, types, edges) depends only on a few of its parameters
    (Inception's variant; Residual's kind, shortcut, batch norm and projection), never on
    the numbers, so insides drawn alike share their Edge objects and the analysis' view of
    their wiring: worked out once, not once per module."""

    def __init__(self):
        self.graph = Graph()
        self._fed: dict[str, int] = {}
        # (id, type) per node and (src, dst, k: dst's k-th input) per edge, in drawing order
        self._wiring: list[tuple] = []

    def add_node(self, type_name: str, params: dict | None = None, id: str = "", pos=(0.0, 0.0)):
        # the generators pass canonical values (ints, tuples), so the defaults need only the overlay
        self.graph.nodes[id] = Node(id, type_name, {**_defaults(type_name), **params} if params else
                                    dict(_defaults(type_name)), "", (float(pos[0]), float(pos[1])))
        self._wiring.append((id, type_name))

    def add_composite(self, definition: CompositeDef, id: str, pos=(0.0, 0.0)):
        """A node standing for a composite defined inside this generated graph."""
        self.graph.composites[definition.name] = definition
        self.graph.nodes[id] = Node(id, definition.name, {"repeat": 1}, "", (float(pos[0]), float(pos[1])))
        self._wiring.append((id, definition.name))

    def connect(self, src: str, dst: str):
        """To the next free input of dst, in port order (in1, in2, … for Add and Concat)."""
        k = self._fed.get(dst, 0)
        self._fed[dst] = k + 1
        self._wiring.append((src, dst, k))

    def done(self) -> Graph:
        g = self.graph
        edges, structure = _wiring(tuple(self._wiring), g)
        g.edges = list(edges)
        g.structure_revision += 1
        g._analyzer = Analyzer(g, structure, remember=False)
        return g


def _wiring(key: tuple, graph: Graph) -> tuple[tuple[Edge, ...], Structure]:
    """The edges and the analysis structure of the insides wired as `key` says (`graph` is
    one of them, drawn but for its edges). A block type names its k-th input alike whatever
    its parameters (in1, in2, … for Add and Concat), so the names are looked up once."""
    hit = _WIRINGS.get(key)
    if hit is None:
        nodes = graph.nodes
        edges = tuple(Edge(src, "out", dst, graph.input_ports(nodes[dst])[k])
                      for src, dst, k in (item for item in key if len(item) == 3))
        graph.edges = list(edges)
        hit = _WIRINGS[key] = (edges, structure_of(graph))
    return hit


_WIRINGS: dict[tuple, tuple] = {}  # a handful: one per variant of each built-in composite


# ---- Inception ---------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _inception_graph(frozen: tuple, in_shape: tuple) -> Graph:
    p = dict(frozen)
    g = _Sketch()
    g.add_node("Input", {"shape": in_shape, "name": "in"}, id="x", pos=(300, 0))
    naive = p["variant"] == "naive"
    y = 120

    def conv(id_, k, c, src, x, yy):
        g.add_node("Conv2d", {"out_channels": c, "kernel_size": k, "padding": k // 2}, id=id_, pos=(x, yy))
        g.connect(src, id_)
        g.add_node("ReLU", id=id_ + "_relu", pos=(x, yy + 80))
        g.connect(id_, id_ + "_relu")
        return id_ + "_relu"

    ends = [conv("branch1", 1, p["c1x1"], "x", 0, y)]
    if naive:
        ends.append(conv("branch2", 3, p["c3x3"], "x", 200, y))
        ends.append(conv("branch3", 5, p["c5x5"], "x", 400, y))
        g.add_node("MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}, id="branch4", pos=(600, y))
        g.connect("x", "branch4")
        ends.append("branch4")
    else:
        r = conv("branch2_reduce", 1, p["c3x3_reduce"], "x", 200, y)
        ends.append(conv("branch2", 3, p["c3x3"], r, 200, y + 160))
        r = conv("branch3_reduce", 1, p["c5x5_reduce"], "x", 400, y)
        ends.append(conv("branch3", 5, p["c5x5"], r, 400, y + 160))
        g.add_node("MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}, id="branch4_pool", pos=(600, y))
        g.connect("x", "branch4_pool")
        ends.append(conv("branch4", 1, p["pool_proj"], "branch4_pool", 600, y + 160))
    g.add_node("Concat", {"num_inputs": 4}, id="concat", pos=(300, y + 360))
    for e in ends:
        g.connect(e, "concat")
    g.add_node("Output", {"name": "out"}, id="y", pos=(300, y + 440))
    g.connect("concat", "y")
    return g.done()


def _inception_expand(p, ins):
    key = {k: v for k, v in p.items() if k != "repeat"}
    return _inception_graph(_freeze(key), tuple(ins["in"]))


def _ch(name, default, help_):
    return Param(name, "int", default, help_, min=1, max=65536)


register(BlockSpec(
    "Inception", "Composite",
    "GoogLeNet's Inception module: 1×1, 3×3 and 5×5 convolutions and a pooled branch side by side, "
    "concatenated; 1×1 reductions before the large kernels keep it cheap.",
    (_ch("c1x1", 64, "#1×1: filters of the 1×1 branch."),
     _ch("c3x3_reduce", 96, "#3×3 reduce: 1×1 filters before the 3×3."),
     _ch("c3x3", 128, "#3×3: filters of the 3×3 branch."),
     _ch("c5x5_reduce", 16, "#5×5 reduce: 1×1 filters before the 5×5."),
     _ch("c5x5", 32, "#5×5: filters of the 5×5 branch."),
     _ch("pool_proj", 32, "pool proj: 1×1 filters after the 3×3 max-pool."),
     Param("variant", "enum", "reduced", "'naive' leaves out the 1×1 reductions.", choices=("reduced", "naive")),
     REPEAT),
    composite_infer(_inception_expand, memo=True), None,
    summary=lambda p: (f"inception {p['c1x1']}, {p['c3x3_reduce']}→{p['c3x3']}, "
                       f"{p['c5x5_reduce']}→{p['c5x5']}, {p['pool_proj']}"
                       if p["variant"] == "reduced" else f"naive inception {p['c1x1']}, {p['c3x3']}, {p['c5x5']}"),
    expand=_inception_expand))


# ---- Residual ----------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _residual_graph(frozen: tuple, in_shape: tuple) -> Graph:
    p = dict(frozen)
    g = _Sketch()
    cin = in_shape[0] if in_shape else 0
    planes, stride, bn = p["out_channels"], p["stride"], p["batchnorm"]
    bottleneck = p["kind"] == "bottleneck"
    out_c = planes * 4 if bottleneck else planes
    g.add_node("Input", {"shape": in_shape, "name": "in"}, id="x", pos=(0, 0))
    y, last = 80, "x"

    def layer(id_, type_, params, src):
        nonlocal y
        g.add_node(type_, params, id=id_, pos=(0, y))
        g.connect(src, id_)
        y += 80
        return id_

    if bottleneck:
        plan = [(1, planes, 1), (3, planes, stride), (1, out_c, 1)]
    else:
        plan = [(3, planes, stride), (3, planes, 1)]
    for i, (k, c, s) in enumerate(plan, 1):
        last = layer(f"conv{i}", "Conv2d",
                     {"out_channels": c, "kernel_size": k, "stride": s, "padding": k // 2, "bias": not bn}, last)
        if bn:
            last = layer(f"bn{i}", "BatchNorm", {}, last)
        if i < len(plan) or not p["shortcut"]:
            last = layer(f"relu{i}", "ReLU", {}, last)
    if p["shortcut"]:
        skip = "x"
        if stride != 1 or cin != out_c:  # the shapes change: a 1×1 projection (He et al., option B)
            g.add_composite(_projection(in_shape, out_c, stride, bn), id="downsample", pos=(220, 160))
            g.connect("x", "downsample")
            skip = "downsample"
        last = layer("add", "Add", {}, last)
        g.connect(skip, "add")
        last = layer("relu", "ReLU", {}, last)
    g.add_node("Output", {"name": "out"}, id="y", pos=(0, y))
    g.connect(last, "y")
    return g.done()


def _projection(in_shape: tuple, out_c: int, stride: int, bn: bool) -> CompositeDef:
    """The shortcut's 1×1 convolution and its batch norm, numbered inside `downsample` as
    torchvision's nn.Sequential numbers them (layer2.0.downsample.0.weight, …downsample.1.running_var)."""
    g = _Sketch()
    g.add_node("Input", {"shape": in_shape, "name": "in"}, id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": out_c, "kernel_size": 1, "stride": stride, "bias": not bn},
               id="0", pos=(0, 80))
    g.connect("x", "0")
    last = "0"
    if bn:
        g.add_node("BatchNorm", {}, id="1", pos=(0, 160))
        g.connect("0", "1")
        last = "1"
    g.add_node("Output", {"name": "out"}, id="y", pos=(0, 240))
    g.connect(last, "y")
    return CompositeDef(PROJECTION, g.done(), "The shortcut's 1×1 projection (He et al., option B): a "
                        "convolution with the block's stride" + (", then batch normalisation." if bn else "."))


PROJECTION = "Projection"


def _residual_expand(p, ins):
    key = {k: v for k, v in p.items() if k != "repeat"}
    return _residual_graph(_freeze(key), tuple(ins["in"]))


def _residual_summary(p):
    kind = "bottleneck" if p["kind"] == "bottleneck" else "basic"
    name = "residual" if p["shortcut"] else "plain"
    text = f"{name} {kind} ×{p['out_channels']}, s{p['stride']}"
    return text + (f" ×{p['repeat']}" if p["repeat"] > 1 else "")


register(BlockSpec(
    "Residual", "Composite",
    "He et al.'s residual block: two 3×3 convolutions (basic) or 1×1-3×3-1×1 (bottleneck) with a skip "
    "connection added before the last ReLU; a 1×1 projection when the shape changes. Turn the shortcut "
    "off for a 'plain' block.",
    (Param("out_channels", "int", 64, "Filters of the 3×3 convolutions (bottleneck: output is 4×).",
           min=1, max=65536),
     Param("stride", "int", 1, "Stride of the first 3×3 convolution (2 halves the size).", min=1, max=8),
     Param("kind", "enum", "basic", "basic (ResNet-18/34) or bottleneck (ResNet-50).",
           choices=("basic", "bottleneck")),
     Param("shortcut", "bool", True, "The skip connection; off gives the 'plain' network."),
     Param("batchnorm", "bool", True, "Batch normalisation after each convolution."),
     REPEAT),
    composite_infer(_residual_expand, memo=True), None, summary=_residual_summary, expand=_residual_expand))


# ---- user composites ---------------------------------------------------------------------------

def user_composite_spec(definition: CompositeDef) -> BlockSpec:
    """The block a user's composite stands for; rebuilt only when its boundary changes."""
    inside = definition.graph
    key = (id(inside), inside.structure_revision,
           tuple((n.id, n.revision) for n in inside.nodes.values() if n.type in ("Input", "Output")))
    cached = definition.spec_cache
    if cached is not None and cached[0] == key:
        return cached[1]

    def expand(p, ins):
        return inside

    inner = len(inside.nodes) - len(boundary(inside, "Input")) - len(boundary(inside, "Output"))
    spec = BlockSpec(definition.name, "Composite", definition.doc or f"Your block {definition.name}",
                     (REPEAT,), composite_infer(expand), None,
                     inputs=port_names(inside, "Input"), outputs=port_names(inside, "Output"),
                     summary=lambda p: f"{inner} block{'s' if inner != 1 else ''}"
                     + (f" ×{p['repeat']}" if p.get("repeat", 1) > 1 else ""),
                     expand=expand, title=definition.name)
    definition.spec_cache = (key, spec)
    return spec


def group_ops(graph: Graph, ids: list[str], name: str, node_id: str | None = None) -> list[Op]:
    """The ops that replace the selected nodes by one composite node of a new type `name`."""
    chosen = [i for i in graph.nodes if i in set(ids)]
    if not chosen:
        raise GraphError("select the blocks to group first")
    if not valid_name(name) or name in graph.composites:
        raise GraphError(f"{name!r} cannot name a new block (letters, digits and _; not taken)")
    networks = {graph.nodes[i].network for i in chosen}
    if len(networks) > 1:
        raise GraphError("the selection spans several networks")
    if any(graph.nodes[i].type in ("Input", "Output") for i in chosen):
        raise GraphError("Input and Output blocks stay outside a group: they are the network's boundary")
    inside, selected = Graph(), set(chosen)
    for i in chosen:
        n = graph.nodes[i]
        inside.apply(AddNode(Node(n.id, n.type, dict(n.params), n.label, n.pos, trainable=n.trainable)))
    for e in graph.edges:
        if e.src in selected and e.dst in selected:
            inside.apply(Connect(e))
    analysis = graph.analyze()
    incoming: dict[tuple, str] = {}  # (outer src, port) -> inner Input id
    outer_in, outer_out = [], []
    for e in graph.edges:
        if e.dst in selected and e.src not in selected:
            key = (e.src, e.src_port)
            if key not in incoming:
                port = "in" if not incoming else f"in{len(incoming) + 1}"
                shape = analysis.shape_of(e.src, e.src_port) or (1,)
                inner_id = inside.new_id("input_" + port)
                inside.add_node("Input", {"shape": shape, "name": port}, id=inner_id)
                incoming[key] = inner_id
                outer_in.append((key, port))
            inside.apply(Connect(Edge(incoming[key], "out", e.dst, e.dst_port)))
    outgoing: dict[tuple, str] = {}
    for e in graph.edges:
        if e.src in selected and e.dst not in selected:
            key = (e.src, e.src_port)
            if key not in outgoing:
                port = "out" if not outgoing else f"out{len(outgoing) + 1}"
                inner_id = inside.new_id("output_" + port)
                inside.add_node("Output", {"name": port}, id=inner_id)
                inside.apply(Connect(Edge(e.src, e.src_port, inner_id, "in")))
                outgoing[key] = port
            outer_out.append((outgoing[key], e.dst, e.dst_port))
    for i in chosen:  # a result of the network (its output feeds nothing) stays a result
        ports = graph.output_ports(graph.nodes[i])
        if ports and (i, ports[0]) not in outgoing and not graph.edges_from(i):
            port = "out" if not outgoing else f"out{len(outgoing) + 1}"
            inner_id = inside.new_id("output_" + port)
            inside.add_node("Output", {"name": port}, id=inner_id)
            inside.apply(Connect(Edge(i, ports[0], inner_id, "in")))
            outgoing[(i, ports[0])] = port
    xs = [graph.nodes[i].pos[0] for i in chosen]
    ys = [graph.nodes[i].pos[1] for i in chosen]
    new_id = node_id or graph.new_id(name)
    ops: list[Op] = graph.removal_ops(chosen)
    ops.append(SetComposite(name, CompositeDef(name, inside)))
    # the group takes the place of its first member, so the document still reads in running order
    index = [i for i in graph.nodes if i not in selected or i == chosen[0]].index(chosen[0])
    trainable = any(graph.nodes[i].trainable for i in chosen)
    ops.append(AddNode(Node(new_id, name, {}, "", (sum(xs) / len(xs), sum(ys) / len(ys)),
                            next(iter(networks)), trainable), index))
    ops += [Connect(Edge(src, sp, new_id, port)) for (src, sp), port in outer_in]
    ops += [Connect(Edge(new_id, port, dst, dp)) for port, dst, dp in outer_out]
    return ops


def _inlined(inside: Graph) -> Graph:
    """A generated inside with the composites it defines for itself (a Residual's projection)
    replaced by their insides, so that ungrouping leaves only blocks the document knows."""
    nested = [i for i, n in inside.nodes.items() if n.type in inside.composites]
    if not nested:
        return inside
    flat = inside.copy()
    for i in nested:
        for op in ungroup_ops(flat, i):
            flat.apply(op)
    return flat


def ungroup_ops(graph: Graph, node_id: str) -> list[Op]:
    """The ops that replace a composite node by its inside (built-in ones too)."""
    node = graph.nodes[node_id]
    spec = graph.spec(node)
    if not spec.is_composite:
        raise GraphError(f"{node.title} is not a composite block")
    if node.params.get("repeat", 1) != 1:
        raise GraphError("set repeat to 1 before ungrouping")
    analysis = graph.analyze()
    info = analysis.nodes.get(node_id)
    ins = info.in_shapes if info and all(info.in_shapes.values()) else None
    if ins is None:
        raise GraphError(f"connect {node.title}'s inputs before ungrouping it")
    inside = _inlined(spec.expand(node.params, ins))
    rename: dict[str, str] = {}
    taken = set(graph.nodes) - {node_id}
    for inner_id, inner in inside.nodes.items():
        if inner.type in ("Input", "Output"):
            continue
        # a numbered child (features.0) takes its composite's name: features_0
        new = inner_id if inner_id not in taken and not inner_id.isdigit() else f"{node_id}_{inner_id}"[:58]
        k = 1
        while new in taken:  # ids stay at most 64 characters
            new = f"{node_id}_{inner_id}"[:58] + f"_{k}"
            k += 1
        rename[inner_id] = new
        taken.add(new)
    ops: list[Op] = graph.removal_ops([node_id])
    index = list(graph.nodes).index(node_id)  # the inside takes the composite's place in the order
    ox, oy = node.pos
    xs = [n.pos[0] for n in inside.nodes.values()]
    ys = [n.pos[1] for n in inside.nodes.values()]
    cx, cy = (min(xs) + max(xs)) / 2, min(ys)
    for k, (inner_id, new) in enumerate(rename.items()):
        inner = inside.nodes[inner_id]
        ops.append(AddNode(Node(new, inner.type, dict(inner.params), inner.label,
                                (ox + inner.pos[0] - cx, oy + inner.pos[1] - cy), node.network,
                                inner.trainable and node.trainable), index + k))
    in_ports = {n.id: n.params["name"] for n in boundary(inside, "Input")}
    out_ports = {n.id: n.params["name"] for n in boundary(inside, "Output")}
    feeds = {e.dst_port: (e.src, e.src_port) for e in graph.edges_into(node_id)}

    def source(inner_id, port):
        """Where a value inside comes from, seen from outside (None: an unfed input port)."""
        if inner_id in in_ports:
            return feeds.get(in_ports[inner_id])
        return rename[inner_id], port

    for e in inside.edges:
        src = source(e.src, e.src_port)
        if src is None:
            continue
        if e.dst in out_ports:
            for oe in graph.edges_from(node_id):
                if oe.src_port == out_ports[e.dst]:
                    ops.append(Connect(Edge(src[0], src[1], oe.dst, oe.dst_port)))
        else:
            ops.append(Connect(Edge(src[0], src[1], rename[e.dst], e.dst_port)))
    if node.type in graph.composites and not any(
            n.type == node.type for i, n in graph.nodes.items() if i != node_id):
        ops.append(SetComposite(node.type, None))
    return ops
