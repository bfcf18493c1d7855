"""How each built layer is written back as the constructor call that makes it,
for the Python source export: `nn.Conv2d(1, 6, kernel_size=5)`.

The call is read off the module instance the compiler built (not off the
block's parameters), so the exported code constructs exactly what was
compiled; arguments equal to PyTorch's defaults are left out, as a person
would write them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from designer import layers
from .errors import ExportError


@dataclass
class Arg:
    name: str            # the callee's parameter name (for an *args entry: its index)
    value: Any           # int, float, bool, str, tuple, None, or a Call
    keyword: bool = True


@dataclass
class Call:
    func: str
    args: list[Arg] = field(default_factory=list)


def _one(v):
    """(5, 5) -> 5: PyTorch takes a single number for equal height and width."""
    if isinstance(v, (tuple, list)) and len(v) > 0 and all(x == v[0] for x in v):
        return v[0]
    return tuple(v) if isinstance(v, list) else v


def _conv(m, func: str) -> Call:
    args = [Arg("in_channels", m.in_channels, False), Arg("out_channels", m.out_channels, False),
            Arg("kernel_size", _one(m.kernel_size))]
    if _one(m.stride) != 1:
        args.append(Arg("stride", _one(m.stride)))
    if m.padding != "valid" and _one(m.padding) != 0:
        args.append(Arg("padding", _one(m.padding)))
    if getattr(m, "output_padding", None) is not None and _one(m.output_padding) != 0:
        args.append(Arg("output_padding", _one(m.output_padding)))
    if _one(m.dilation) != 1:
        args.append(Arg("dilation", _one(m.dilation)))
    if m.groups != 1:
        args.append(Arg("groups", m.groups))
    if m.bias is None:
        args.append(Arg("bias", False))
    if m.padding_mode != "zeros":
        args.append(Arg("padding_mode", m.padding_mode))
    return Call(func, args)


def _pool(m, func: str) -> Call:
    args = [Arg("kernel_size", _one(m.kernel_size), False)]
    if _one(m.stride) != _one(m.kernel_size):
        args.append(Arg("stride", _one(m.stride)))
    if _one(m.padding) != 0:
        args.append(Arg("padding", _one(m.padding)))
    if getattr(m, "dilation", 1) != 1:
        args.append(Arg("dilation", _one(m.dilation)))
    if m.ceil_mode:
        args.append(Arg("ceil_mode", True))
    if isinstance(m, nn.AvgPool2d):
        if not m.count_include_pad:
            args.append(Arg("count_include_pad", False))
        if m.divisor_override is not None:
            args.append(Arg("divisor_override", m.divisor_override))
    return Call(func, args)


def _batchnorm(m, func: str) -> Call:
    args = [Arg("num_features", m.num_features, False)]
    if m.eps != 1e-5:
        args.append(Arg("eps", m.eps))
    if m.momentum != 0.1:
        args.append(Arg("momentum", m.momentum))
    if not m.affine:
        args.append(Arg("affine", False))
    if not m.track_running_stats:
        args.append(Arg("track_running_stats", False))
    return Call(func, args)


def _linear(m):
    args = [Arg("in_features", m.in_features, False), Arg("out_features", m.out_features, False)]
    if m.bias is None:
        args.append(Arg("bias", False))
    return Call("nn.Linear", args)


def _optional(func, pairs):
    """A call keeping only the (name, value, default) entries that differ from the default."""
    return Call(func, [Arg(name, value) for name, value, default in pairs if value != default])


def _flatten(m):
    return _optional("nn.Flatten", [("start_dim", m.start_dim, 1), ("end_dim", m.end_dim, -1)])


def _upsample(m):
    args = []
    if m.size is not None:
        args.append(Arg("size", m.size))
    if m.scale_factor is not None:
        args.append(Arg("scale_factor", m.scale_factor))
    if m.mode != "nearest":
        args.append(Arg("mode", m.mode))
    if m.align_corners is not None:
        args.append(Arg("align_corners", m.align_corners))
    return Call("nn.Upsample", args)


def _sequential(m):
    return Call("nn.Sequential", [Arg(str(i), constructor(child), False) for i, child in enumerate(m)])


def _inplace(func):
    return lambda m: _optional(func, [("inplace", m.inplace, False)])


_WRITERS = {
    nn.Conv2d: lambda m: _conv(m, "nn.Conv2d"),
    nn.ConvTranspose2d: lambda m: _conv(m, "nn.ConvTranspose2d"),
    nn.MaxPool2d: lambda m: _pool(m, "nn.MaxPool2d"),
    nn.AvgPool2d: lambda m: _pool(m, "nn.AvgPool2d"),
    nn.AdaptiveAvgPool2d: lambda m: Call("nn.AdaptiveAvgPool2d", [Arg("output_size", _one(m.output_size), False)]),
    nn.AdaptiveMaxPool2d: lambda m: Call("nn.AdaptiveMaxPool2d", [Arg("output_size", _one(m.output_size), False)]),
    nn.ZeroPad2d: lambda m: Call("nn.ZeroPad2d", [Arg("padding", _one(m.padding), False)]),
    nn.Linear: _linear,
    nn.Flatten: _flatten,
    nn.Unflatten: lambda m: Call("nn.Unflatten", [Arg("dim", m.dim, False),
                                                  Arg("unflattened_size", tuple(m.unflattened_size), False)]),
    nn.Sequential: _sequential,
    nn.Identity: lambda m: Call("nn.Identity"),
    nn.ReLU: _inplace("nn.ReLU"),
    nn.ReLU6: _inplace("nn.ReLU6"),
    nn.LeakyReLU: lambda m: _optional("nn.LeakyReLU", [("negative_slope", m.negative_slope, 0.01),
                                                       ("inplace", m.inplace, False)]),
    nn.PReLU: lambda m: _optional("nn.PReLU", [("num_parameters", m.num_parameters, 1)]),
    nn.ELU: lambda m: _optional("nn.ELU", [("alpha", m.alpha, 1.0), ("inplace", m.inplace, False)]),
    nn.GELU: lambda m: _optional("nn.GELU", [("approximate", m.approximate, "none")]),
    nn.SiLU: _inplace("nn.SiLU"),
    nn.Sigmoid: lambda m: Call("nn.Sigmoid"),
    nn.Tanh: lambda m: Call("nn.Tanh"),
    nn.Softmax: lambda m: Call("nn.Softmax", [Arg("dim", m.dim)]),
    nn.LogSoftmax: lambda m: Call("nn.LogSoftmax", [Arg("dim", m.dim)]),
    # the drop probability is written even at its default: it is the point of the layer
    nn.Dropout: lambda m: _optional("nn.Dropout", [("p", m.p, None), ("inplace", m.inplace, False)]),
    nn.Dropout2d: lambda m: _optional("nn.Dropout2d", [("p", m.p, None), ("inplace", m.inplace, False)]),
    nn.BatchNorm1d: lambda m: _batchnorm(m, "nn.BatchNorm1d"),
    nn.BatchNorm2d: lambda m: _batchnorm(m, "nn.BatchNorm2d"),
    nn.LocalResponseNorm: lambda m: Call("nn.LocalResponseNorm", [
        Arg("size", m.size, False)] + [Arg(n, v) for n, v, d in (("alpha", m.alpha, 1e-4), ("beta", m.beta, 0.75),
                                                                  ("k", m.k, 1.0)) if v != d]),
    nn.Upsample: _upsample,
    layers.Concat: lambda m: _optional("Concat", [("crop", m.crop, False)]),
    layers.Reparameterize: lambda m: Call("Reparameterize"),
    # the blocks imported networks are made of
    nn.Hardswish: _inplace("nn.Hardswish"),
    nn.Hardsigmoid: _inplace("nn.Hardsigmoid"),
    nn.LayerNorm: lambda m: Call("nn.LayerNorm", [Arg("normalized_shape", _one(tuple(m.normalized_shape)), False)]
                                 + _optional("", [("eps", m.eps, 1e-5),
                                                  ("elementwise_affine", m.elementwise_affine, True),
                                                  ("bias", m.bias is not None, True)]).args),
    nn.GroupNorm: lambda m: Call("nn.GroupNorm", [Arg("num_groups", m.num_groups, False),
                                                  Arg("num_channels", m.num_channels, False)]
                                 + _optional("", [("eps", m.eps, 1e-5), ("affine", m.affine, True)]).args),
    layers.Multiply: lambda m: Call("Multiply"),
    layers.Mean: lambda m: Call("Mean", [Arg("dims", m.dims, False)] + _optional("", [("keepdim", m.keepdim, False)]).args),
    layers.Permute: lambda m: Call("Permute", [Arg("dims", m.dims, False)]),
    layers.Slice: lambda m: Call("Slice", [Arg("index", m.index, False)]),
    layers.Parameter: lambda m: Call("Parameter", [Arg("shape", m.shape, False)] + _optional("", [
        ("batch_axis", m.batch_axis, True), ("learned", m.learned, True), ("std", m.std, 0.0),
        ("dtype", m.dtype, "float32")]).args),
    layers.MultiheadAttention: lambda m: Call("MultiheadAttention", [
        Arg("embed_dim", m.embed_dim, False), Arg("num_heads", m.num_heads, False)] + _optional("", [
            ("dropout", m.dropout, 0.0), ("bias", m.in_proj_bias is not None, True), ("kdim", m.kdim, m.embed_dim),
            ("vdim", m.vdim, m.embed_dim)]).args + [Arg("batch_first", True)]),
    layers.TorchFunction: lambda m: Call("TorchFunction", [
        Arg("function", m.function, False), Arg("args", m.args, False), Arg("kwargs", m.kwargs, False)]
        + _optional("", [("pick", m.pick, -1), ("batch_from", m.batch_from, 0)]).args),
}

# our own layers are not in torch: the export copies their source into the file
SUPPORT_SOURCE = {
    "Concat": (layers.center_crop, layers.Concat),
    "Reparameterize": (layers.Reparameterize,),
    "Multiply": (layers.Multiply,),
    "Mean": (layers.Mean,),
    "Permute": (layers.Permute,),
    "Slice": (layers.Slice,),
    "Parameter": (layers.Parameter,),
    "MultiheadAttention": (layers.MultiheadAttention,),
    "TorchFunction": (layers.resolve_function, layers.call_template, layers.TorchFunction),
}


def constructor(module: nn.Module) -> Call:
    if isinstance(module, layers.TorchvisionFunction):
        raise ExportError(f"the Python export writes torch alone, and {module.function} is torchvision's: "
                          "export to .pt2 instead")
    writer = _WRITERS.get(type(module))
    if writer is None:
        raise ExportError(f"the Python export does not know how to write a {type(module).__name__} layer")
    return writer(module)


def render_value(v) -> str:
    if isinstance(v, Call):
        return render_call(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(render_value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(render_value(x) for x in v) + "]"
    return repr(v)


def render_call(call: Call) -> str:
    parts = [f"{a.name}={render_value(a.value)}" if a.keyword else render_value(a.value) for a in call.args]
    return f"{call.func}({', '.join(parts)})"
