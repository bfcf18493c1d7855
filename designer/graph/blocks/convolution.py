"""Conv2d and ConvTranspose2d. in_channels is inferred from the incoming shape."""
from functools import partial

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count
from ..params import Param, pair
from .geometry import (join_formulas, need_image, transposed_formula, transposed_size, window_formula,
                       window_size)


def _weight_formula(kh, kw, cin_g, cout):
    inner = f"{kh}×{kw}" if cin_g == 1 else f"{kh}×{kw}×{cin_g}"
    return f"({inner})×{cout}"


def _param_formula(wf: str, weights: int, biases: int) -> str:
    return f"{wf} + {biases} = {count(weights + biases)}" if biases else f"{wf} = {count(weights)}"


def _check_groups(cin, cout, g):
    if cin % g:
        raise ShapeError(f"groups {g} must divide the {cin} input channels")
    if cout % g:
        raise ShapeError(f"groups {g} must divide the {cout} output channels")


def _conv_infer(p, ins):
    cin, h, w = need_image(ins)
    cout, g = p["out_channels"], p["groups"]
    _check_groups(cin, cout, g)
    (kh, kw), (sh, sw), (dh, dw) = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    if p["padding"] == "same":
        if (sh, sw) != (1, 1):
            raise ShapeError("padding 'same' works only with stride 1 (as in PyTorch)")
        # torch pads d·(k−1) in all, asymmetrically when that is odd: the size is kept
        ho, wo = h, w
    else:
        ph, pw = pair(p["padding"])
        ho = window_size(h, kh, sh, ph, dh)
        wo = window_size(w, kw, sw, pw, dw)
    weights = kh * kw * (cin // g) * cout
    biases = cout if p["bias"] else 0
    macs = cout * ho * wo * (cin // g) * kh * kw
    out = (cout, ho, wo)
    return Inference({"out": out}, weights, biases, macs, resolved={"in_channels": cin},
                     formulas=partial(_conv_formulas, p, ins, out, weights, biases))


def _conv_formulas(p, ins, out, weights, biases):
    (_, h, w), (_, ho, wo) = ins["in"], out
    (kh, kw), (sh, sw), (dh, dw) = pair(p["kernel_size"]), pair(p["stride"]), pair(p["dilation"])
    if p["padding"] == "same":
        sf = f"'same' padding keeps {h}×{w}"
    else:
        ph, pw = pair(p["padding"])
        sf = join_formulas(window_formula(h, kh, sh, ph, dh, False, ho),
                           window_formula(w, kw, sw, pw, dw, False, wo))
    wf = _weight_formula(kh, kw, ins["in"][0] // p["groups"], p["out_channels"])
    return sf, _param_formula(wf, weights, biases), wf


def _conv_build(p, ins):
    import torch.nn as nn
    return nn.Conv2d(ins["in"][0], p["out_channels"], pair(p["kernel_size"]), pair(p["stride"]),
                     p["padding"] if p["padding"] == "same" else pair(p["padding"]),
                     pair(p["dilation"]), p["groups"], p["bias"])


def _conv_summary(p):
    k = pair(p["kernel_size"])
    s = pair(p["stride"])
    text = f"conv {k[0]}×{k[1]} ×{p['out_channels']}, s{s[0] if s[0] == s[1] else f'{s[0]},{s[1]}'}"
    pad = p["padding"]
    if pad == "same":
        text += ", same"
    elif pair(pad) != (0, 0):
        pp = pair(pad)
        text += f", p{pp[0] if pp[0] == pp[1] else f'{pp[0]},{pp[1]}'}"
    if p["groups"] > 1:
        text += f", g{p['groups']}"
    if pair(p["dilation"]) != (1, 1):
        text += f", d{pair(p['dilation'])[0]}"
    return text


_COMMON = (
    Param("out_channels", "int", 16, "Number of filters, i.e. output channels.", min=1, max=65536),
    Param("kernel_size", "pair", 3, "Filter size: one number or [height, width].", min=1, max=1024),
    Param("stride", "pair", 1, "Step of the sliding window.", min=1, max=1024),
)

register(BlockSpec(
    "Conv2d", "Convolution",
    "2-D convolution (cross-correlation, as PyTorch computes it). in_channels comes from the input.",
    _COMMON + (
        Param("padding", "padding", 0, "Zeros added on each side: a number, [h, w], or 'same'.", min=0, max=1024),
        Param("dilation", "pair", 1, "Spacing between kernel taps.", min=1, max=64),
        Param("groups", "int", 1, "Split channels into groups (AlexNet's two towers: 2).", min=1, max=65536),
        Param("bias", "bool", True, "Add a learned bias per output channel."),
    ),
    _conv_infer, _conv_build, summary=_conv_summary))


def _convt_infer(p, ins):
    cin, h, w = need_image(ins)
    cout, g = p["out_channels"], p["groups"]
    _check_groups(cin, cout, g)
    (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["stride"])
    (ph, pw), (oh, ow), (dh, dw) = pair(p["padding"]), pair(p["output_padding"]), pair(p["dilation"])
    if oh >= max(sh, dh) or ow >= max(sw, dw):
        raise ShapeError("output padding must be smaller than the stride or the dilation")
    ho = transposed_size(h, kh, sh, ph, oh, dh)
    wo = transposed_size(w, kw, sw, pw, ow, dw)
    # the weight is (in, out/groups, kh, kw)
    weights = cin * (cout // g) * kh * kw
    biases = cout if p["bias"] else 0
    macs = cin * h * w * (cout // g) * kh * kw
    out = (cout, ho, wo)
    return Inference({"out": out}, weights, biases, macs, resolved={"in_channels": cin},
                     formulas=partial(_convt_formulas, p, ins, out, weights, biases))


def _convt_formulas(p, ins, out, weights, biases):
    (cin, h, w), (_, ho, wo) = ins["in"], out
    (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["stride"])
    (ph, pw), (oh, ow), (dh, dw) = pair(p["padding"]), pair(p["output_padding"]), pair(p["dilation"])
    sf = join_formulas(transposed_formula(h, kh, sh, ph, oh, dh, ho),
                       transposed_formula(w, kw, sw, pw, ow, dw, wo))
    wf = _weight_formula(kh, kw, p["out_channels"] // p["groups"], cin)  # (kh×kw×out/g)×in
    return sf, _param_formula(wf, weights, biases), wf


def _convt_build(p, ins):
    import torch.nn as nn
    return nn.ConvTranspose2d(ins["in"][0], p["out_channels"], pair(p["kernel_size"]), pair(p["stride"]),
                              pair(p["padding"]), pair(p["output_padding"]), p["groups"], p["bias"],
                              pair(p["dilation"]))


register(BlockSpec(
    "ConvTranspose2d", "Convolution",
    "Transposed convolution ('up-convolution'): grows the image, as in U-Net's decoder and GAN generators.",
    (Param("out_channels", "int", 16, "Output channels.", min=1, max=65536),
     Param("kernel_size", "pair", 2, "Filter size.", min=1, max=1024),
     Param("stride", "pair", 2, "Upsampling factor.", min=1, max=1024),
     Param("padding", "pair", 0, "Cells removed from each side of the output.", min=0, max=1024),
     Param("output_padding", "pair", 0, "Extra cells added on one side of the output.", min=0, max=1024),
     Param("dilation", "pair", 1, "Spacing between kernel taps.", min=1, max=64),
     Param("groups", "int", 1, "Split channels into groups.", min=1, max=65536),
     Param("bias", "bool", True, "Add a learned bias per output channel.")),
    _convt_infer, _convt_build,
    summary=lambda p: f"up-conv {pair(p['kernel_size'])[0]}×{pair(p['kernel_size'])[1]} ×{p['out_channels']}, s{pair(p['stride'])[0]}"))
