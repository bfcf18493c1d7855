"""Every block's shape and parameter rule against the torch module it builds.

Two properties per block type, with hypothesis drawing the parameters and the
incoming shapes:

* valid draws: the analysis accepts them, and the module `spec.build` makes
  (on the meta device, so sizes can be large) has the analysed output shape and
  parameter count; Conv2d, ConvTranspose2d, Linear and the generic TorchModule and
  TorchFunction also have the analysed multiply-adds, counted by torch's FlopCounterMode. Composites (Inception,
  Residual) are run node by node through their inside, and also compared with
  an independent reference written here from the papers (and torchvision's
  BasicBlock/Bottleneck for residual blocks with batch norm).
* any draws, possibly invalid (kernel larger than the input, padding more than
  half a pooling window, groups that do not divide the channels, output padding
  not below the stride, 'same' with a stride…): the analysis reports a node
  error exactly when torch refuses. Torch is asked through modules written here
  from the raw parameters, on small CPU tensors, so the block's own `build` is
  not its own judge.

The analysis is deliberately stricter than torch in a few places, each spelled
out in `deliberately_stricter` below: Linear needs a flat vector (torch applies
it to the last axis of anything), Dropout2d needs C×H×W (torch warns and treats
a vector as channels), ZeroPad2d and AdaptiveAvgPool2d need an image (given a
vector, torch would pad or pool across the batch axis), and Add and
Reparameterize need equal shapes (torch would broadcast, which in a skip
connection is a wiring mistake). And an output size of 0 is an error (torch's
transposed convolution returns an empty map, which no later layer can use).
"""
from __future__ import annotations

import functools
import operator
import math
import os
import warnings

import pytest
import torch
import torchvision.models.resnet as tv_resnet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from designer.graph import Graph, all_blocks, get_block
from designer.graph.analysis import analyze_inner
from designer.graph.params import pair

BATCH = 2
# more examples for a deeper search: DESIGNER_PROPERTY_SCALE=20 pytest tests/test_blocks_vs_torch.py
SCALE = float(os.environ.get("DESIGNER_PROPERTY_SCALE", "1"))
VALID_EXAMPLES = int(25 * SCALE)
REFUSAL_EXAMPLES = int(40 * SCALE)
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---- the analysis of one block ------------------------------------------------------------------

def analyse(block_type: str, params: dict, in_shapes: dict):
    """A tiny graph Input(s) → block → Output(s); returns (graph, analysis, the block's NodeInfo)."""
    g = Graph()
    spec = get_block(block_type)
    g.add_node(block_type, params, id="block")
    for k, (port, shape) in enumerate(in_shapes.items()):
        g.add_node("Input", {"shape": list(shape), "name": f"x{k}"}, id=f"in{k}")
        g.connect(f"in{k}", "block", dst_port=port)
    for port in spec.outputs:
        g.add_node("Output", {"name": port}, id=f"out_{port}")
        g.connect("block", f"out_{port}", src_port=port)
    a = g.analyze()
    return g, a, a.nodes["block"]


# ---- running the graph's own modules, composites included ---------------------------------------

def run_block(spec, params: dict, in_shapes: dict, tensors: dict):
    """(outputs by port, parameter count) of one block built with spec.build."""
    if spec.is_composite:
        return run_composite(spec, params, in_shapes, tensors)
    ports = spec.input_ports(params)
    args = [tensors[p] for p in ports]
    if spec.type == "Add":   # no module: the compiler writes `a + b`, so the reference is exactly that
        assert spec.build is None
        return {spec.outputs[0]: functools.reduce(operator.add, args)}, 0
    module = spec.build(params, in_shapes)
    y = module(args) if spec.type in ("Concat", "Multiply") else module(*args)
    if spec.type == "Parameter":  # no input: a tensor that broadcasts over the batch
        lead = (1,) if params["batch_axis"] else ()
        assert tuple(y.shape) == lead + tuple(params["shape"])
        y = y.expand(BATCH, *params["shape"])
    return {spec.outputs[0]: y}, sum(p.numel() for p in module.parameters())


def run_composite(spec, params, in_shapes, tensors):
    """Expand the composite, chain its copies, and run each inside node by node."""
    total, shapes, values = 0, dict(in_shapes), dict(tensors)
    for _ in range(params.get("repeat", 1)):
        inside = spec.expand(params, shapes)
        inner = analyze_inner(inside, shapes)
        assert inner.ok, inner.errors
        outs, n = run_inside(inside, inner, values)
        total += n
        shapes = {next(iter(shapes)): next(iter(inner.output_shapes.values()))}
        values = {next(iter(values)): next(iter(outs.values()))}
    return outs, total


def run_inside(g: Graph, a, feeds: dict):
    produced: dict[tuple, torch.Tensor] = {}
    results, total = {}, 0
    for node_id in a.order:
        node, spec = g.nodes[node_id], g.spec(node_id)
        if node.type == "Input":
            produced[(node_id, "out")] = feeds[node.params["name"]]
            continue
        ins = {e.dst_port: produced[(e.src, e.src_port)] for e in g.edges_into(node_id)}
        if node.type == "Output":
            results[node.params["name"]] = ins["in"]
            continue
        outs, n = run_block(spec, node.params, a.nodes[node_id].in_shapes, ins)
        total += n
        produced.update({(node_id, port): y for port, y in outs.items()})
    return results, total


# ---- independent references, written from the papers ---------------------------------------------

class InceptionReference(nn.Module):
    """Szegedy et al. 2014, figure 2: four branches with biased convolutions and ReLUs."""

    def __init__(self, cin, p):
        super().__init__()

        def conv(i, o, k):
            return nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2), nn.ReLU())

        if p["variant"] == "naive":
            self.branches = nn.ModuleList([conv(cin, p["c1x1"], 1), conv(cin, p["c3x3"], 3),
                                           conv(cin, p["c5x5"], 5), nn.MaxPool2d(3, 1, 1)])
        else:
            self.branches = nn.ModuleList([
                conv(cin, p["c1x1"], 1),
                nn.Sequential(conv(cin, p["c3x3_reduce"], 1), conv(p["c3x3_reduce"], p["c3x3"], 3)),
                nn.Sequential(conv(cin, p["c5x5_reduce"], 1), conv(p["c5x5_reduce"], p["c5x5"], 5)),
                nn.Sequential(nn.MaxPool2d(3, 1, 1), conv(cin, p["pool_proj"], 1))])

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], 1)


