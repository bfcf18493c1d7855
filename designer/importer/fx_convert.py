"""A traced module's nodes as blocks of the catalog: each fx node that gives a tensor becomes
one block (a first-class one where the layer or function has a declaration, else a generic
TorchModule / TorchFunction), with its weights, the tensors that feed it and the modules it
sits in. Nodes that compute sizes (x.shape, x.size(0), assertions) are folded into the
arguments of the blocks that use them."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import torch
from torch import fx, nn

from designer import layers
from designer.graph.block import get_block
from designer.graph.blocks.generic import DTYPES
from torchvision.ops import misc as _tv_ops
from .trace import BATCHES, Trace


@dataclass
class Block:
    name: str                       # the id it would like: its module's name or the function's
    type: str
    params: dict
    inputs: list                    # fx nodes feeding its input ports, in order
    scope: tuple                    # enclosing modules: ((path, class), …) outermost first
    weights: dict = field(default_factory=dict)   # its module's own state_dict keys -> tensors
    trainable: bool = True
    where: str = ""                 # for messages: the module path or the code
    node: object = None             # the fx node it stands for


class Unmappable(Exception):
    """This node cannot become a block; the message says why, in words."""


def fold(trace: Trace, value, what: str):
    """A non-tensor argument as the document writes it (JSON, with batch markers)."""
    small, big = _both(trace, value)
    return _template(small, big, what)


def _both(trace: Trace, value):
    if isinstance(value, fx.Node):
        return trace.runs[0][value.name], trace.runs[1][value.name]
    if isinstance(value, (list, tuple)):
        pairs = [_both(trace, v) for v in value]
        kind = type(value) if not isinstance(value, torch.Size) else tuple
        return kind(p[0] for p in pairs), kind(p[1] for p in pairs)
    if isinstance(value, dict):
        pairs = {k: _both(trace, v) for k, v in value.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    if isinstance(value, slice):
        a, b = _both(trace, [value.start, value.stop, value.step])
        return slice(*a), slice(*b)
    return value, value


def _template(small, big, what):
    b0, b1 = BATCHES
    if isinstance(small, torch.Tensor):
        raise Unmappable(f"{what} takes a tensor where the designer writes a constant")
    if isinstance(small, bool) or small is None or isinstance(small, str):
        if small != big:
            raise Unmappable(f"{what} changes with the batch size")
        return small
    if isinstance(small, int):
        if small == big:
            return small
        if small % b0 == 0 and big % b1 == 0 and small // b0 == big // b1:
            return {"batch": small // b0}
        raise Unmappable(f"{what} depends on the batch size in a way the designer cannot write ({small}, {big})")
    if isinstance(small, float):
        if small != big or not math.isfinite(small):
            raise Unmappable(f"{what} holds {small}, which a document cannot write")
        return small
    if isinstance(small, (tuple, list, torch.Size)):
        return [_template(a, b, what) for a, b in zip(small, big)]
    if isinstance(small, dict):
        return {k: _template(small[k], big[k], what) for k in small}
    if isinstance(small, slice):
        return {"slice": _template([small.start, small.stop, small.step], [big.start, big.stop, big.step], what)}
    if small is Ellipsis:
        return {"ellipsis": 0}
    if isinstance(small, torch.dtype):
        return {"dtype": str(small).removeprefix("torch.")}
    raise Unmappable(f"{what} takes a {type(small).__name__}, which a document cannot write")


def is_tensor(trace: Trace, node) -> bool:
    return isinstance(node, fx.Node) and isinstance(trace.runs[0].get(node.name), torch.Tensor)


def shape_of(trace: Trace, node) -> tuple:
    """The shape a drawing gives the value: without the batch, or whole where it has none."""
    shape = tuple(trace.runs[0][node.name].shape)
    return shape if node.name in trace.unbatched else shape[1:]


def _input_kinds(trace: Trace, tensors) -> dict:
    """A generic block's `unbatched` and `dtypes` for these input tensors ("" where all are
    float32 with a batch axis)."""
    unbatched, dtypes = [], []
    for k, t in enumerate(tensors):
        if t.name in trace.unbatched:
            unbatched.append(str(k))
        dtype = str(trace.runs[0][t.name].dtype).removeprefix("torch.")
        if dtype != "float32":
            if dtype not in DTYPES:
                raise Unmappable(f"it takes a {dtype} tensor, which a document cannot describe")
            dtypes.append(f"{k}:{dtype}")
    return {"unbatched": ",".join(unbatched), "dtypes": ",".join(dtypes)}


# ---- modules ------------------------------------------------------------------------------------------

def _pairs(v):
    return list(v) if isinstance(v, (tuple, list)) else v


def _one(v):
    v = _pairs(v)
    return v[0] if isinstance(v, list) and len(set(v)) == 1 else v


def _conv(m, ins):
    if m.padding_mode != "zeros" or not isinstance(m, nn.Conv2d) or len(ins[0]) != 3:
        return None
    pad = m.padding if isinstance(m.padding, str) else _one(m.padding)
    if pad == "valid":
        pad = 0
    return "Conv2d", dict(out_channels=m.out_channels, kernel_size=_one(m.kernel_size), stride=_one(m.stride),
                          padding=pad, dilation=_one(m.dilation), groups=m.groups, bias=m.bias is not None)


def _convt(m, ins):
    if m.padding_mode != "zeros" or len(ins[0]) != 3:
        return None
    return "ConvTranspose2d", dict(out_channels=m.out_channels, kernel_size=_one(m.kernel_size),
                                   stride=_one(m.stride), padding=_one(m.padding),
                                   output_padding=_one(m.output_padding), dilation=_one(m.dilation),
                                   groups=m.groups, bias=m.bias is not None)


def _linear(m, ins):
    return ("Linear", dict(out_features=m.out_features, bias=m.bias is not None)) if len(ins[0]) == 1 else None


def _batchnorm(m, ins):
    if not m.track_running_stats or m.momentum is None or (len(ins[0]) == 3) != isinstance(m, nn.BatchNorm2d):
        return None
    return "BatchNorm", dict(eps=m.eps, momentum=m.momentum, affine=m.affine)


def _pool(kind):
    def rule(m, ins):
        if getattr(m, "return_indices", False) or _one(getattr(m, "dilation", 1)) != 1 or len(ins[0]) != 3:
            return None
        if getattr(m, "divisor_override", None) is not None:
            return None
        params = dict(kernel_size=_one(m.kernel_size), stride=_one(m.stride if m.stride is not None else
                                                                    m.kernel_size),
                      padding=_one(m.padding), ceil_mode=m.ceil_mode)
        if kind == "AvgPool2d":
            params["count_include_pad"] = m.count_include_pad
        return kind, params
    return rule


def _adaptive(kind):
    def rule(m, ins):
        size = _one(m.output_size)
        if len(ins[0]) != 3 or size is None or (isinstance(size, list) and None in size) or \
                getattr(m, "return_indices", False):
            return None
        return kind, dict(output_size=size)
    return rule


def _layernorm(m, ins):
    k = len(m.normalized_shape)
    if k > len(ins[0]) or tuple(ins[0][len(ins[0]) - k:]) != tuple(m.normalized_shape):
        return None
    return "LayerNorm", dict(axes=k, eps=m.eps, elementwise_affine=m.elementwise_affine,
                             bias=getattr(m, "bias", None) is not None)


def _softmax(kind):
    def rule(m, ins):
        rank = len(ins[0]) + 1
        dim = m.dim if m.dim is None or m.dim >= 0 else m.dim + rank
        return (kind, dict(dim=dim)) if dim is not None and 1 <= dim < rank else None
    return rule


def _mha(m, ins):
    if not m.batch_first or m.bias_k is not None or m.add_zero_attn or any(len(s) != 2 for s in ins):
        return None
    return "MultiheadAttention", dict(num_heads=m.num_heads, dropout=m.dropout, bias=m.in_proj_bias is not None)


def _upsample(m, ins):
    if m.size is not None or isinstance(m.scale_factor, (tuple, list)) or m.mode not in ("nearest", "bilinear") \
            or m.align_corners or m.recompute_scale_factor or len(ins[0]) != 3:
        return None
    return "Upsample", dict(scale_factor=float(m.scale_factor), mode=m.mode)


def _plain(kind, **params):
    return lambda m, ins: (kind, {k: getattr(m, a) for k, a in params.items()})


_MODULES = {
    nn.Conv2d: _conv, nn.ConvTranspose2d: _convt, nn.Linear: _linear,
    nn.BatchNorm1d: _batchnorm, nn.BatchNorm2d: _batchnorm,
    nn.MaxPool2d: _pool("MaxPool2d"), nn.AvgPool2d: _pool("AvgPool2d"),
    nn.AdaptiveAvgPool2d: _adaptive("AdaptiveAvgPool2d"), nn.AdaptiveMaxPool2d: _adaptive("AdaptiveMaxPool2d"),
    nn.LayerNorm: _layernorm,
    nn.GroupNorm: lambda m, ins: ("GroupNorm", dict(num_groups=m.num_groups, eps=m.eps, affine=m.affine)),
    nn.ReLU: _plain("ReLU"), nn.ReLU6: _plain("ReLU6"), nn.SiLU: _plain("SiLU"), nn.Hardswish: _plain("Hardswish"),
    nn.Hardsigmoid: _plain("Hardsigmoid"), nn.Sigmoid: _plain("Sigmoid"), nn.Tanh: _plain("Tanh"),
    nn.Identity: _plain("Identity"),
    nn.GELU: _plain("GELU", approximate="approximate"),
    nn.LeakyReLU: _plain("LeakyReLU", negative_slope="negative_slope"), nn.ELU: _plain("ELU", alpha="alpha"),
    nn.Dropout: _plain("Dropout", p="p"),
    nn.Dropout2d: lambda m, ins: ("Dropout2d", dict(p=m.p)) if len(ins[0]) == 3 else None,
    nn.Flatten: lambda m, ins: ("Flatten", {}) if (m.start_dim, m.end_dim) == (1, -1) else None,
    nn.Softmax: _softmax("Softmax"), nn.LogSoftmax: _softmax("LogSoftmax"),
    nn.MultiheadAttention: _mha, nn.Upsample: _upsample,
    _tv_ops.Permute: lambda m, ins: ("Permute", {"dims": list(m.dims[1:])}) if m.dims[0] == 0 else None,
    nn.ZeroPad2d: lambda m, ins: ("ZeroPad2d", dict(padding=_one(m.padding))) if len(ins[0]) == 3 else None,
    nn.LocalResponseNorm: lambda m, ins: ("LocalResponseNorm", dict(size=m.size, alpha=m.alpha, beta=m.beta,
                                                                       k=m.k)),
}


def constructor_kwargs(m: nn.Module) -> dict:
    """The arguments that rebuild `m`, read off its attributes and checked by rebuilding it on
    the meta device (same description and the same tensors, by name and shape)."""
    import inspect
    cls = type(m)
    kwargs = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name in ("self", "device", "dtype") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name == "bias" and not isinstance(getattr(m, "bias", None), bool):
            kwargs[name] = getattr(m, "bias", None) is not None
            continue
        if not hasattr(m, name):
            if p.default is p.empty:
                raise Unmappable(f"its constructor argument {name!r} cannot be read back")
            continue
        value = getattr(m, name)
        if isinstance(value, torch.Size):
            value = list(value)
        if isinstance(value, tuple):
            value = list(value)
        kwargs[name] = value
    try:
        text = json.dumps(kwargs, allow_nan=False)
    except (TypeError, ValueError):
        raise Unmappable("its constructor arguments are not plain numbers and text") from None
    with torch.device("meta"):
        try:
            again = cls(**json.loads(text))
        except Exception as exc:  # noqa: BLE001
            raise Unmappable(f"it cannot be rebuilt from its settings ({exc})") from None
    same = again.extra_repr() == m.extra_repr() and \
        {k: tuple(v.shape) for k, v in again.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in m.state_dict().items()}
    if not same:
        raise Unmappable("its settings could not be read back exactly")
    return json.loads(text)


def layer_name(m: nn.Module) -> str | None:
    """nn.X or torchvision.ops.X when `m` is one of those classes (the allow-list)."""
    cls = type(m)
    for prefix in ("nn", "torchvision.ops"):
        name = f"{prefix}.{cls.__name__}"
        try:
            if layers.layer_class(name) is cls:
                return name
        except ValueError:
            continue
    return None


def module_block(trace: Trace, node: fx.Node, scope, args, kwargs) -> Block:
    m = trace.gm.get_submodule(node.target)
    tensors = [a for a in args if isinstance(a, fx.Node) and is_tensor(trace, a)]
    extra = [a for a in args if a not in tensors]
    ins = [shape_of(trace, a) for a in tensors]
    weights = dict(m.state_dict())
    if isinstance(m, nn.MultiheadAttention):
        if any(k not in ("need_weights", "attn_mask", "key_padding_mask") for k in kwargs) or \
                kwargs.get("attn_mask") is not None or kwargs.get("key_padding_mask") is not None or extra:
            raise Unmappable("attention with a mask is not imported yet")
    elif kwargs or extra:
        raise Unmappable(f"its call passes arguments besides tensors ({', '.join(map(str, kwargs)) or extra})")
    kinds = _input_kinds(trace, tensors)
    rule = _MODULES.get(type(m)) if not any(kinds.values()) else None
    mapped = rule(m, ins) if rule and len(tensors) in (1, 3 if isinstance(m, nn.MultiheadAttention) else 1) \
        else None
    if mapped is None:
        name = layer_name(m)
        if name is None:
            raise Unmappable(f"{type(m).__module__}.{type(m).__name__} is not a torch.nn or torchvision.ops layer")
        kwargs_json = json.dumps(constructor_kwargs(m))
        if len(kwargs_json) > 200:
            raise Unmappable("its constructor arguments are too long to write in a document")
        mapped = ("TorchModule", dict(layer=name, kwargs=kwargs_json, num_inputs=len(tensors), **kinds))
    kind, params = mapped
    trainable = any(p.requires_grad for p in m.parameters()) or not any(True for _ in m.parameters())
    return Block(node.target.rpartition(".")[2], kind, params, tensors, scope, weights, trainable,
                 node.target, node)


# ---- functions ----------------------------------------------------------------------------------------

_ACTIVATIONS = {
    "ReLU": ("F.relu", "torch.relu", "Tensor.relu"), "ReLU6": ("F.relu6",), "SiLU": ("F.silu",),
    "Sigmoid": ("torch.sigmoid", "F.sigmoid", "Tensor.sigmoid"), "Tanh": ("torch.tanh", "F.tanh", "Tensor.tanh"),
    "Hardswish": ("F.hardswish",), "Hardsigmoid": ("F.hardsigmoid",), "GELU": ("F.gelu",),
}
_ACTIVATION_OF = {name: kind for kind, names in _ACTIVATIONS.items() for name in names}
ALIASES = ("Tensor.contiguous",)   # the same values: the block is left out, its input passes on


def function_name_of(node: fx.Node) -> str | None:
    if node.op == "call_method":
        name = "Tensor." + node.target
        try:
            layers.function_named(name)
        except ValueError:
            return None
        return name
    return layers.function_name(node.target)


def _call_name(node: fx.Node) -> str:
    target = node.target
    if node.op == "call_method":
        return f"x.{target}(…)"
    return f"{getattr(target, '__module__', '') or ''}.{getattr(target, '__name__', target)}".lstrip(".")


def _flat_nodes(value, out):
    if isinstance(value, fx.Node):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _flat_nodes(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _flat_nodes(v, out)
    elif isinstance(value, slice):
        _flat_nodes([value.start, value.stop, value.step], out)
    return out


def _first_class(trace, name, node, tensors, const):
    """(type, params) of a declared block for this call, or None."""
    ins = [shape_of(trace, t) for t in tensors]
    rank = len(ins[0]) + 1 if ins else 0
    args = node.args
    if name in _ACTIVATION_OF and len(tensors) == 1 and args[0] is tensors[0]:
        kind = _ACTIVATION_OF[name]
        rest = const(list(args[1:]))
        kw = const(dict(node.kwargs))
        if kind == "GELU" and not rest and set(kw) <= {"approximate"}:
            return kind, {"approximate": kw.get("approximate", "none")}
        if not rest and not (set(kw) - {"inplace"}):
            return kind, {}
        return None
    if name in ("operator.add", "torch.add", "Tensor.add") and len(tensors) == 2 and len(args) == 2 \
            and not node.kwargs and ins[0] == ins[1]:
        return "Add", {"num_inputs": 2}
    if name in ("operator.mul", "torch.mul", "Tensor.mul") and len(tensors) == 2 and len(args) == 2 \
            and not node.kwargs and len(ins[0]) == len(ins[1]):
        return "Multiply", {"num_inputs": 2}
    if name == "torch.cat" and isinstance(args[0], (list, tuple)) and list(args[0]) == tensors:
        dim = const(args[1] if len(args) > 1 else node.kwargs.get("dim", 0))
        if dim in (1, 1 - rank) and len({len(s) for s in ins}) == 1 and 2 <= len(tensors) <= 64 and \
                len({s[1:] for s in ins}) == 1:
            return "Concat", {"num_inputs": len(tensors), "crop": False}
        return None
    if name in ("torch.flatten", "Tensor.flatten") and len(tensors) == 1:
        start = const(args[1] if len(args) > 1 else node.kwargs.get("start_dim", 0))
        end = const(args[2] if len(args) > 2 else node.kwargs.get("end_dim", -1))
        return ("Flatten", {}) if start == 1 and end in (-1, rank - 1) else None
    if name in ("Tensor.mean", "torch.mean") and len(tensors) == 1:
        dims = const(args[1] if len(args) > 1 else node.kwargs.get("dim"))
        keep = const(args[2] if len(args) > 2 else node.kwargs.get("keepdim", False))
        dims = [dims] if isinstance(dims, int) else dims
        if not isinstance(dims, list) or not dims or not all(isinstance(d, int) for d in dims):
            return None
        dims = [d + rank if d < 0 else d for d in dims]
        return ("Mean", {"dims": dims, "keepdim": bool(keep)}) if 0 not in dims and len(dims) <= 4 else None
    if name in ("Tensor.permute", "torch.permute") and len(tensors) == 1:
        dims = const(list(args[1:]) if not node.kwargs else node.kwargs.get("dims"))
        if len(dims) == 1 and isinstance(dims[0], list):
            dims = dims[0]
        dims = [d + rank if isinstance(d, int) and d < 0 else d for d in dims]
        return ("Permute", {"dims": dims[1:]}) if dims and dims[0] == 0 and 1 < len(dims) <= 5 else None
    if name in ("Tensor.reshape", "Tensor.view", "torch.reshape") and len(tensors) == 1 and not node.kwargs:
        shape = const(list(args[1:]))
        if len(shape) == 1 and isinstance(shape[0], list):
            shape = shape[0]
        if shape and shape[0] == {"batch": 1} and 1 <= len(shape) - 1 <= 4 and \
                all(isinstance(d, int) and (d >= 1 or d == -1) for d in shape[1:]):
            return "Reshape", {"shape": shape[1:]}
        return None
    if name == "operator.getitem" and len(tensors) == 1 and args[0] is tensors[0]:
        return _slice(const(args[1]))
    if name in ("F.adaptive_avg_pool2d", "F.adaptive_max_pool2d") and len(ins[0]) == 3 and len(args) <= 2:
        size = const(args[1] if len(args) > 1 else node.kwargs.get("output_size"))
        if size is None or (isinstance(size, list) and None in size) or set(node.kwargs) - {"output_size"}:
            return None
        kind = "AdaptiveAvgPool2d" if name == "F.adaptive_avg_pool2d" else "AdaptiveMaxPool2d"
        return kind, {"output_size": size}
    if name == "F.dropout" and len(tensors) == 1:
        p = const(args[1] if len(args) > 1 else node.kwargs.get("p", 0.5))
        return "Dropout", {"p": p}
    return None


def _slice(index) -> tuple | None:
    """x[:, …] as a Slice block's index text, when the batch axis is taken whole."""
    items = index if isinstance(index, list) else [index]
    if not items or items[0] != {"slice": [None, None, None]}:
        return None
    parts = []
    for item in items[1:]:
        if isinstance(item, int) and not isinstance(item, bool):
            parts.append(str(item))
        elif item is None:
            parts.append("None")
        elif item == {"ellipsis": 0}:
            parts.append("...")
        elif isinstance(item, dict) and "slice" in item and all(v is None or isinstance(v, int)
                                                                for v in item["slice"]):
            a, b, c = item["slice"]
            parts.append(":".join("" if v is None else str(v) for v in (a, b)) + (f":{c}" if c is not None else ""))
        else:
            return None
    text = ", ".join(parts)
    return ("Slice", {"index": text}) if parts and len(text) <= 200 else None


