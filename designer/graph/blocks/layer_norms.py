"""LayerNorm (the last axes of each sample, as transformers and ConvNeXt use it) and GroupNorm
(channels in groups). The normalised sizes and the channels come from the input."""
import math

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count, shape as fmt_shape
from ..params import Param

_EPS = Param("eps", "float", 1e-5, "Added to the variance for stability.", min=1e-12, max=1)


def _layernorm_infer(p, ins):
    s = ins["in"]
    k = p["axes"]
    if k > len(s):
        raise ShapeError(f"LayerNorm over the last {k} axes needs that many, {fmt_shape(s)} has {len(s)}")
    normalized = s[len(s) - k:]
    n = math.prod(normalized)
    w = n if p["elementwise_affine"] else 0
    b = n if p["elementwise_affine"] and p["bias"] else 0
    return Inference({"out": s}, weights=w, biases=b, macs=2 * math.prod(s),
                     resolved={"normalized_shape": normalized},
                     shape_formula=f"shape unchanged; normalised over {fmt_shape(normalized)}",
                     param_formula=(f"γ {count(w)}" + (f" + β {count(b)}" if b else "") + f" = {count(w + b)}")
                     if w else "no learned parameters", weight_formula=str(w) if w else "")


def _layernorm_build(p, ins):
    import torch.nn as nn
    s = ins["in"]
    return nn.LayerNorm(s[len(s) - p["axes"]:], eps=p["eps"], elementwise_affine=p["elementwise_affine"],
                        bias=p["bias"])


register(BlockSpec("LayerNorm", "Normalization",
                   "Normalises each sample over its last axes (the features of a token; transformers, ConvNeXt).",
                   (Param("axes", "int", 1, "How many trailing axes to normalise over (their sizes come from the "
                          "input).", min=1, max=4),
                    _EPS,
                    Param("elementwise_affine", "bool", True, "Learn a scale γ (and shift β) per element."),
                    Param("bias", "bool", True, "Learn the shift β too.")),
                   _layernorm_infer, _layernorm_build, summary=lambda p: "layer norm"))


def _groupnorm_infer(p, ins):
    s = ins["in"]
    c, g = s[0], p["num_groups"]
    if c % g:
        raise ShapeError(f"{g} groups must divide the {c} channels")
    n = c if p["affine"] else 0
    return Inference({"out": s}, weights=n, biases=n, macs=2 * math.prod(s), resolved={"num_channels": c},
                     shape_formula=f"shape unchanged; {g} groups of {c // g} channels",
                     param_formula=f"γ {c} + β {c} = {count(2 * n)}" if n else "no learned parameters",
                     weight_formula=str(n) if n else "")


def _groupnorm_build(p, ins):
    import torch.nn as nn
    return nn.GroupNorm(p["num_groups"], ins["in"][0], eps=p["eps"], affine=p["affine"])


register(BlockSpec("GroupNorm", "Normalization",
                   "Normalises each sample over groups of channels (independent of the batch size).",
                   (Param("num_groups", "int", 32, "Channels are split into this many groups.", min=1, max=65536),
                    _EPS, Param("affine", "bool", True, "Learn a scale γ and shift β per channel.")),
                   _groupnorm_infer, _groupnorm_build, summary=lambda p: f"group norm {p['num_groups']}"))