class ResidualReference(nn.Module):
    """He et al. 2015: basic (3×3, 3×3) or bottleneck (1×1, 3×3, 1×1 ×4) with an optional
    projection shortcut where the shape changes; no shortcut for the 'plain' networks."""

    def __init__(self, cin, p):
        super().__init__()
        planes, s, bn = p["out_channels"], p["stride"], p["batchnorm"]
        out = planes * 4 if p["kind"] == "bottleneck" else planes
        plan = [(1, planes, 1), (3, planes, s), (1, out, 1)] if p["kind"] == "bottleneck" \
            else [(3, planes, s), (3, planes, 1)]
        layers, c = [], cin
        for i, (k, o, stride) in enumerate(plan):
            layers.append(nn.Conv2d(c, o, k, stride, k // 2, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm2d(o))
            if i < len(plan) - 1 or not p["shortcut"]:
                layers.append(nn.ReLU())
            c = o
        self.body = nn.Sequential(*layers)
        self.shortcut = p["shortcut"]
        self.project = None
        if p["shortcut"] and (s != 1 or cin != out):
            self.project = nn.Sequential(nn.Conv2d(cin, out, 1, s, bias=not bn),
                                         *([nn.BatchNorm2d(out)] if bn else []))

    def forward(self, x):
        y = self.body(x)
        if not self.shortcut:
            return y
        return torch.relu(y + (self.project(x) if self.project is not None else x))


def torchvision_residual(cin, p):
    """torchvision's own BasicBlock/Bottleneck, the blocks of its resnet34 and resnet50."""
    block = tv_resnet.Bottleneck if p["kind"] == "bottleneck" else tv_resnet.BasicBlock
    out = p["out_channels"] * block.expansion
    down = None
    if p["stride"] != 1 or cin != out:
        down = nn.Sequential(nn.Conv2d(cin, out, 1, p["stride"], bias=False), nn.BatchNorm2d(out))
    return block(cin, p["out_channels"], p["stride"], down)


def out_channels(make, cin, p) -> int:
    if make is InceptionReference:
        last = cin if p["variant"] == "naive" else p["pool_proj"]
        return p["c1x1"] + p["c3x3"] + p["c5x5"] + last
    return p["out_channels"] * (4 if p["kind"] == "bottleneck" else 1)


def chain(make, cin, p):
    """`repeat` copies of a composite's reference, each fed by the previous one."""
    mods = []
    for _ in range(p.get("repeat", 1)):
        mods.append(make(cin, p))
        cin = out_channels(InceptionReference if make is InceptionReference else ResidualReference, cin, p)
    return nn.Sequential(*mods)


# ---- drawing parameters and shapes ---------------------------------------------------------------

def draw_image(data, c=(1, 64), hw=(1, 64)):
    return (data.draw(st.integers(*c)), data.draw(st.integers(*hw)), data.draw(st.integers(*hw)))


def draw_vector(data, f=(1, 512)):
    return (data.draw(st.integers(*f)),)


def draw_any_rank(data, ranks=(1, 2, 3, 4), size=(1, 12)):
    rank = data.draw(st.sampled_from(ranks))
    return tuple(data.draw(st.integers(*size)) for _ in range(rank))


def draw_pair(data, lo, hi):
    """A number or an [h, w] pair, as the parameter accepts either."""
    return data.draw(st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi))))


def _valid_conv(data):
    g = data.draw(st.integers(1, 4))
    cin, cout = g * data.draw(st.integers(1, 32)), g * data.draw(st.integers(1, 32))
    k, d = draw_pair(data, 1, 7), draw_pair(data, 1, 3)
    same = data.draw(st.booleans())
    s = 1 if same else draw_pair(data, 1, 4)
    pad = "same" if same else draw_pair(data, 0, 3)
    (kh, kw), (dh, dw) = pair(k), pair(d)
    ph, pw = (0, 0) if same else pair(pad)
    h = data.draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 96))
    w = data.draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 96))
    params = dict(out_channels=cout, kernel_size=k, stride=s, padding=pad, dilation=d, groups=g,
                  bias=data.draw(st.booleans()))
    return params, {"in": (cin, h, w)}