def function_block(trace: Trace, node: fx.Node, scope, pick: int = -1, source: fx.Node | None = None) -> Block:
    """The block of a call_function / call_method node (`source`: the call a getitem picks from)."""
    call = source or node
    name = function_name_of(call)
    if name is None:
        raise Unmappable(f"{_call_name(call)} is not a torch, torch.nn.functional, Tensor or operator function")
    tensors = []
    for a in _flat_nodes([call.args, call.kwargs], []):
        if is_tensor(trace, a) and a not in tensors:
            tensors.append(a)
    if not tensors:
        raise Unmappable(f"{name} makes a tensor from no input, which the designer cannot draw yet")

    def const(value):
        return fold(trace, value, name)

    kinds = _input_kinds(trace, tensors)
    # the catalog's blocks take batched float tensors; the rest stay generic, told which are not
    mapped = _first_class(trace, name, call, tensors, const) if pick < 0 and not any(kinds.values()) else None
    if name == "Tensor.view":   # the same values; reshape also takes a tensor a dropped contiguous() left strided
        name = "Tensor.reshape"
    base = name.rpartition(".")[2].strip("_") or "op"
    if mapped is not None:
        return Block(base, mapped[0], mapped[1], tensors, scope, where=name, node=node)

    def write(value):
        if isinstance(value, fx.Node) and value in tensors:
            return {"in": tensors.index(value)}
        if isinstance(value, (list, tuple)) and len(value) > 2 and list(value) == tensors:
            return {"ins": len(tensors)}    # all the inputs as one list (torch.cat of many)
        if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
            items = [write(v) for v in value]
            return {"tuple": items} if isinstance(value, tuple) and name == "operator.getitem" else items
        if isinstance(value, dict):
            return {k: write(v) for k, v in value.items()}
        if isinstance(value, slice):
            return {"slice": [write(v) for v in (value.start, value.stop, value.step)]}
        return const(value)

    args = json.dumps(write(list(call.args)), allow_nan=False)
    kwargs = json.dumps(write(dict(call.kwargs)), allow_nan=False)
    if len(args) > 200 or len(kwargs) > 200:
        raise Unmappable(f"{name}: its arguments are too long to write in a document")
    batch_from = 0
    if '"batch"' in args or '"batch"' in kwargs:
        batched = [i for i, x in enumerate(tensors) if _has_batch_axis(trace, x)]
        if batched:
            batch_from = batched[0]
        else:   # the batch size comes from the network's input (ViT's class token, expanded)
            tensors.append(next(n for n in trace.gm.graph.nodes if n.op == "placeholder"))
            batch_from = len(tensors) - 1
    params = dict(function=name, args=args, kwargs=kwargs, num_inputs=len(tensors), pick=pick,
                  batch_from=batch_from, **kinds)
    return Block(base, "TorchFunction", params, tensors, scope, where=name, node=node)


