"""Conv2d and ConvTranspose2d. in_channels is inferred from the incoming shape."""
from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count
from ..params import Param, pair
from .geometry import join_formulas, need_image, transposed_out, window_out


def _weight_formula(kh, kw, cin_g, cout):
    inner = f"{kh}×{kw}" if cin_g == 1 else f"{kh}×{kw}×{cin_g}"
    return f"({inner})×{cout}"


def _param_parts(kh, kw, cin_g, cout, bias):
    weights = kh * kw * cin_g * cout
    biases = cout if bias else 0
    wf = _weight_formula(kh, kw, cin_g, cout)
    pf = f"{wf} + {cout} = {count(weights + biases)}" if bias else f"{wf} = {count(weights)}"
    return weights, biases, wf, pf


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
        sf = f"'same' padding keeps {h}×{w}"
    else:
        ph, pw = pair(p["padding"])
        ho, fh = window_out(h, kh, sh, ph, dh)
        wo, fw = window_out(w, kw, sw, pw, dw)
        sf = join_formulas(fh, fw)
    weights, biases, wf, pf = _param_parts(kh, kw, cin // g, cout, p["bias"])
    macs = cout * ho * wo * (cin // g) * kh * kw
    return Inference({"out": (cout, ho, wo)}, weights, biases, macs, sf, pf, wf,
                     resolved={"in_channels": cin})


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
    ho, fh = transposed_out(h, kh, sh, ph, oh, dh)
    wo, fw = transposed_out(w, kw, sw, pw, ow, dw)
    # the weight is (in, out/groups, kh, kw)
    weights = cin * (cout // g) * kh * kw
    biases = cout if p["bias"] else 0
    inner = f"{kh}×{kw}" if cout // g == 1 else f"{kh}×{kw}×{cout // g}"
    wf = f"({inner})×{cin}"
    pf = f"{wf} + {cout} = {count(weights + biases)}" if biases else f"{wf} = {count(weights)}"
    macs = cin * h * w * (cout // g) * kh * kw
    return Inference({"out": (cout, ho, wo)}, weights, biases, macs, join_formulas(fh, fw), pf, wf,
                     resolved={"in_channels": cin})


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