def _valid_convt(data):
    g = data.draw(st.integers(1, 4))
    cin, cout = g * data.draw(st.integers(1, 32)), g * data.draw(st.integers(1, 32))
    k, s, d = draw_pair(data, 1, 6), draw_pair(data, 1, 4), draw_pair(data, 1, 3)
    (sh, sw), (dh, dw) = pair(s), pair(d)
    op = (data.draw(st.integers(0, max(sh, dh) - 1)), data.draw(st.integers(0, max(sw, dw) - 1)))
    h, w = data.draw(st.integers(1, 48)), data.draw(st.integers(1, 48))
    kh, kw = pair(k)
    # the output must stay positive: (n − 1)·s − 2p + d(k − 1) + op + 1 ≥ 1
    ph = data.draw(st.integers(0, max(0, ((h - 1) * sh + dh * (kh - 1) + op[0]) // 2)))
    pw = data.draw(st.integers(0, max(0, ((w - 1) * sw + dw * (kw - 1) + op[1]) // 2)))
    params = dict(out_channels=cout, kernel_size=k, stride=s, padding=(ph, pw), output_padding=op,
                  dilation=d, groups=g, bias=data.draw(st.booleans()))
    return params, {"in": (cin, h, w)}


def _valid_pool(avg):
    def draw(data):
        k = draw_pair(data, 1, 7)
        kh, kw = pair(k)
        same = data.draw(st.booleans()) and kh % 2 == 1 and kw % 2 == 1
        s = 1 if same else draw_pair(data, 1, 4)
        pad = "same" if same else (data.draw(st.integers(0, kh // 2)), data.draw(st.integers(0, kw // 2)))
        ph, pw = (kh // 2, kw // 2) if same else pad
        c = data.draw(st.integers(1, 64))
        h = data.draw(st.integers(max(1, kh - 2 * ph), 96))
        w = data.draw(st.integers(max(1, kw - 2 * pw), 96))
        params = dict(kernel_size=k, stride=s, padding=pad, ceil_mode=data.draw(st.booleans()))
        if avg:
            params["count_include_pad"] = data.draw(st.booleans())
        return params, {"in": (c, h, w)}
    return draw


def _valid_reshape(data):
    shape = draw_any_rank(data, (1, 2, 3), (1, 8))
    n = math.prod(shape)
    factors = [f for f in range(1, n + 1) if n % f == 0]
    target, rest = [], n
    for _ in range(data.draw(st.integers(0, 3))):
        f = data.draw(st.sampled_from([f for f in factors if rest % f == 0]))
        target.append(f)
        rest //= f
    target.append(rest)
    if data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    return {"shape": target}, {"in": shape}


def _valid_merge(kind):
    def draw(data):
        n = data.draw(st.integers(2, 4))
        base = draw_any_rank(data, (1, 2, 3), (1, 24))
        crop = kind == "Concat" and len(base) == 3 and data.draw(st.booleans())
        shapes = []
        for _ in range(n):
            c = data.draw(st.integers(1, 24)) if kind == "Concat" else base[0]
            rest = tuple(data.draw(st.integers(d, d + 6)) for d in base[1:]) if crop else base[1:]
            shapes.append((c,) + rest)
        params = {"num_inputs": n, **({"crop": crop} if kind == "Concat" else {})}
        return params, {f"in{i + 1}": s for i, s in enumerate(shapes)}
    return draw


def _valid_upsample(data):
    f = data.draw(st.one_of(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 4.0]),
                            st.floats(0.05, 8.0, allow_nan=False).map(lambda v: round(v, 3))))
    c = data.draw(st.integers(1, 16))
    h = data.draw(st.integers(max(1, math.ceil(1 / f)) + 1, 40))
    w = data.draw(st.integers(max(1, math.ceil(1 / f)) + 1, 40))
    return dict(scale_factor=f, mode=data.draw(st.sampled_from(["nearest", "bilinear"]))), {"in": (c, h, w)}


def _valid_inception(data):
    ch = st.integers(1, 24)
    p = dict(c1x1=data.draw(ch), c3x3_reduce=data.draw(ch), c3x3=data.draw(ch), c5x5_reduce=data.draw(ch),
             c5x5=data.draw(ch), pool_proj=data.draw(ch),
             variant=data.draw(st.sampled_from(["reduced", "naive"])), repeat=data.draw(st.integers(1, 3)))
    return p, {"in": draw_image(data, (1, 32), (1, 20))}


def _valid_residual(data):
    p = dict(out_channels=data.draw(st.integers(1, 24)), stride=data.draw(st.integers(1, 3)),
             kind=data.draw(st.sampled_from(["basic", "bottleneck"])), shortcut=data.draw(st.booleans()),
             batchnorm=data.draw(st.booleans()), repeat=data.draw(st.integers(1, 3)))
    return p, {"in": draw_image(data, (1, 48), (1, 20))}


def _just(params=None, shape=None):
    def draw(data):
        s = shape(data) if shape else draw_any_rank(data, (1, 2, 3, 4), (1, 16))
        return (params(data) if callable(params) else dict(params or {})), {"in": s}
    return draw


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False).map(lambda v: round(v, 4))


VALID = {
    "Conv2d": _valid_conv,
    "ConvTranspose2d": _valid_convt,
    "MaxPool2d": _valid_pool(False),
    "AvgPool2d": _valid_pool(True),
    "AdaptiveAvgPool2d": _just(lambda d: {"output_size": draw_pair(d, 1, 9)}, lambda d: draw_image(d)),
    "ZeroPad2d": _just(lambda d: {"padding": d.draw(st.one_of(
        st.integers(0, 6), st.lists(st.integers(0, 6), min_size=2, max_size=2),
        st.lists(st.integers(0, 6), min_size=4, max_size=4)))}, lambda d: draw_image(d)),
    "Linear": _just(lambda d: {"out_features": d.draw(st.integers(1, 4096)), "bias": d.draw(st.booleans())},
                    lambda d: draw_vector(d, (1, 4096))),
    "Flatten": _just(),
    "Reshape": _valid_reshape,
    "ReLU": _just(),
    "LeakyReLU": _just(lambda d: {"negative_slope": d.draw(_floats(0, 1))}),
    "PReLU": _just(lambda d: {"per_channel": d.draw(st.booleans())}),
    "ELU": _just(lambda d: {"alpha": d.draw(_floats(0, 3))}),
    "GELU": _just(lambda d: {"approximate": d.draw(st.sampled_from(["none", "tanh"]))}),
    "Sigmoid": _just(),
    "Tanh": _just(),
    "Softmax": None,  # filled below: dim depends on the drawn rank
    "LogSoftmax": None,
    "Dropout": _just(lambda d: {"p": d.draw(_floats(0, 1))}),
    "Dropout2d": _just(lambda d: {"p": d.draw(_floats(0, 1))}, lambda d: draw_image(d)),
    "BatchNorm": _just(lambda d: {"affine": d.draw(st.booleans()), "eps": d.draw(st.floats(1e-6, 0.1)),
                                  "momentum": d.draw(_floats(0, 1))},
                       lambda d: draw_any_rank(d, (1, 2, 3), (1, 24))),
    "LocalResponseNorm": _just(lambda d: {"size": d.draw(st.integers(1, 9))},
                               lambda d: draw_any_rank(d, (2, 3, 4), (1, 10))),
    "Add": _valid_merge("Add"),
    "Concat": _valid_merge("Concat"),
    "Upsample": _valid_upsample,
    "Reparameterize": lambda d: (lambda s: ({}, {"mu": s, "logvar": s}))(draw_any_rank(d, (1, 3), (1, 16))),
    "Inception": _valid_inception,
    "Residual": _valid_residual,
    "Input": lambda d: ({"shape": list(draw_any_rank(d)), "name": "image"}, {}),
    "Output": _just({"name": "result"}),
}


def _valid_softmax(data):
    shape = draw_any_rank(data, (1, 2, 3, 4), (1, 10))
    return {"dim": data.draw(st.integers(1, len(shape)))}, {"in": shape}


VALID["Softmax"] = VALID["LogSoftmax"] = _valid_softmax


# ---- the blocks imported networks are made of -------------------------------------------------------

def _valid_layernorm(data):
    shape = draw_any_rank(data, (1, 2, 3), (1, 12))
    return {"axes": data.draw(st.integers(1, len(shape))), "elementwise_affine": data.draw(st.booleans()),
            "bias": data.draw(st.booleans()), "eps": data.draw(st.floats(1e-6, 0.1))}, {"in": shape}


def _valid_groupnorm(data):
    g = data.draw(st.integers(1, 8))
    shape = (g * data.draw(st.integers(1, 6)),) + draw_any_rank(data, (0, 1, 2), (1, 10))
    return {"num_groups": g, "affine": data.draw(st.booleans())}, {"in": shape}


def _valid_multiply(data):
    n = data.draw(st.integers(2, 3))
    base = draw_any_rank(data, (1, 2, 3), (1, 8))
    shapes = [tuple(1 if data.draw(st.booleans()) else d for d in base) for _ in range(n)]
    return {"num_inputs": n}, {f"in{i + 1}": s for i, s in enumerate(shapes)}


def _valid_mean(data):
    shape = draw_any_rank(data, (1, 2, 3), (1, 9))
    keep = data.draw(st.booleans())
    dims = data.draw(st.lists(st.integers(1, len(shape)), min_size=1, max_size=len(shape) if keep
                              else max(1, len(shape) - 1), unique=True))
    if not keep and len(dims) == len(shape):
        dims = dims[:-1]
    return {"dims": dims or [1], "keepdim": keep or len(shape) == 1}, {"in": shape}


def _valid_permute(data):
    shape = draw_any_rank(data, (1, 2, 3, 4), (1, 9))
    return {"dims": data.draw(st.permutations(range(1, len(shape) + 1)))}, {"in": shape}


def _draw_index(data, shape, valid=True):
    items = []
    for n in shape[:data.draw(st.integers(0, len(shape)))]:
        kind = data.draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int" and (len(shape) > 1 or not valid):
            items.append(str(data.draw(st.integers(-n, n - 1) if valid else st.integers(-n - 2, n + 2))))
        elif kind == "slice":
            a, b = data.draw(st.integers(0, n)), data.draw(st.integers(0, n + 2))
            items.append(f"{a}:{b}:{data.draw(st.integers(1, 3))}")
        else:
            items.append(":")
    if valid and items and all(i.lstrip("-").isdigit() for i in items) and len(items) == len(shape):
        items[-1] = ":"
    if data.draw(st.booleans()):
        items.append("None")
    return ", ".join(items)


def _valid_slice(data):
    shape = draw_any_rank(data, (1, 2, 3), (1, 9))
    return {"index": _draw_index(data, shape)}, {"in": shape}


def _valid_parameter(data):
    dtype = data.draw(st.sampled_from(["float32", "int64"]))    # whole numbers: a fixed index, never learned
    return {"shape": list(draw_any_rank(data, (1, 2, 3), (1, 12))), "batch_axis": data.draw(st.booleans()),
            "learned": dtype == "float32" and data.draw(st.booleans()), "dtype": dtype,
            "init_std": data.draw(st.sampled_from([0.0, 0.02])) if dtype == "float32" else 0.0}, {}


def _valid_attention(data):
    h = data.draw(st.integers(1, 4))
    e = h * data.draw(st.integers(1, 8))
    lq, lk = data.draw(st.integers(1, 10)), data.draw(st.integers(1, 10))
    kdim = data.draw(st.sampled_from([e, data.draw(st.integers(1, 12))]))
    vdim = data.draw(st.sampled_from([e, data.draw(st.integers(1, 12))]))
    return {"num_heads": h, "bias": data.draw(st.booleans())}, \
        {"query": (lq, e), "key": (lk, kdim), "value": (lk, vdim)}


def _torch_module_case(data, valid=True):
    """A torch.nn / torchvision.ops layer the catalog does not declare, with arguments."""
    shape = draw_any_rank(data, (2, 3), (1, 8)) if valid else draw_any_rank(data, (1, 2, 3), (1, 8))
    kind = data.draw(st.sampled_from(["Softplus", "PixelShuffle", "ChannelShuffle", "LayerNorm", "StochasticDepth",
                                      "InstanceNorm2d", "Conv1d"]))
    if kind == "Softplus":
        return "nn.Softplus", {"beta": data.draw(st.sampled_from([0.5, 1.0, 2.0]))}, shape
    if kind == "PixelShuffle":
        r = data.draw(st.integers(1, 3))
        c = r * r * data.draw(st.integers(1, 3)) if valid else data.draw(st.integers(1, 9))
        return "nn.PixelShuffle", {"upscale_factor": r}, (c, data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    if kind == "ChannelShuffle":
        g = data.draw(st.integers(1, 4))
        c = g * data.draw(st.integers(1, 4)) if valid else data.draw(st.integers(1, 9))
        return "nn.ChannelShuffle", {"groups": g}, (c, 3, 3)
    if kind == "LayerNorm":
        return "nn.LayerNorm", {"normalized_shape": [shape[-1] if valid else data.draw(st.integers(1, 8))]}, shape
    if kind == "InstanceNorm2d":
        return "nn.InstanceNorm2d", {"num_features": shape[0], "affine": data.draw(st.booleans())}, \
            (shape[0], 3, 3)
    if kind == "Conv1d":
        c = shape[0]
        return "nn.Conv1d", {"in_channels": c if valid else data.draw(st.integers(1, 8)),
                             "out_channels": data.draw(st.integers(1, 6)), "kernel_size": 1}, shape[:2]
    return "torchvision.ops.StochasticDepth", {"p": 0.2, "mode": data.draw(st.sampled_from(["row", "batch"]))}, shape


def _valid_torch_module(data):
    import json
    layer, kwargs, shape = _torch_module_case(data)
    return {"layer": layer, "kwargs": json.dumps(kwargs)}, {"in": shape}


def _torch_function_case(data, valid=True):
    shape = draw_any_rank(data, (2, 3), (1, 8)) if valid else draw_any_rank(data, (1, 2, 3), (1, 8))
    kind = data.draw(st.sampled_from(["flatten", "transpose", "scale", "interpolate", "view", "chunk"]))
    rank = len(shape) + 1
    if kind == "flatten":
        return "torch.flatten", [{"in": 0}, data.draw(st.integers(1, rank - 1 if valid else rank + 1))], {}, -1, shape
    if kind == "transpose":
        hi = rank - 1 if valid else rank + 1
        return "Tensor.transpose", [{"in": 0}, data.draw(st.integers(1, hi)), data.draw(st.integers(1, hi))], {}, \
            -1, shape
    if kind == "scale":
        return "operator.mul", [{"in": 0}, data.draw(st.sampled_from([0.5, 2, -1.0]))], {}, -1, shape
    if kind == "interpolate":
        size = [data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))]
        return "F.interpolate", [{"in": 0}], {"size": size, "mode": "nearest"}, -1, \
            (shape[0], 4, 4) if valid else shape
    if kind == "view":
        n = math.prod(shape)
        return "Tensor.view", [{"in": 0}, {"batch": 1}, n if valid else n + 1], {}, -1, shape
    k = data.draw(st.integers(1, 3))
    return "Tensor.chunk", [{"in": 0}, k, 1], {}, data.draw(st.integers(0, k - 1 if valid else k + 1)), \
        (shape[0] * k,) + tuple(shape[1:])


def _valid_torch_function(data):
    import json
    function, args, kwargs, pick, shape = _torch_function_case(data)
    if function == "Tensor.chunk":
        pick = min(pick, shape[0] - 1)
    return {"function": function, "args": json.dumps(args), "kwargs": json.dumps(kwargs), "pick": pick}, \
        {"in": shape}


VALID.update({
    "ReLU6": _just(), "SiLU": _just(), "Hardswish": _just(), "Hardsigmoid": _just(), "Identity": _just(),
    "AdaptiveMaxPool2d": _just(lambda d: {"output_size": draw_pair(d, 1, 9)}, lambda d: draw_image(d)),
    "LayerNorm": _valid_layernorm,
    "GroupNorm": _valid_groupnorm,
    "Multiply": _valid_multiply,
    "Mean": _valid_mean,
    "Permute": _valid_permute,
    "Slice": _valid_slice,
    "Parameter": _valid_parameter,
    "MultiheadAttention": _valid_attention,
    "TorchModule": _valid_torch_module,
    "TorchFunction": _valid_torch_function,
})


def test_every_block_type_is_covered():
    """A new block without a property fails here, not silently."""
    types = {b.type for b in all_blocks()}
    assert types == set(VALID), f"no valid-parameter property for {sorted(types - set(VALID))}"
    assert types == set(ANY) | set(NO_TORCH_MODULE), \
        f"no refusal property for {sorted(types - set(ANY) - set(NO_TORCH_MODULE))}"


def _macs_by_torch(module, args, call):
    with FlopCounterMode(display=False) as counter:
        call(module, args)
    return counter.get_total_flops() // 2 // BATCH


@pytest.mark.parametrize("block_type", sorted(VALID))
@settings(max_examples=VALID_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_valid_parameters_match_the_torch_module(block_type, data):
    params, in_shapes = VALID[block_type](data)
    g, a, info = analyse(block_type, params, in_shapes)
    assert info.ok, (params, in_shapes, info.errors)
    assert not [m for _, m in a.errors if "cannot compute" in m]
    spec = g.spec("block")
    node_params = g.nodes["block"].params
    if block_type == "Input":  # the boundary: no module, the shape passes to the Output
        assert spec.build is None and a.input_shapes == {"image": tuple(params["shape"])}
        assert a.output_shapes == {"out": tuple(params["shape"])}
        return
    if block_type == "Output":
        assert spec.build is None and a.output_shapes == {"result": tuple(in_shapes["in"])}
        return
    with torch.device("meta"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same'")  # torch's note on even kernels
        tensors = {p: torch.empty(BATCH, *s) for p, s in in_shapes.items()}
        outs, numel = run_block(spec, node_params, info.in_shapes, tensors)
        for port, y in outs.items():
            assert tuple(y.shape) == (BATCH, *info.out_shapes[port]), (params, in_shapes)
        assert numel == info.params, (params, in_shapes)
        if block_type in ("Conv2d", "ConvTranspose2d", "Linear", "TorchModule", "TorchFunction"):
            module = spec.build(node_params, info.in_shapes)
            assert _macs_by_torch(module, tensors["in"], lambda m, x: m(x)) == info.macs
        if block_type in ("Inception", "Residual"):
            make = InceptionReference if block_type == "Inception" else ResidualReference
            ref = chain(make, in_shapes["in"][0], node_params)
            assert tuple(ref(tensors["in"]).shape[1:]) == info.output_shape
            assert sum(p.numel() for p in ref.parameters()) == info.params
            if block_type == "Residual" and node_params["batchnorm"] and node_params["shortcut"]:
                tv = chain(torchvision_residual, in_shapes["in"][0], node_params)
                assert tuple(tv(tensors["in"]).shape[1:]) == info.output_shape
                assert sum(p.numel() for p in tv.parameters()) == info.params


# ---- refusals -------------------------------------------------------------------------------------

def small_image(data, c=(1, 6)):
    """Often tiny, where windows stop fitting and the edge cases live."""
    side = st.one_of(st.integers(1, 4), st.integers(1, 10))
    return (data.draw(st.integers(*c)), data.draw(side), data.draw(side))


def small_any(data):
    """Mostly an image, sometimes a vector: the shapes the analysis deals with."""
    return small_image(data) if data.draw(st.integers(0, 3)) else draw_vector(data, (1, 8))


def _any_conv(data):
    params = dict(out_channels=data.draw(st.integers(1, 6)), kernel_size=draw_pair(data, 1, 6),
                  stride=draw_pair(data, 1, 3),
                  padding=data.draw(st.one_of(st.just("same"), st.integers(0, 3),
                                              st.tuples(st.integers(0, 3), st.integers(0, 3)))),
                  dilation=draw_pair(data, 1, 3), groups=data.draw(st.integers(1, 4)),
                  bias=data.draw(st.booleans()))
    return params, {"in": small_any(data)}


def _any_convt(data):
    params = dict(out_channels=data.draw(st.integers(1, 6)), kernel_size=draw_pair(data, 1, 5),
                  stride=draw_pair(data, 1, 3), padding=draw_pair(data, 0, 4),
                  output_padding=draw_pair(data, 0, 3), dilation=draw_pair(data, 1, 3),
                  groups=data.draw(st.integers(1, 4)), bias=data.draw(st.booleans()))
    return params, {"in": small_any(data)}


def _any_pool(avg):
    def draw(data):
        params = dict(kernel_size=draw_pair(data, 1, 6), stride=draw_pair(data, 1, 4),
                      padding=data.draw(st.one_of(st.just("same"), st.integers(0, 4),
                                                  st.tuples(st.integers(0, 4), st.integers(0, 4)))),
                      ceil_mode=data.draw(st.booleans()))
        if avg:
            params["count_include_pad"] = data.draw(st.booleans())
        return params, {"in": small_any(data)}
    return draw


def _any_reshape(data):
    shape = draw_any_rank(data, (1, 2, 3), (1, 6))
    target = data.draw(st.lists(st.integers(-1, 12), min_size=1, max_size=4))
    return {"shape": target}, {"in": shape}


def _any_merge(kind):
    def draw(data):
        n = data.draw(st.integers(2, 3))
        pool = [draw_any_rank(data, (1, 2, 3), (1, 4)) for _ in range(2)]
        shapes = [data.draw(st.sampled_from(pool)) for _ in range(n)]
        if kind == "Concat":  # vary the channels, often keep the rest
            shapes = [(data.draw(st.integers(1, 4)),) + s[1:] for s in shapes]
        params = {"num_inputs": n, **({"crop": data.draw(st.booleans())} if kind == "Concat" else {})}
        return params, {f"in{i + 1}": s for i, s in enumerate(shapes)}
    return draw


def _any_upsample(data):
    f = data.draw(st.sampled_from([0.1, 0.25, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0]))
    return dict(scale_factor=f, mode=data.draw(st.sampled_from(["nearest", "bilinear"]))), \
        {"in": small_any(data)}


def _any_reparam(data):
    pool = [draw_any_rank(data, (1, 3), (1, 4)) for _ in range(2)]
    return {}, {"mu": data.draw(st.sampled_from(pool)), "logvar": data.draw(st.sampled_from(pool))}


def _any_composite(valid):
    def draw(data):
        params, _ = valid(data)
        return params, {"in": small_any(data)}
    return draw


def _any_softmax(data):
    return {"dim": data.draw(st.integers(1, 3))}, {"in": draw_any_rank(data, (1, 2, 3), (1, 5))}


def _any_attention(data):
    return {"num_heads": data.draw(st.integers(1, 5))}, \
        {"query": draw_any_rank(data, (1, 2, 3), (1, 8)), "key": draw_any_rank(data, (1, 2, 3), (1, 8)),
         "value": draw_any_rank(data, (1, 2, 3), (1, 8))}


def _any_torch_module(data):
    import json
    layer, kwargs, shape = _torch_module_case(data, valid=False)
    return {"layer": layer, "kwargs": json.dumps(kwargs)}, {"in": shape}


def _any_torch_function(data):
    import json
    function, args, kwargs, pick, shape = _torch_function_case(data, valid=False)
    return {"function": function, "args": json.dumps(args), "kwargs": json.dumps(kwargs), "pick": pick}, \
        {"in": shape}


ANY = {
    "ReLU6": lambda d: ({}, {"in": draw_any_rank(d)}),
    "SiLU": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Hardswish": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Hardsigmoid": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Identity": lambda d: ({}, {"in": draw_any_rank(d)}),
    "AdaptiveMaxPool2d": lambda d: ({"output_size": draw_pair(d, 1, 6)}, {"in": small_any(d)}),
    "LayerNorm": lambda d: ({"axes": d.draw(st.integers(1, 4))}, {"in": draw_any_rank(d, (1, 2, 3), (1, 6))}),
    "GroupNorm": lambda d: ({"num_groups": d.draw(st.integers(1, 6))}, {"in": draw_any_rank(d, (1, 2, 3), (1, 8))}),
    "Multiply": _any_merge("Multiply"),
    "Mean": lambda d: ({"dims": d.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)),
                        "keepdim": d.draw(st.booleans())}, {"in": draw_any_rank(d, (1, 2, 3), (1, 5))}),
    "Permute": lambda d: ({"dims": d.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))},
                          {"in": draw_any_rank(d, (1, 2, 3), (1, 5))}),
    "Slice": lambda d: (lambda s: ({"index": _draw_index(d, s, valid=False)}, {"in": s}))(
        draw_any_rank(d, (1, 2, 3), (1, 5))),
    "Parameter": lambda d: ({"shape": list(draw_any_rank(d, (1, 2, 3), (1, 5))),
                             "batch_axis": d.draw(st.booleans())}, {}),
    "MultiheadAttention": _any_attention,
    "TorchModule": _any_torch_module,
    "TorchFunction": _any_torch_function,
    "Conv2d": _any_conv,
    "ConvTranspose2d": _any_convt,
    "MaxPool2d": _any_pool(False),
    "AvgPool2d": _any_pool(True),
    "AdaptiveAvgPool2d": lambda d: ({"output_size": draw_pair(d, 1, 6)}, {"in": small_any(d)}),
    "ZeroPad2d": lambda d: ({"padding": d.draw(st.one_of(st.integers(0, 3),
                                                         st.lists(st.integers(0, 3), min_size=4, max_size=4)))},
                            {"in": small_any(d)}),
    "Linear": lambda d: ({"out_features": d.draw(st.integers(1, 8))}, {"in": small_any(d)}),
    "Flatten": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Reshape": _any_reshape,
    "ReLU": lambda d: ({}, {"in": draw_any_rank(d)}),
    "LeakyReLU": lambda d: ({}, {"in": draw_any_rank(d)}),
    "PReLU": lambda d: ({"per_channel": d.draw(st.booleans())}, {"in": draw_any_rank(d)}),
    "ELU": lambda d: ({}, {"in": draw_any_rank(d)}),
    "GELU": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Sigmoid": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Tanh": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Softmax": _any_softmax,
    "LogSoftmax": _any_softmax,
    "Dropout": lambda d: ({}, {"in": draw_any_rank(d)}),
    "Dropout2d": lambda d: ({}, {"in": small_any(d)}),
    "BatchNorm": lambda d: ({}, {"in": draw_any_rank(d, size=(1, 5))}),
    "LocalResponseNorm": lambda d: ({"size": d.draw(st.integers(1, 6))}, {"in": draw_any_rank(d, size=(1, 5))}),
    "Add": _any_merge("Add"),
    "Concat": _any_merge("Concat"),
    "Upsample": _any_upsample,
    "Reparameterize": _any_reparam,
    "Inception": _any_composite(_valid_inception),
    "Residual": _any_composite(_valid_residual),
}
# Input and Output build no module: their checks (shape values, unconnected ports, names)
# are the document's own and live in test_analysis.py and test_model_ops.py.
NO_TORCH_MODULE = {"Input": "the boundary of the network", "Output": "the boundary of the network"}


def torch_reference(block_type: str, p: dict, ins: dict):
    """What torch itself does with these raw parameters: a function of the input tensors.
    Construction and the call both count as torch's answer."""
    x_ports = list(ins)
    if block_type == "Conv2d":
        def f(x):
            return nn.Conv2d(x.shape[1], p["out_channels"], p["kernel_size"], p["stride"], p["padding"],
                             p["dilation"], p["groups"], p["bias"])(x)
    elif block_type == "ConvTranspose2d":
        def f(x):
            return nn.ConvTranspose2d(x.shape[1], p["out_channels"], p["kernel_size"], p["stride"], p["padding"],
                                      p["output_padding"], p["groups"], p["bias"], p["dilation"])(x)
    elif block_type in ("MaxPool2d", "AvgPool2d"):
        pad = p["padding"]
        kh, kw = pair(p["kernel_size"])
        if pad == "same" and pair(p["stride"]) == (1, 1) and kh % 2 and kw % 2:
            pad = (kh // 2, kw // 2)  # our documented meaning of 'same' for pooling
        extra = {"count_include_pad": p["count_include_pad"]} if block_type == "AvgPool2d" else {}

        def f(x):
            return getattr(nn, block_type)(p["kernel_size"], p["stride"], pad, ceil_mode=p["ceil_mode"], **extra)(x)
    elif block_type == "AdaptiveAvgPool2d":
        def f(x):
            return nn.AdaptiveAvgPool2d(p["output_size"])(x)
    elif block_type == "ZeroPad2d":
        def f(x):
            return nn.ZeroPad2d(p["padding"] if isinstance(p["padding"], int) else list(p["padding"]))(x)
    elif block_type == "Linear":
        def f(x):
            return nn.Linear(x.shape[1], p["out_features"])(x)
    elif block_type == "Flatten":
        def f(x):
            return x.flatten(1)
    elif block_type == "Reshape":
        def f(x):
            return x.reshape(x.shape[0], *p["shape"])
    elif block_type in ("Softmax", "LogSoftmax"):
        def f(x):
            return getattr(nn, block_type)(dim=p["dim"])(x)
    elif block_type == "PReLU":
        def f(x):
            return nn.PReLU(x.shape[1] if p["per_channel"] else 1)(x)
    elif block_type in ("ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Dropout", "Dropout2d"):
        def f(x):
            return getattr(nn, block_type)()(x)
    elif block_type == "BatchNorm":
        def f(x):
            return (nn.BatchNorm2d if x.dim() == 4 else nn.BatchNorm1d)(x.shape[1])(x)
    elif block_type == "LocalResponseNorm":
        def f(x):
            return nn.LocalResponseNorm(p["size"])(x)
    elif block_type == "Add":
        def f(*xs):
            out = xs[0]
            for x in xs[1:]:
                out = out + x
            return out
    elif block_type == "Concat":
        def f(*xs):
            if p["crop"] and xs[0].dim() == 4:  # U-Net: centre-crop H and W to the smallest
                h, w = min(x.shape[2] for x in xs), min(x.shape[3] for x in xs)
                xs = [x[:, :, (x.shape[2] - h) // 2:(x.shape[2] - h) // 2 + h,
                        (x.shape[3] - w) // 2:(x.shape[3] - w) // 2 + w] for x in xs]
            return torch.cat(xs, 1)
    elif block_type == "Upsample":
        def f(x):
            return nn.Upsample(scale_factor=p["scale_factor"], mode=p["mode"],
                               align_corners=False if p["mode"] == "bilinear" else None)(x)
    elif block_type == "Reparameterize":
        def f(mu, logvar):
            return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    elif block_type == "Inception":
        def f(x):
            return chain(InceptionReference, x.shape[1], p)(x)
    elif block_type == "Residual":
        def f(x):
            return chain(ResidualReference, x.shape[1], p)(x)
    elif block_type in ("ReLU6", "SiLU", "Hardswish", "Hardsigmoid", "Identity"):
        def f(x):
            return getattr(nn, block_type)()(x)
    elif block_type == "AdaptiveMaxPool2d":
        def f(x):
            return nn.AdaptiveMaxPool2d(p["output_size"])(x)
    elif block_type == "LayerNorm":
        def f(x):
            return nn.LayerNorm(x.shape[x.dim() - p["axes"]:])(x)
    elif block_type == "GroupNorm":
        def f(x):
            return nn.GroupNorm(p["num_groups"], x.shape[1])(x)
    elif block_type == "Multiply":
        def f(*xs):
            return functools.reduce(operator.mul, xs)
    elif block_type == "Mean":
        def f(x):
            return x.mean(tuple(p["dims"]), keepdim=p["keepdim"])
    elif block_type == "Permute":
        def f(x):
            return x.permute(0, *p["dims"])
    elif block_type == "Slice":
        def f(x):
            return eval(f"x[:, {p['index']}]", {"x": x})  # noqa: S307 - drawn here, the reference is Python's own
    elif block_type == "Parameter":
        def f():
            return torch.zeros(p["shape"])
    elif block_type == "MultiheadAttention":
        def f(q, k, v):
            return nn.MultiheadAttention(q.shape[-1], p["num_heads"], kdim=k.shape[-1], vdim=v.shape[-1],
                                         batch_first=True)(q, k, v)[0]
    elif block_type == "TorchModule":
        def f(x):
            import json
            import torchvision.ops
            space = torchvision.ops if p["layer"].startswith("torchvision.ops.") else nn
            return getattr(space, p["layer"].rpartition(".")[2])(**json.loads(p["kwargs"]))(x)
    elif block_type == "TorchFunction":
        def f(x):
            import json
            import torch.nn.functional as F
            args = [x if a == {"in": 0} else (BATCH * a["batch"] if isinstance(a, dict) else a)
                    for a in json.loads(p["args"])]
            name = p["function"]
            space, _, fname = name.partition(".")
            if space == "Tensor":
                y = getattr(args[0], fname)(*args[1:], **json.loads(p["kwargs"]))
            else:
                y = getattr({"torch": torch, "F": F, "operator": operator}[space], fname)(*args,
                                                                                        **json.loads(p["kwargs"]))
            return y[p["pick"]] if p["pick"] >= 0 else y
    else:
        raise AssertionError(f"no torch reference for {block_type}")
    return f, x_ports


def torch_refuses(block_type, p, ins) -> bool:
    f, ports = torch_reference(block_type, p, ins)
    xs = [torch.zeros(BATCH, *ins[port]) for port in ports]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f(*xs)
    except Exception:  # noqa: BLE001 - any refusal by torch counts
        return True
    return False


def _broadcasts(shapes) -> bool:
    try:
        torch.broadcast_shapes(*[(BATCH, *s) for s in shapes])
    except RuntimeError:
        return False
    return True


def deliberately_stricter(block_type, p, ins) -> bool:
    """Where the analysis refuses on purpose what torch would take (see the module doc)."""
    shapes = list(ins.values())
    if block_type == "Linear":
        return len(shapes[0]) != 1
    if block_type in ("Dropout2d", "ZeroPad2d", "AdaptiveAvgPool2d"):
        return len(shapes[0]) != 3
    if block_type in ("Add", "Reparameterize"):
        return len(set(shapes)) > 1 and _broadcasts(shapes)
    if block_type == "ConvTranspose2d" and len(shapes[0]) == 3:
        return 0 in _transposed_size(p, shapes[0])
    if block_type == "AdaptiveMaxPool2d":
        return len(shapes[0]) != 3
    if block_type == "Multiply":  # equal ranks: torch aligns from the right with the batch axis included
        return len({len(x) for x in shapes}) > 1
    if block_type == "LayerNorm":  # never into the batch axis
        return p["axes"] > len(shapes[0])
    if block_type == "Mean":  # a mean over every axis but the batch leaves nothing per sample to show
        return not p["keepdim"] and len(set(p["dims"])) >= len(shapes[0])
    if block_type == "Slice":  # a single number per sample
        items = [i.strip() for i in p["index"].split(",") if i.strip()]
        return "None" not in items and sum(i.lstrip("-").isdigit() for i in items) == len(shapes[0])
    if block_type == "MultiheadAttention":  # sequences L×E only (torch also takes unbatched 2-D input)
        return any(len(x) != 2 for x in shapes)
    if block_type in ("TorchModule", "TorchFunction"):  # results that do not keep the batch first
        f, ports = torch_reference(block_type, p, ins)
        y = f(*[torch.zeros(BATCH, *ins[port]) for port in ports])
        return not isinstance(y, torch.Tensor) or y.dim() < 2 or y.shape[0] != BATCH
    return False


def _transposed_size(p, shape):
    """torch's output size of a transposed convolution (H, W), written from its documentation."""
    return tuple((n - 1) * s - 2 * pad + d * (k - 1) + op + 1 for n, k, s, pad, op, d in zip(
        shape[1:], pair(p["kernel_size"]), pair(p["stride"]), pair(p["padding"]), pair(p["output_padding"]),
        pair(p["dilation"])))


def compare_with_torch(block_type, raw, in_shapes):
    try:
        g, a, info = analyse(block_type, raw, in_shapes)
    except Exception as exc:  # a value the parameter declaration refuses outright
        pytest.fail(f"drawn parameters should be declarable: {raw} ({exc})")
    params = g.nodes["block"].params
    refused_by_analysis = bool(info.errors)
    refused_by_torch = torch_refuses(block_type, params, in_shapes)
    assert not [m for m in info.errors if "cannot compute" in m], info.errors
    if refused_by_analysis and not refused_by_torch:
        assert deliberately_stricter(block_type, params, in_shapes), \
            f"analysis refuses what torch accepts: {params} {in_shapes}: {info.errors}"
    else:
        assert refused_by_analysis == refused_by_torch, \
            f"torch refuses what the analysis accepts: {params} {in_shapes}"


@pytest.mark.parametrize("block_type", sorted(ANY))
@settings(max_examples=REFUSAL_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_analysis_refuses_exactly_what_torch_refuses(block_type, data):
    raw, in_shapes = ANY[block_type](data)
    compare_with_torch(block_type, raw, in_shapes)


# Cases the searches above found once (or that sit on a boundary): kept so that a run that
# happens not to draw them still checks them.
REGRESSIONS = [
    # a ceil-mode window may overhang a map smaller than itself: torch gives 1×1
    ("MaxPool2d", dict(kernel_size=2, stride=2, padding=0, ceil_mode=True), {"in": (1, 1, 1)}),
    ("AvgPool2d", dict(kernel_size=4, stride=2, padding=1, ceil_mode=True), {"in": (1, 1, 1)}),
    ("AvgPool2d", dict(kernel_size=(1, 2), stride=2, padding=0, ceil_mode=True, count_include_pad=False),
     {"in": (1, 1, 1)}),
    ("MaxPool2d", dict(kernel_size=3, stride=1, padding=0, ceil_mode=True), {"in": (2, 2, 2)}),
    # Concat crops images only, as the layer does; other ranks must match
    ("Concat", dict(num_inputs=2, crop=True), {"in1": (2, 5), "in2": (3, 4)}),
    ("Concat", dict(num_inputs=2, crop=True), {"in1": (2, 5, 5), "in2": (3, 4, 4)}),
    ("Softmax", dict(dim=4), {"in": (2, 3, 4, 5)}),
    ("Conv2d", dict(kernel_size=4, padding="same", dilation=1, stride=1), {"in": (1, 2, 2)}),
    ("ConvTranspose2d", dict(kernel_size=1, stride=1, padding=1, output_padding=0), {"in": (1, 2, 2)}),
    ("ConvTranspose2d", dict(kernel_size=1, stride=1, dilation=2, output_padding=1), {"in": (1, 2, 2)}),
]


@pytest.mark.parametrize("block_type, raw, in_shapes", REGRESSIONS)
def test_known_boundary_cases_agree_with_torch(block_type, raw, in_shapes):
    compare_with_torch(block_type, raw, in_shapes)


def test_batch_norm_refuses_a_zero_epsilon_which_torch_cannot_train_with():
    from designer.graph.errors import ParamError
    with pytest.raises(ParamError, match="eps must be at least"):
        analyse("BatchNorm", {"eps": 0.0}, {"in": (4,)})
    with pytest.raises(ValueError, match="eps must be positive"):
        nn.BatchNorm1d(4, eps=0.0).train()(torch.zeros(2, 4))