def _has_batch_axis(trace: Trace, node) -> bool:
    small, big = trace.runs[0][node.name], trace.runs[1][node.name]
    return small.dim() > 0 and (small.shape[0], big.shape[0]) == BATCHES


def parameter_block(trace: Trace, node: fx.Node, scope) -> Block:
    real = _attr(trace.gm, node.target)
    shape = tuple(real.shape)
    batch_axis = node.name in trace.batch_axis
    per_sample = shape[1:] if batch_axis else shape
    if not 1 <= len(per_sample) <= 4 or 0 in per_sample:
        raise Unmappable(f"the tensor {node.target} has a shape {list(shape)} that a Parameter block cannot hold")
    dtype = str(real.dtype).removeprefix("torch.")
    if dtype not in next(p for p in get_block("Parameter").params if p.name == "dtype").choices:
        raise Unmappable(f"the tensor {node.target} holds {dtype} values, which a Parameter block cannot hold")
    learned = isinstance(real, nn.Parameter)
    return Block(node.target.rpartition(".")[2], "Parameter",
                 dict(shape=list(per_sample), batch_axis=batch_axis, learned=learned, dtype=dtype),
                 [], scope, {"value": real}, real.requires_grad if learned else True, node.target, node)


def absorbed_parameters(trace: Trace, node: fx.Node) -> list | None:
    """The get_attr nodes a functional layer norm takes as its weight and bias, when it is their
    one user: the call then becomes one LayerNorm block holding them (ConvNeXt's LayerNorm2d)."""
    if node.op != "call_function" or layers.function_name(node.target) != "F.layer_norm":
        return None
    args = list(node.args) + [None] * (5 - len(node.args))
    weight = node.kwargs.get("weight", args[2])
    bias = node.kwargs.get("bias", args[3])
    found = [a for a in (weight, bias) if a is not None]
    if not weight or not all(isinstance(a, fx.Node) and a.op == "get_attr" and len(a.users) == 1 for a in found):
        return None
    return found


def layer_norm_block(trace: Trace, node: fx.Node, scope) -> Block:
    args = list(node.args) + [None] * (5 - len(node.args))
    shape = fold(trace, node.kwargs.get("normalized_shape", args[1]), "F.layer_norm")
    eps = fold(trace, node.kwargs.get("eps", args[4] if args[4] is not None else 1e-5), "F.layer_norm")
    weight = _attr(trace.gm, node.kwargs.get("weight", args[2]).target)
    bias_node = node.kwargs.get("bias", args[3])
    x = node.args[0]
    ins = shape_of(trace, x)
    shape = [shape] if isinstance(shape, int) else shape
    if tuple(ins[len(ins) - len(shape):]) != tuple(shape):
        raise Unmappable("its normalised shape is not the input's last axes")
    weights = {"weight": weight}
    if bias_node is not None:
        weights["bias"] = _attr(trace.gm, bias_node.target)
    params = dict(axes=len(shape), eps=eps, elementwise_affine=True, bias=bias_node is not None)
    return Block("layer_norm", "LayerNorm", params, [x], scope, weights, weight.requires_grad, "F.layer_norm", node)


def _attr(root, target: str):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj
