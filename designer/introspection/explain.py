"""Help ▸ Explain: the shape story of one node, from its input shape to its output
shape, with the formula and the numbers, in the lecture's words.

Pure text from the analysis (no Qt, no torch): the same numbers the inspector
shows, told as sentences. Convolution and pooling reuse `designer.grid_arithmetic`, so the
playground and this story can never tell two different things.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from designer import grid_arithmetic
from designer.graph.format import count, shape as fmt_shape
from designer.graph.params import pair

PARAGRAPH = "\n\n"


@dataclass
class _Story:
    """What every story function reads about the node it tells."""
    graph: object
    node: object
    spec: object
    info: object

    @property
    def p(self) -> dict:
        return self.node.params

    @property
    def ins(self) -> dict:
        return self.info.in_shapes

    @property
    def x(self) -> tuple:
        """The (first) input shape."""
        return next(iter(self.info.in_shapes.values()), None)

    @property
    def y(self) -> tuple:
        return self.info.output_shape


def explain_node(graph, analysis, node_id: str) -> str:
    """Paragraphs (separated by blank lines) that walk from the node's input shape
    to its output shape. Never raises for a node of the graph: a node with an
    error gets the error explained instead."""
    node = graph.nodes.get(node_id)
    if node is None:
        return f"There is no block {node_id!r} in this network."
    try:
        spec = graph.spec(node)
    except Exception as exc:  # noqa: BLE001 - an unknown type is told, not raised
        return f"{node.title}: {exc}"
    info = analysis.nodes.get(node_id) if analysis is not None else None
    paragraphs = [_headline(node, spec, info)]
    if info is None:
        paragraphs.append("The analysis has not reached this block yet.")
        return PARAGRAPH.join(paragraphs)
    if info.errors:
        paragraphs.append("It cannot be computed: " + " ".join(_sentence(e) for e in info.errors))
        paragraphs.append(spec.doc)
        return PARAGRAPH.join(paragraphs)
    if info.blocked:
        paragraphs.append("It waits for a block before it that has a problem: fix that one first and "
                          "this block's shapes appear.")
        paragraphs.append(spec.doc)
        return PARAGRAPH.join(paragraphs)
    story = _Story(graph, node, spec, info)
    teller = _STORIES.get(node.type) or (_composite if spec.is_composite else _generic)
    paragraphs += [t for t in teller(story) if t]
    paragraphs += _parameters(story)
    if info.warnings:
        paragraphs.append("Note: " + " ".join(_sentence(w) for w in info.warnings))
    return PARAGRAPH.join(paragraphs)


# ---- the frame: headline, parameters ---------------------------------------------------------

def _headline(node, spec, info) -> str:
    summary = spec.summary(node.params) if node.params is not None else ""
    kind = spec.title or spec.type
    what = f"{node.title} ({kind}: {summary})" if summary and summary != kind.lower() else f"{node.title} ({kind})"
    if info is None or not info.ok:
        return what + "."
    ins = [s for s in info.in_shapes.values() if s is not None]
    out = list(info.out_shapes.values())
    if not ins:
        return f"{what}: {_shapes(out)}."
    if not out:
        return f"{what}: {_shapes(ins)}."
    return f"{what}: {_shapes(ins)} → {_shapes(out)}."


def _shapes(shapes) -> str:
    return " and ".join(fmt_shape(s) for s in shapes)


def _parameters(s: _Story) -> list[str]:
    info = s.info
    out = []
    if info.params:
        out.append(f"Parameters: {info.param_formula or count(info.params)}"
                   + (f" ({count(info.weights)} weights, {count(info.biases)} biases)."
                      if info.biases and info.weights else "."))
        if not s.node.trainable:
            out.append("It is frozen: training leaves these weights as they are (transfer learning).")
    elif s.node.type not in ("Input", "Output"):
        out.append("It has no weights to learn.")
    if info.macs:
        out.append(f"Cost: {count(info.macs)} multiply-adds per image.")
    return [" ".join(out)] if out else []


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _hw(shape) -> str:
    return f"{shape[1]}×{shape[2]}"


def _maps(c: int) -> str:
    return f"{c} map{'s' if c != 1 else ''}"


def _stays(shape) -> str:
    return f"the shape stays {fmt_shape(shape)}" if len(shape) != 1 else f"it stays a vector of {count(shape[0])}"


def _what_is(shape) -> str:
    if shape is None:
        return "nothing yet"
    if len(shape) == 3:
        return f"{_maps(shape[0])} of {_hw(shape)} ({fmt_shape(shape)})"
    if len(shape) == 1:
        return f"a vector of {count(shape[0])} numbers"
    return fmt_shape(shape)


# ---- one story per block type ----------------------------------------------------------------

def _input(s: _Story):
    shape = s.y
    if len(shape) == 3:
        c = shape[0]
        colour = {1: "a greyscale image", 3: "a colour (RGB) image"}.get(c, f"an image of {c} channels")
        body = f"Data enters the network here: {colour} of {_hw(shape)} pixels, {fmt_shape(shape)}."
    elif len(shape) == 1:
        body = f"Data enters the network here: a vector of {count(shape[0])} numbers."
    else:
        body = f"Data enters the network here with shape {fmt_shape(shape)}."
    name = s.p.get("name", "x")
    return [body + f" In the compiled network it is the argument {name!r} of forward(); the batch "
            "dimension is not written: the network sees a whole batch of such inputs at once."]


def _output(s: _Story):
    return [f"The network returns {_what_is(s.x)} here, named {s.p.get('name', 'out')!r}."]


def _conv(s: _Story):
    cin, h, w = s.x
    cout, groups = s.p["out_channels"], s.p["groups"]
    k, st, d = pair(s.p["kernel_size"]), pair(s.p["stride"]), pair(s.p["dilation"])
    if s.p["padding"] == "same":
        totals = (d[0] * (k[0] - 1), d[1] * (k[1] - 1))
        same = (f"Padding 'same' adds d·(k − 1) = {totals[0]} zeros in all along the height and {totals[1]} "
                "along the width, so the output keeps the input's size")
        if totals[0] % 2 or totals[1] % 2:
            story = (f"The input is {_maps(cin)} of {h}×{w}. {same}; the odd one goes to the bottom or right, as "
                     f"PyTorch does. A {k[0]}×{k[1]} kernel moves 1 cell at a time, multiplying each input value "
                     "under it by its weight and adding them up into one cell of the convolved feature.")
            last = (f"Each of the {cout} kernels ({k[0]}×{k[1]}×{cin // groups} weights) gives one feature map, "
                    f"so the output is {fmt_shape(s.y)}.")
            return [story, _groups_sentence(cin, cout, groups, k) if groups > 1 else last]
        pad = (totals[0] // 2, totals[1] // 2)
        tail = same + (f": {pad[0]} on each side." if pad[0] == pad[1] else
                       f": {pad[0]} rows top and bottom, {pad[1]} columns left and right.")
    else:
        pad = pair(s.p["padding"])
        tail = ""
    if groups == 1:
        story = grid_arithmetic.explain_conv_shape((h, w), k, st, pad, d, cin, cout)
        return [story, tail, _one_by_one(k, cin, cout)]
    story = grid_arithmetic.explain_conv_shape((h, w), k, st, pad, d, None, None)
    return [story, tail, _groups_sentence(cin, cout, groups, k) + f" The output is {fmt_shape(s.y)}."]


def _groups_sentence(cin, cout, groups, k) -> str:
    towers = " (as AlexNet's two GPU towers)" if groups == 2 else ""
    return (f"The {cin} input maps are split into {groups} groups{towers}: each of the {cout} kernels "
            f"sees only the {cin // groups} maps of its group, so it has {k[0]}×{k[1]}×{cin // groups} "
            f"weights instead of {k[0]}×{k[1]}×{cin}, and gives one feature map.")


def _one_by_one(k, cin, cout) -> str:
    if tuple(k) != (1, 1):
        return ""
    text = (f"A 1×1 convolution looks at one pixel at a time and mixes the maps there: it turns "
            f"{cin} maps into {cout}.")
    if cout < cin:
        text += (" Inception uses it \"to decrease a number of maps in layers\" before its expensive 3×3 and "
                 "5×5 convolutions.")
    return text


def _conv_transpose(s: _Story):
    cin, h, w = s.x
    cout = s.p["out_channels"]
    k, st = pair(s.p["kernel_size"]), pair(s.p["stride"])
    return [f"The input is {_maps(cin)} of {h}×{w}. A transposed convolution (an 'up-convolution') works "
            f"the other way round from a convolution: each input cell spreads its value, weighted by a "
            f"{k[0]}×{k[1]} kernel, onto the output, moving {st[0]} cell{'s' if st[0] != 1 else ''} there for "
            f"every cell here, so the maps grow.",
            f"Output size: {s.info.shape_formula}, i.e. (n − 1)·stride − 2·padding + dilation·(k − 1) + "
            f"output padding + 1. Each of the {cout} output maps sums a kernel's contribution from all "
            f"{cin} input maps, so the output is {fmt_shape(s.y)}."]


def _pool(mode):
    def tell(s: _Story):
        c, h, w = s.x
        k, st = pair(s.p["kernel_size"]), pair(s.p["stride"])
        pad = (k[0] // 2, k[1] // 2) if s.p["padding"] == "same" else pair(s.p["padding"])
        if s.p["ceil_mode"]:
            what = "the largest value" if mode == grid_arithmetic.MAX_POOL else "the average"
            story = (f"Pooling with a {k[0]}×{k[1]} window and stride {st[0]} keeps {what} of every window of "
                     f"each of the {c} maps of {h}×{w}. Ceil mode rounds the count of windows up instead of down, "
                     f"so a last, partial window at the edge still counts: {s.info.shape_formula}. "
                     f"The output is {fmt_shape(s.y)}.")
        else:
            story = grid_arithmetic.explain_pool_shape((h, w), k, st, pad, mode, c)
        extra = ""
        if mode == grid_arithmetic.AVG_POOL and any(pad) and not s.p["count_include_pad"]:
            extra = "Padded zeros are left out of each average (count_include_pad off)."
        return [story, extra]
    return tell


def _adaptive(s: _Story):
    c, h, w = s.x
    oh, ow = pair(s.p["output_size"])
    if (oh, ow) == (1, 1):
        return [f"Global average pooling: each of the {c} maps of {h}×{w} is averaged into a single number, "
                f"so the output is {fmt_shape(s.y)} whatever the image size (GoogLeNet and ResNet end this "
                "way instead of with large fully connected layers)."]
    return [f"Adaptive average pooling divides each of the {c} maps of {h}×{w} into {oh}×{ow} regions of about "
            f"{h / oh:.3g}×{w / ow:.3g} cells and averages each region, so the output is {fmt_shape(s.y)} "
            "whatever the input size."]


def _zero_pad(s: _Story):
    from designer.graph.blocks.pooling import pad4
    c, h, w = s.x
    left, right, top, bottom = pad4(s.p["padding"])
    if left == right == top == bottom:
        size = grid_arithmetic.padded_size_formula(h, top)
        sizes = size if h == w else f"{size} by {grid_arithmetic.padded_size_formula(w, left)}"
        body = (f"Zero padding adds {top} ring{'s' if top != 1 else ''} of zeros around each of the "
                f"{_maps(c)} of {h}×{w}: {sizes} in each direction, so the output is {fmt_shape(s.y)}.")
    else:
        body = (f"Zero padding adds {top} row(s) on top, {bottom} at the bottom, {left} column(s) on the left "
                f"and {right} on the right of each of the {_maps(c)}: {s.info.shape_formula}.")
    if (h, w, top) == (28, 28, 2) and left == right == top == bottom:
        body += " This is how the lecture pads a 28×28 digit to LeNet-5's 32×32 input."
    return [body]


def _linear(s: _Story):
    fin, fout = s.x[0], s.p["out_features"]
    bias = " plus a bias" if s.p["bias"] else ""
    return [f"A fully connected layer: each of its {count(fout)} outputs is a weighted sum of all "
            f"{count(fin)} inputs{bias}: one weight per connection, {count(fin)}×{count(fout)} in all. "
            f"{count(fin)} numbers in, {count(fout)} out."]


def _flatten(s: _Story):
    x = s.x
    if len(x) == 1:
        return [f"The input is already a vector of {count(x[0])} numbers; Flatten leaves it as it is."]
    return [f"Flatten lays the {_what_is(x)} one after another in a single row: {s.info.shape_formula} values, "
            "so that a fully connected layer can read them. Nothing is computed; the numbers keep their order."]


def _reshape(s: _Story):
    return [f"Reshape rearranges the {count(math.prod(s.x))} values of {fmt_shape(s.x)} into "
            f"{fmt_shape(s.y)}, in the same order. Nothing is computed."]


_ACTIVATIONS: dict[str, Callable[[dict], str]] = {
    "ReLU": lambda p: "ReLU, f(x) = max(0, x): negative values become 0, positive ones pass unchanged "
                      "(the rectifier AlexNet made standard).",
    "LeakyReLU": lambda p: f"Leaky ReLU: positive values pass, negative ones are multiplied by "
                           f"{p['negative_slope']:g} instead of becoming 0.",
    "PReLU": lambda p: "PReLU: like leaky ReLU, but the slope for negative values is learned.",
    "ELU": lambda p: f"ELU: positive values pass, negative ones become {p['alpha']:g}·(eˣ − 1), "
                     "a smooth curve that levels off.",
    "GELU": lambda p: "GELU: each value is weighted by the probability that a standard normal variable is "
                      "below it, a smooth ReLU.",
    "Sigmoid": lambda p: "The sigmoid 1 / (1 + e⁻ˣ) squashes every value into (0, 1).",
    "Tanh": lambda p: "tanh squashes every value into (−1, 1): LeNet-5's squashing function.",
}


def _activation(s: _Story):
    return [_ACTIVATIONS[s.node.type](s.p) + f" It acts on each value on its own, so {_stays(s.y)}."]


def _softmax(s: _Story):
    dim = s.p["dim"]
    axis = "class" if len(s.x) == 1 else ("channel" if dim == 1 else f"axis {dim}")
    n = s.x[dim - 1]
    log = s.node.type == "LogSoftmax"
    return [("LogSoftmax takes the logarithm of the softmax, computed stably; pair it with the NLL loss. "
             if log else "") +
            f"Softmax turns the {n} scores along the {axis} axis into probabilities: each becomes eˣ divided by "
            f"the sum of all {n} exponentials, so they are positive and add up to 1; {_stays(s.y)}."]


def _dropout(s: _Story):
    p = s.p["p"]
    unit = "whole channels (maps)" if s.node.type == "Dropout2d" else "values"
    return [f"While training, dropout sets {unit} to 0 at random with probability {p:g} and scales the rest "
            f"by 1/(1 − {p:g}) so the expected sum is unchanged; when evaluating it passes everything through "
            f"(AlexNet uses 0.5); {_stays(s.y)}."]


def _batchnorm(s: _Story):
    c = s.x[0]
    where = "over the batch and all pixels" if len(s.x) == 3 else "over the batch"
    scale = (f" then scales it by a learned γ and shifts it by a learned β, one pair per channel "
             f"(2 × {c})" if s.p["affine"] else "")
    return [f"Batch normalisation brings each of the {c} channels to mean 0 and variance 1 {where},{scale}; "
            f"{_stays(s.y)}."]


def _lrn(s: _Story):
    p = s.p
    return [f"AlexNet's local response normalisation: each value is divided by (k + α/n · Σ x²)^β, the sum "
            f"running over n = {p['size']} neighbouring channels at the same pixel "
            f"(k = {p['k']:g}, α = {p['alpha']:g}, β = {p['beta']:g}); {_stays(s.y)}."]


def _add(s: _Story):
    shapes = [v for v in s.ins.values()]
    return [f"A skip connection: the {len(shapes)} inputs are added element by element "
            f"({' + '.join(fmt_shape(x) for x in shapes)}), so they must have the same shape, and so does the "
            f"output, {fmt_shape(s.y)}. This is residual learning: the layers before it only learn what to add "
            "to their input."]


def _concat(s: _Story):
    shapes = list(s.ins.values())
    if len(s.y) == 1:
        return [f"Concatenation joins the vectors end to end: {s.info.shape_formula} numbers."]
    channels = " + ".join(str(x[0]) for x in shapes) + f" = {s.y[0]}"
    body = (f"Concatenation stacks the inputs' maps one after another along the channel axis: {channels} "
            f"maps of {_hw(s.y)}, so the output is {fmt_shape(s.y)}.")
    if s.p["crop"] and any(x[1:] != s.y[1:] for x in shapes):
        body += (f" The larger inputs ({', '.join(fmt_shape(x) for x in shapes if x[1:] != s.y[1:])}) are first "
                 f"centre-cropped to {_hw(s.y)}, as U-Net crops the encoder's maps before joining them to the "
                 "decoder's.")
    return [body]


def _upsample(s: _Story):
    c, h, w = s.x
    f = s.p["scale_factor"]
    how = "copying each value" if s.p["mode"] == "nearest" else "interpolating bilinearly"
    return [f"Upsampling enlarges each of the {_maps(c)} by {f:g} by {how}: {s.info.shape_formula}, so the "
            f"output is {fmt_shape(s.y)}."]


def _reparameterize(s: _Story):
    return [f"The VAE's reparameterisation: from the mean μ and the log-variance log σ² (both {fmt_shape(s.y)}) "
            "it draws z = μ + σ·ε with ε from a standard normal distribution and σ = exp(½·log σ²), so "
            "gradients flow through μ and σ. When evaluating it returns μ itself."]


def _generic(s: _Story):
    return [s.spec.doc, f"Shape: {s.info.shape_formula}." if s.info.shape_formula else ""]


# ---- composites ---------------------------------------------------------------------------------

def _composite(s: _Story):
    paragraphs = [s.spec.doc]
    if s.node.type == "Inception":
        paragraphs.append(_inception_story(s))
    elif s.node.type == "Residual":
        paragraphs.append(_residual_story(s))
    repeat = s.p.get("repeat", 1)
    for i, inner in enumerate(s.info.inner):
        head = f"Inside, copy {i + 1} of {repeat}:" if repeat > 1 else "Inside:"
        paragraphs.append(head + "\n" + "\n".join(_inner_lines(s.spec, s.node, i, inner)))
    return paragraphs


def _inner_lines(spec, node, copy: int, inner) -> list[str]:
    """One line per inner block: id (summary): in → out, its formula."""
    try:
        inside = spec.expand(node.params, dict(inner.input_shapes))
    except Exception:  # noqa: BLE001 - the lines below only need ids when the inside is gone
        inside = None
    lines = []
    for inner_id in inner.order:
        info = inner.nodes[inner_id]
        if info.type in ("Input", "Output"):
            continue
        inner_node = inside.nodes.get(inner_id) if inside is not None else None
        summary = ""
        if inner_node is not None:
            summary = inside.spec(inner_node).summary(inner_node.params)
        ins = " + ".join(fmt_shape(x) for x in info.in_shapes.values())
        formula = info.shape_formula if info.shape_formula and info.shape_formula != "shape unchanged" else ""
        name = f"{inner_id} ({summary})" if summary else inner_id
        line = f"  • {name}: {ins} → {fmt_shape(info.output_shape)}"
        lines.append(line + (f"   [{formula}]" if formula else ""))
    return lines


def _inception_story(s: _Story) -> str:
    c, h, w = s.x
    p = s.p
    out_c = s.y[0]
    if p["variant"] == "naive":
        branches = (f"a 1×1 convolution → {p['c1x1']} maps; a 3×3 convolution → {p['c3x3']}; "
                    f"a 5×5 convolution → {p['c5x5']}; and a 3×3 max pooling, which keeps all {c}")
        sums = f"{p['c1x1']} + {p['c3x3']} + {p['c5x5']} + {c}"
    else:
        branches = (f"a 1×1 convolution → {p['c1x1']} maps; a 1×1 reduction to {p['c3x3_reduce']} maps then a "
                    f"3×3 convolution → {p['c3x3']}; a 1×1 reduction to {p['c5x5_reduce']} then a 5×5 "
                    f"convolution → {p['c5x5']}; and a 3×3 max pooling followed by a 1×1 projection → "
                    f"{p['pool_proj']}")
        sums = f"{p['c1x1']} + {p['c3x3']} + {p['c5x5']} + {p['pool_proj']}"
    return (f"Four branches look at the same {_what_is(s.x)} side by side: {branches}. Every branch pads so "
            f"that it keeps {h}×{w} (padding 1 for 3×3, 2 for 5×5, stride 1), so the filter concatenation can "
            f"stack them: {sums} = {out_c} maps of {h}×{w}, {fmt_shape(s.y)}.")


def _residual_story(s: _Story) -> str:
    p = s.p
    c = s.x[0]
    convs = ("a 1×1 convolution to {0} maps, a 3×3 convolution to {0} maps (stride {1}) and a 1×1 convolution "
             "to {2}".format(p["out_channels"], p["stride"], p["out_channels"] * 4)
             if p["kind"] == "bottleneck"
             else f"two 3×3 convolutions to {p['out_channels']} maps (the first with stride {p['stride']})")
    bn = ", each followed by batch normalisation" if p["batchnorm"] else ""
    if not p["shortcut"]:
        return (f"A plain block: {convs}{bn} and ReLUs, with no skip connection, "
                f"{fmt_shape(s.x)} → {fmt_shape(s.y)}.")
    out_c = s.y[0]
    repeat = p.get("repeat", 1)
    changes = p["stride"] != 1 or c != out_c
    skip = ("The shapes change, so the skip path goes through a 1×1 convolution (a projection, stride "
            f"{p['stride']}) to {out_c} maps before the addition." if changes
            else "The shapes match, so the input is added back as it is (an identity shortcut).")
    more = f" The block is chained {repeat} times." if repeat > 1 else ""
    return (f"A residual block: {convs}{bn}, and then the block's input is added to the result (the skip "
            f"connection) before the last ReLU, so the convolutions only learn what to add. {skip}{more}")


_STORIES: dict[str, Callable[[_Story], list[str]]] = {
    "Input": _input,
    "Output": _output,
    "Conv2d": _conv,
    "ConvTranspose2d": _conv_transpose,
    "MaxPool2d": _pool(grid_arithmetic.MAX_POOL),
    "AvgPool2d": _pool(grid_arithmetic.AVG_POOL),
    "AdaptiveAvgPool2d": _adaptive,
    "ZeroPad2d": _zero_pad,
    "Linear": _linear,
    "Flatten": _flatten,
    "Reshape": _reshape,
    **{name: _activation for name in _ACTIVATIONS},
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "Dropout": _dropout,
    "Dropout2d": _dropout,
    "BatchNorm": _batchnorm,
    "LocalResponseNorm": _lrn,
    "Add": _add,
    "Concat": _concat,
    "Upsample": _upsample,
    "Reparameterize": _reparameterize,
}
