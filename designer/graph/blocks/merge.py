"""Add (skip connection), Concat (channel axis, optional centre crop), Upsample,
Reparameterize (VAE)."""
from functools import lru_cache, partial

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import shape as fmt_shape
from ..params import Param


def _numbered_inputs(p):
    return _ports(p["num_inputs"])


@lru_cache(maxsize=None)  # asked for on every analysis of every Add and Concat
def _ports(n: int) -> tuple[str, ...]:
    return tuple(f"in{i}" for i in range(1, n + 1))


def _present(ins):
    return [(port, s) for port, s in ins.items()]


def _add_infer(p, ins):
    shapes = [s for _, s in _present(ins)]
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            raise ShapeError("Add needs equal shapes: " + " and ".join(fmt_shape(x) for x in shapes))
    return Inference({"out": first}, formulas=partial(_add_formulas, shapes))


def _add_formulas(shapes) -> tuple[str, str, str]:
    return " + ".join(fmt_shape(s) for s in shapes), "", ""


_N = Param("num_inputs", "int", 2, "How many tensors to merge.", min=2, max=64)  # DenseNet-201 joins 49

register(BlockSpec("Add", "Merge", "Element-wise sum: the skip connection of residual networks.",
                   (_N,), _add_infer, None, inputs=_numbered_inputs, summary=lambda p: "add",
                   functional=True))


def _concat_infer(p, ins):
    shapes = [s for _, s in _present(ins)]
    ranks = {len(s) for s in shapes}
    if len(ranks) > 1:
        raise ShapeError("Concat needs tensors of the same rank: " + " and ".join(fmt_shape(s) for s in shapes))
    if ranks == {1}:
        out = (sum(s[0] for s in shapes),)
        return Inference({"out": out}, shape_formula=" + ".join(str(s[0]) for s in shapes) + f" = {out[0]}")
    rest = [s[1:] for s in shapes]
    crop = p["crop"] and len(shapes[0]) == 3  # the layer crops images (H and W) only
    if crop:
        target = tuple(min(s[i] for s in rest) for i in range(len(rest[0])))
    else:
        target = rest[0]
        if any(r != target for r in rest):
            hint = " (turn on crop to centre-crop the larger ones, as U-Net does)" if len(shapes[0]) == 3 \
                else ""
            raise ShapeError("Concat needs equal sizes apart from channels: "
                             + " and ".join(fmt_shape(s) for s in shapes) + hint)
    c = sum(s[0] for s in shapes)
    return Inference({"out": (c,) + target}, formulas=partial(_concat_formulas, shapes, crop, target, c))


def _concat_formulas(shapes, crop, target, c):
    formula = " + ".join(str(s[0]) for s in shapes) + f" = {c} channels"
    if crop and any(s[1:] != target for s in shapes):
        formula += f", cropped to {fmt_shape(target)}"
    return formula, "", ""


def _concat_build(p, ins):
    from designer.layers import Concat
    return Concat(p["crop"])


register(BlockSpec("Concat", "Merge",
                   "Joins tensors along the channel axis (Inception's filter concatenation, U-Net's skips).",
                   (_N, Param("crop", "bool", False, "Centre-crop larger inputs to the smallest (U-Net).")),
                   _concat_infer, _concat_build, inputs=_numbered_inputs,
                   summary=lambda p: "crop & concat" if p["crop"] else "concat", functional=True))


def _upsample_infer(p, ins):
    s = ins["in"]
    if len(s) != 3:
        raise ShapeError(f"Upsample needs an image C×H×W, got {fmt_shape(s)}")
    f = p["scale_factor"]
    c, h, w = s
    ho, wo = int(h * f), int(w * f)  # torch floors the scaled size
    if ho <= 0 or wo <= 0:
        raise ShapeError(f"output size would be {ho}×{wo}")
    return Inference({"out": (c, ho, wo)}, shape_formula=f"⌊{h}·{f:g}⌋ = {ho}" if h == w else
                     f"⌊{h}·{f:g}⌋ = {ho}, ⌊{w}·{f:g}⌋ = {wo}")


def _upsample_build(p, ins):
    import torch.nn as nn
    mode = p["mode"]
    return nn.Upsample(scale_factor=p["scale_factor"], mode=mode,
                       align_corners=False if mode == "bilinear" else None)


register(BlockSpec("Upsample", "Generative", "Enlarges the image by a factor, without learned weights.",
                   (Param("scale_factor", "float", 2.0, "Size multiplier.", min=0.01, max=64),
                    Param("mode", "enum", "nearest", "Interpolation.", choices=("nearest", "bilinear"))),
                   _upsample_infer, _upsample_build,
                   summary=lambda p: f"upsample ×{p['scale_factor']:g} {p['mode']}"))


def _reparam_infer(p, ins):
    mu, logvar = ins["mu"], ins["logvar"]
    if mu != logvar:
        raise ShapeError(f"μ and log σ² need equal shapes: {fmt_shape(mu)} and {fmt_shape(logvar)}")
    return Inference({"out": mu}, shape_formula="z = μ + σ·ε,  ε ~ N(0, I)")


def _reparam_build(p, ins):
    from designer.layers import Reparameterize
    return Reparameterize()


register(BlockSpec("Reparameterize", "Generative",
                   "VAE sampling: z = μ + exp(½·log σ²)·ε in training, z = μ in evaluation.",
                   (), _reparam_infer, _reparam_build, inputs=("mu", "logvar"),
                   summary=lambda p: "z = μ + σ·ε"))
