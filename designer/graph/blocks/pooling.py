"""Max, average, adaptive (global) pooling and zero padding."""
from functools import partial

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..params import Param, pair
from .geometry import join_formulas, need_image, window_formula, window_size


def _pool_padding(p):
    if p["padding"] == "same":
        kh, kw = pair(p["kernel_size"])
        if pair(p["stride"]) != (1, 1) or kh % 2 == 0 or kw % 2 == 0:
            raise ShapeError("padding 'same' for pooling needs stride 1 and an odd kernel")
        return kh // 2, kw // 2
    return pair(p["padding"])


def _pool_infer(p, ins):
    c, h, w = need_image(ins)
    (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["stride"])
    ph, pw = _pool_padding(p)
    if 2 * ph > kh or 2 * pw > kw:
        raise ShapeError(f"padding {max(ph, pw)} is more than half the {kh}×{kw} window (PyTorch refuses it)")
    ho = window_size(h, kh, sh, ph, 1, p["ceil_mode"], what="window")
    wo = window_size(w, kw, sw, pw, 1, p["ceil_mode"], what="window")
    out = (c, ho, wo)
    return Inference({"out": out}, formulas=partial(_pool_formulas, p, ins, out))


def _pool_formulas(p, ins, out):
    (_, h, w), (_, ho, wo) = ins["in"], out
    (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["stride"])
    ph, pw = _pool_padding(p)
    return join_formulas(window_formula(h, kh, sh, ph, 1, p["ceil_mode"], ho),
                         window_formula(w, kw, sw, pw, 1, p["ceil_mode"], wo)), "", ""


def _pool_summary(kind):
    def text(p):
        k, s = pair(p["kernel_size"]), pair(p["stride"])
        return f"{kind} {k[0]}×{k[1]}, s{s[0]}" + (", ceil" if p["ceil_mode"] else "")
    return text


def _pool_params(extra=()):
    return (Param("kernel_size", "pair", 2, "Window size.", min=1, max=1024),
            Param("stride", "pair", 2, "Step of the window (PyTorch's default equals the window).", min=1, max=1024),
            Param("padding", "padding", 0, "Padding on each side: a number, [h, w] or 'same'.", min=0, max=512),
            Param("ceil_mode", "bool", False, "Round the output size up instead of down.")) + extra


def _max_build(p, ins):
    import torch.nn as nn
    return nn.MaxPool2d(pair(p["kernel_size"]), pair(p["stride"]), _pool_padding(p), ceil_mode=p["ceil_mode"])


def _avg_build(p, ins):
    import torch.nn as nn
    return nn.AvgPool2d(pair(p["kernel_size"]), pair(p["stride"]), _pool_padding(p), ceil_mode=p["ceil_mode"],
                        count_include_pad=p["count_include_pad"])


register(BlockSpec("MaxPool2d", "Pooling", "Keeps the largest value of each window.",
                   _pool_params(), _pool_infer, _max_build, summary=_pool_summary("max")))
register(BlockSpec("AvgPool2d", "Pooling", "Averages each window (LeNet-5's subsampling).",
                   _pool_params((Param("count_include_pad", "bool", True, "Count padded zeros in the average."),)),
                   _pool_infer, _avg_build, summary=_pool_summary("avg")))


def _adaptive_infer(p, ins):
    c, h, w = need_image(ins)
    oh, ow = pair(p["output_size"])
    return Inference({"out": (c, oh, ow)}, shape_formula=f"{h}×{w} → {oh}×{ow} whatever the input size")


def _adaptive_build(cls_name):
    def build(p, ins):
        import torch.nn as nn
        return getattr(nn, cls_name)(pair(p["output_size"]))
    return build


def _adaptive_summary(kind):
    return lambda p: f"global {kind}" if pair(p["output_size"]) == (1, 1) \
        else f"adaptive {kind} → {pair(p['output_size'])[0]}×{pair(p['output_size'])[1]}"


_OUTPUT_SIZE = (Param("output_size", "pair", 1, "Output height and width.", min=1, max=4096),)
register(BlockSpec("AdaptiveAvgPool2d", "Pooling",
                   "Averages to a fixed output size; 1×1 is global average pooling.",
                   _OUTPUT_SIZE, _adaptive_infer, _adaptive_build("AdaptiveAvgPool2d"),
                   summary=_adaptive_summary("avg")))
register(BlockSpec("AdaptiveMaxPool2d", "Pooling",
                   "Keeps the largest value of each region of a fixed output grid; 1×1 is global max pooling.",
                   _OUTPUT_SIZE, _adaptive_infer, _adaptive_build("AdaptiveMaxPool2d"),
                   summary=_adaptive_summary("max")))


def pad4(v) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) from a number, an [h, w] pair or a 4-tuple."""
    if isinstance(v, int):
        return (v, v, v, v)
    if len(v) == 2:
        return (v[1], v[1], v[0], v[0])
    return tuple(v)


def _zeropad_infer(p, ins):
    c, h, w = need_image(ins)
    l, r, t, b = pad4(p["padding"])
    ho, wo = h + t + b, w + l + r
    if h == w and t == b == l == r:
        formula = f"{h} + 2·{t} = {ho}"
    else:
        formula = f"H: {h} + {t} + {b} = {ho};  W: {w} + {l} + {r} = {wo}"
    return Inference({"out": (c, ho, wo)}, shape_formula=formula)


def _zeropad_build(p, ins):
    import torch.nn as nn
    return nn.ZeroPad2d(pad4(p["padding"]))


register(BlockSpec("ZeroPad2d", "Pooling",
                   "Adds rows and columns of zeros around the image (28×28 padded by 2 → 32×32).",
                   (Param("padding", "pad4", 2, "A number, [h, w], or [left, right, top, bottom].", min=0, max=4096),),
                   _zeropad_infer, _zeropad_build,
                   summary=lambda p: f"pad {p['padding'] if isinstance(p['padding'], int) else list(p['padding'])}"))
