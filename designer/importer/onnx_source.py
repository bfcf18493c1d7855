"""An .onnx file as a torch.fx GraphModule the importer then maps like any module: each ONNX
node becomes the torch layer (with the file's weights) or tensor function that computes the
same, placed at the module path the exporter recorded (`pkg.torch.onnx.name_scopes`), so the
source's hierarchy comes back as composites. Shape arithmetic (Shape, Gather, Concat of sizes)
becomes Python-level size arithmetic, which the importer folds into constants and multiples of
the batch. The file is data: reading it runs no code."""
from __future__ import annotations

import ast
import math
import operator
import re
from pathlib import Path

import torch
from torch import fx, nn
from torch.nn import functional as F

from .errors import ImportFailure, first_line

_CONTAINERS = {"torch.nn.modules.container.Sequential": nn.Sequential,
               "torch.nn.modules.container.ModuleList": nn.ModuleList,
               "torch.nn.modules.container.ModuleDict": nn.ModuleDict}
_CLASSES: dict[str, type] = {}
SOURCE_STACK = "source_stack"   # node meta: the module scopes the source recorded, [(path, class)] outermost first


def class_named(qualname: str) -> type:
    """The class a file names for a module: torch.nn's own where it is one, else a stand-in of
    that name (only the name is used; nothing is imported)."""
    if qualname in _CONTAINERS:
        return _CONTAINERS[qualname]
    if qualname.startswith("torch.nn.modules."):
        cls = getattr(nn, qualname.rpartition(".")[2], None)
        if isinstance(cls, type) and f"{cls.__module__}.{cls.__qualname__}" == qualname:
            return cls
    if qualname not in _CLASSES:
        name = qualname.rpartition(".")[2] or "Module"
        _CLASSES[qualname] = type(name if name.isidentifier() else "Module", (nn.Module,), {"__module__": "onnx"})
    return _CLASSES[qualname]


class _Unsupported(Exception):
    pass


class _Outputs(list):
    """The values of a node with several outputs, in the order of its output names."""


def in_attention(stack) -> bool:
    """Whether an operation ran inside an nn.MultiheadAttention (which attention.py puts back whole)."""
    return any(isinstance(cls, type) and issubclass(cls, nn.MultiheadAttention) for _, cls in stack)


class Builder:
    """A new GraphModule being written node by node, its layers placed at the module paths the
    source recorded (`scope(node)` says which), its constants made parameters where used."""

    def __init__(self, consts: dict):
        self.root = nn.Module()
        self.g = fx.Graph()
        self.env: dict[str, object] = {}
        self.consts: dict[str, torch.Tensor] = consts
        self.params: dict[str, fx.Node] = {}
        self.taken: set[str] = set()
        self.stack: dict = {}      # the module scopes of the node being converted
        self.uses: dict[str, int] = {}   # value name -> how many nodes take it
        self.parents: set[str] = set()   # module paths that hold other recorded modules
        self.first_dims: dict[str, object] = {}   # value name -> its first size as the file records it
        self.batch = None                # the first input's first size, when the file names it (dynamic)

    # ---- values ----------------------------------------------------------------------------------
    def const(self, name: str):
        if name in self.consts:
            return self.consts[name]
        value = self.env.get(name)
        return value if isinstance(value, torch.Tensor) else None

    def value(self, name: str):
        """The fx node (a tensor), or a Python size/list, or a constant made a parameter."""
        if name in self.env:
            return self.env[name]
        if name in self.consts:
            return self.tensor_constant(name)
        raise _Unsupported(f"the value {name!r} is used before it is made")

    def tensor_constant(self, name: str) -> fx.Node:
        """A constant tensor the graph uses as an operand: the exporter's weights (pos_embedding) or
        small numbers; a learned-looking one (named after a module) becomes a parameter."""
        if name not in self.params:
            t = self.consts[name]
            # at the top of the module (a module's path may hold a layer already), named after it
            target = self._unique(attr_path(name).replace(".", "_"))
            set_attr(self.root, target, nn.Parameter(t.float(), requires_grad=t.is_floating_point())
                      if t.is_floating_point() else t)
            self.params[name] = self.g.get_attr(target)
            self.params[name].meta["nn_module_stack"] = dict(self.stack)   # where the node using it runs
        return self.params[name]

    def _unique(self, path: str) -> str:
        base, k = path, 1
        while path in self.taken:
            path = f"{base}_{k}"
            k += 1
        self.taken.add(path)
        return path

    # ---- nodes -----------------------------------------------------------------------------------
    def scope(self, node) -> tuple[str, list]:
        """(the path of the module `node` belongs to, [(path, class) from the outermost])."""
        return _onnx_scope(node)

    def module(self, node, layer: nn.Module, args) -> fx.Node:
        """The layer at the module path of its scope when that module is a leaf of the source (the
        layer the operation came from); one written in the forward of a module that holds others
        (TransformerEncoderLayer's F.relu) becomes a layer of its own inside that module."""
        path, stack = self.scope(node)
        if stack and self.is_leaf(stack[-1]):
            leaf, enclosing = path, stack[:-1]
        else:
            leaf, enclosing = (f"{path}.{self.name(node)}" if path else self.name(node)), stack
        target = self._unique(attr_path(leaf))
        set_attr(self.root, target, layer)
        out = self.g.call_module(target, tuple(args))
        out.meta["nn_module_stack"] = {p: (p, c) for p, c in enclosing} | {target: (target, type(layer))}
        out.meta[SOURCE_STACK] = stack
        return out

    def is_leaf(self, scope: tuple) -> bool:
        return scope[0] not in self.parents

    def name(self, node) -> str:
        return _kind(node)

    def function(self, node, f, args, kwargs=None) -> fx.Node:
        path, stack = self.scope(node)
        kind = "call_method" if isinstance(f, str) else "call_function"
        out = self.g.create_node(kind, f, tuple(args), kwargs or {})
        out.meta["nn_module_stack"] = {p: (p, c) for p, c in stack}   # the modules it runs in
        out.meta[SOURCE_STACK] = stack
        return out

    def finish(self, outs, name: str) -> fx.GraphModule:
        self.g.output(outs[0] if len(outs) == 1 else tuple(outs))
        gm = fx.GraphModule(self.root, self.g, name)
        gm.designer_ready = True     # built here, with its module scopes: the importer takes it as it is
        return gm


def _kind(node) -> str:
    return node.op_type.lower() if hasattr(node, "op_type") else str(node.name)


def _onnx_scope(node) -> tuple[str, list]:
    """The scopes torch.onnx's exporter records on a node (full module paths and class names)."""
    props = {p.key: p.value for p in node.metadata_props}
    try:
        names = ast.literal_eval(props.get("pkg.torch.onnx.name_scopes", "[]"))
        classes = ast.literal_eval(props.get("pkg.torch.onnx.class_hierarchy", "[]"))
    except (ValueError, SyntaxError):
        names, classes = [], []
    names, classes = list(names)[1:-1], list(classes)[1:-1]
    stack = [(str(name), class_named(cls)) for name, cls in zip(names, classes)]   # full paths already
    return (stack[-1][0] if stack else ""), stack


def attr_path(name: str) -> str:
    parts = [re.sub(r"\W", "_", p) or "_" for p in name.split(".")]
    return ".".join(p if not p[0].isdigit() else p for p in parts)


def set_attr(root: nn.Module, target: str, value):
    *parents, leaf = target.split(".")
    obj = root
    for p in parents:
        if not hasattr(obj, p):
            obj.add_module(p, nn.Module())
        obj = getattr(obj, p)
    if isinstance(value, nn.Module):
        obj.add_module(leaf, value)
    elif isinstance(value, nn.Parameter):
        obj.register_parameter(leaf, value)
    else:
        obj.register_buffer(leaf, value)


def _attrs(node) -> dict:
    from onnx import helper
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _ints(t) -> list[int]:
    return [int(v) for v in t.flatten().tolist()]


def _pads(pads, rank=2):
    if not pads:
        return 0
    begin, end = pads[:rank], pads[rank:]
    if begin != end:
        raise _Unsupported("padding that differs between the two sides")
    return tuple(begin)


def _convert(b: Builder, node):
    op, ins, a = node.op_type, list(node.input), _attrs(node)
    x = b.value(ins[0]) if ins and ins[0] else None
    if op == "Constant":
        from onnx import numpy_helper
        return torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
    if op in ("Identity", "Dropout"):
        return x
    if op == "Conv":
        w = b.const(ins[1])
        bias = b.const(ins[2]) if len(ins) > 2 and ins[2] else None
        if w is None or w.dim() != 4 or a.get("auto_pad", "NOTSET") != "NOTSET":
            raise _Unsupported("a convolution other than 2-D with its weights in the file")
        groups = a.get("group", 1)
        layer = nn.Conv2d(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), tuple(a.get("strides", (1, 1))),
                          _pads(a.get("pads")), tuple(a.get("dilations", (1, 1))), groups, bias is not None)
        with torch.no_grad():
            layer.weight.copy_(w)
            if bias is not None:
                layer.bias.copy_(bias)
        return b.module(node, layer, [x])
    if op == "Gemm":
        w, bias = b.const(ins[1]), (b.const(ins[2]) if len(ins) > 2 and ins[2] else None)
        if w is None or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
            raise _Unsupported("a Gemm other than x·Wᵀ + b")
        w = w if a.get("transB", 0) else w.t()
        return b.module(node, _linear(w, bias), [x])
    if op == "MatMul" and b.const(ins[1]) is not None and ins[1] not in b.env:
        return b.module(node, _linear(b.const(ins[1]).t(), None), [x])
    if op == "BatchNormalization":
        scale, shift, mean, var = (b.const(n) for n in ins[1:5])
        layer = nn.BatchNorm2d(scale.numel(), eps=a.get("epsilon", 1e-5), momentum=1 - a.get("momentum", 0.9))
        with torch.no_grad():
            layer.weight.copy_(scale), layer.bias.copy_(shift)
            layer.running_mean.copy_(mean), layer.running_var.copy_(var)
        return b.module(node, layer, [x])
    if op == "LayerNormalization":
        scale = b.const(ins[1])
        shift = b.const(ins[2]) if len(ins) > 2 and ins[2] else None
        layer = nn.LayerNorm(tuple(scale.shape), eps=a.get("epsilon", 1e-5), bias=shift is not None)
        with torch.no_grad():
            layer.weight.copy_(scale)
            if shift is not None:
                layer.bias.copy_(shift)
        return b.module(node, layer, [x])
    simple = {"Relu": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "HardSwish": nn.Hardswish}
    if op in simple:
        return b.module(node, simple[op](), [x])
    if op == "HardSigmoid":
        if not (math.isclose(a.get("alpha", 0.2), 1 / 6, rel_tol=1e-4) and math.isclose(a.get("beta", 0.5), 0.5)):
            raise _Unsupported("a hard sigmoid other than PyTorch's")
        return b.module(node, nn.Hardsigmoid(), [x])
    if op == "Gelu":
        return b.module(node, nn.GELU(approximate=a.get("approximate", "none")), [x])
    if op == "Softmax":
        return b.function(node, F.softmax, [x, a.get("axis", -1)])
    if op in ("MaxPool", "AveragePool"):
        k = tuple(a["kernel_shape"])
        common = dict(kernel_size=k, stride=tuple(a.get("strides", k)), padding=_pads(a.get("pads")),
                      ceil_mode=bool(a.get("ceil_mode", 0)))
        if op == "MaxPool":
            if any(d != 1 for d in a.get("dilations", (1, 1))):
                raise _Unsupported("a dilated max pooling")
            return b.module(node, nn.MaxPool2d(**common), [x])
        return b.module(node, nn.AvgPool2d(**common, count_include_pad=bool(a.get("count_include_pad", 0))), [x])
    if op == "GlobalAveragePool":
        return b.module(node, nn.AdaptiveAvgPool2d(1), [x])
    if op == "GlobalMaxPool":
        return b.module(node, nn.AdaptiveMaxPool2d(1), [x])
    if op == "ReduceMean":
        axes = a.get("axes") or (_ints(b.const(ins[1])) if len(ins) > 1 and ins[1] else None)
        return b.function(node, "mean", [x, list(axes)], {"keepdim": bool(a.get("keepdims", 1))})
    if op == "Add" and _bias_of_matmul(b, ins):
        return b.value(ins[0])
    if op in ("Add", "Sub", "Mul", "Div"):
        f = {"Add": operator.add, "Sub": operator.sub, "Mul": operator.mul, "Div": operator.truediv}[op]
        left, right = (_operand(b, n) for n in ins[:2])
        if not any(isinstance(v, fx.Node) for v in (left, right)):
            return f(left, right)      # size arithmetic or constants
        return b.function(node, f, [left, right])
    if op == "MatMul":
        return b.function(node, torch.matmul, [b.value(ins[0]), b.value(ins[1])])
    if op == "Concat":
        parts = [_operand(b, n) for n in ins]
        if all(not isinstance(p, fx.Node) or _is_size(b, p) for p in parts):   # a size being put together
            if not any(isinstance(p, fx.Node) and p.meta["size"] == "seq" for p in parts):
                return [v for p in parts for v in _as_list(p)]
            joined = None
            for p in parts:
                piece = p if isinstance(p, fx.Node) and p.meta["size"] == "seq" else tuple(_as_list(p))
                joined = piece if joined is None else b.function(node, operator.add, [joined, piece])
                if isinstance(joined, fx.Node):
                    joined.meta["size"] = "seq"
            return joined
        return b.function(node, torch.cat, [[b.value(n) for n in ins], a.get("axis", 0)])
    if op == "Split":
        sizes = _ints(b.const(ins[1])) if len(ins) > 1 and ins[1] and b.const(ins[1]) is not None else a.get("split")
        if not sizes:
            raise _Unsupported("a split into parts the file does not size")
        whole = b.function(node, torch.split, [x, list(sizes), a.get("axis", 0)])
        return _Outputs(b.function(node, operator.getitem, [whole, i]) for i in range(len(sizes)))
    if op == "Flatten":
        return b.function(node, torch.flatten, [x, a.get("axis", 1)])
    if op == "Reshape":
        shape = _size(b, ins[1])
        if isinstance(shape, list) and shape and shape[0] == -1 and b.batch is not None and \
                b.first_dims.get(ins[0]) == b.first_dims.get(node.output[0]) == b.batch:
            batch = b.function(node, "size", [x, 0])   # the -1 the exporter wrote is the batch: say so
            batch.meta["size"] = "int"
            shape = [batch, *shape[1:]]
        return b.function(node, "reshape", [x, shape])
    if op == "Expand":   # ONNX broadcasts: a size of 1 keeps the tensor's own, which torch writes -1
        return b.function(node, "expand", [x, [-1 if v == 1 and not isinstance(v, fx.Node) else v
                                               for v in _size(b, ins[1])]])
    if op == "Transpose":
        return b.function(node, "permute", [x, list(a["perm"])])
    if op == "Shape":
        size = b.function(node, getattr, [x, "shape"])
        size.meta["size"] = "seq"
        if "end" in a and a["end"] >= 0 and a.get("start", 0) >= 0:   # sizes one by one: they join lists
            items = [b.function(node, operator.getitem, [size, i]) for i in range(a.get("start", 0), a["end"])]
            for item in items:
                item.meta["size"] = "int"
            return items
        if "start" in a or "end" in a:
            size = b.function(node, operator.getitem, [size, slice(a.get("start", 0), a.get("end"))])
            size.meta["size"] = "seq"
        return size
    if op == "Gather":
        idx = b.const(ins[1])
        axis = a.get("axis", 0)
        if idx is None or idx.dim() > 0:
            raise _Unsupported("a gather by a list of indices")
        if isinstance(x, (list, fx.Node)) and (isinstance(x, list) or _is_size(b, x)):
            if isinstance(x, list):
                return x[int(idx)]
            item = b.function(node, operator.getitem, [x, int(idx)])
            item.meta["size"] = "int"
            return item
        if axis > 0:   # x[:, …, i]: an index block a reader knows
            return b.function(node, operator.getitem, [x, (slice(None),) * axis + (int(idx),)])
        return b.function(node, "select", [x, axis, int(idx)])
    if op in ("Unsqueeze", "Squeeze"):
        axes = a.get("axes") or (_ints(b.const(ins[1])) if len(ins) > 1 and ins[1] else None)
        if isinstance(x, (int, fx.Node)) and (not isinstance(x, fx.Node) or _is_size(b, x)) and op == "Unsqueeze":
            return [x]
        if isinstance(x, list) and op == "Squeeze":
            return x[0]
        f = "unsqueeze" if op == "Unsqueeze" else "squeeze"
        out = x
        for axis in (sorted(axes) if op == "Unsqueeze" else sorted(axes, reverse=True)):
            out = b.function(node, f, [out, axis])
        return out
    if op == "Slice":
        starts, ends = _ints(b.const(ins[1])), _ints(b.const(ins[2]))
        axes = _ints(b.const(ins[3])) if len(ins) > 3 and ins[3] else list(range(len(starts)))
        steps = _ints(b.const(ins[4])) if len(ins) > 4 and ins[4] else [1] * len(starts)
        if isinstance(x, list):
            return x[starts[0]:ends[0]:steps[0]]
        if isinstance(x, fx.Node) and _is_size(b, x):
            part = b.function(node, operator.getitem, [x, slice(starts[0], None if ends[0] >= 2 ** 62 else ends[0],
                                                               steps[0])])
            part.meta["size"] = "seq"
            return part
        index = [slice(None)] * (max(axes) + 1)
        for s, e, ax, st in zip(starts, ends, axes, steps):
            index[ax] = slice(s, None if e >= 2 ** 62 else e, st)
        return b.function(node, operator.getitem, [x, tuple(index)])
    if op == "Clip":
        lo = b.const(ins[1]) if len(ins) > 1 and ins[1] else None
        hi = b.const(ins[2]) if len(ins) > 2 and ins[2] else None
        if lo is not None and hi is not None and float(lo) == 0 and float(hi) == 6:
            return b.module(node, nn.ReLU6(), [x])
        return b.function(node, torch.clamp, [x, None if lo is None else float(lo), None if hi is None else float(hi)])
    raise _Unsupported(f"the ONNX operator {op} is not read yet")


def _bias_of_matmul(b: Builder, ins) -> bool:
    """MatMul by a weight then Add of a vector (how torch.onnx writes a linear layer on more
    than two axes): the vector becomes the bias of the linear layer the MatMul made."""
    x, bias = b.env.get(ins[0]), b.consts.get(ins[1]) if len(ins) == 2 else None
    if not isinstance(x, fx.Node) or x.op != "call_module" or bias is None or bias.dim() != 1 or \
            b.uses.get(ins[0], 0) != 1:
        return False
    layer = b.root.get_submodule(x.target)
    if type(layer) is not nn.Linear or layer.bias is not None or bias.numel() != layer.out_features:
        return False
    set_attr(b.root, x.target, _linear(layer.weight.detach(), bias))
    return True


def _linear(w: torch.Tensor, bias) -> nn.Linear:
    layer = nn.Linear(w.shape[1], w.shape[0], bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(w)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer


def _operand(b: Builder, name: str):
    """A value for arithmetic: the fx node or size, a scalar constant as a number, or a tensor
    constant as a parameter of the network."""
    if name in b.env:
        v = b.env[name]
        if isinstance(v, torch.Tensor):
            return v.item() if v.numel() == 1 else _ints(v) if not v.is_floating_point() else v
        return v
    if name not in b.consts:
        raise _Unsupported(f"the value {name!r} is used before it is made")
    t = b.consts[name]
    if t.numel() == 1:
        return t.item()
    if not t.is_floating_point():
        return _ints(t)
    return b.tensor_constant(name)


def _is_size(b: Builder, node) -> bool:
    return getattr(node, "meta", {}).get("size", False)


def _as_list(v):
    if isinstance(v, list):
        return v
    if isinstance(v, torch.Tensor):
        return _ints(v)
    return [v]


def _size(b: Builder, name: str):
    v = b.env.get(name, b.consts.get(name))
    if isinstance(v, torch.Tensor):
        return _ints(v)
    if isinstance(v, list) or (isinstance(v, fx.Node) and _is_size(b, v)):
        return v
    raise _Unsupported("a shape computed from tensor values")


def onnx_module(path: Path):
    """(a GraphModule computing what the file computes, with its weights; its input shapes)."""
    try:
        import onnx
    except ImportError:
        raise ImportFailure("reading .onnx files needs the onnx extra: pip install 'network-designer[onnx]' "
                            "(the onnx package)") from None
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001
        raise ImportFailure(f"{path.name}: not an ONNX file onnx can read ({first_line(exc)})") from None
    from onnx import numpy_helper
    b = Builder({t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer})
    for node in model.graph.node:
        for name in node.input:
            b.uses[name] = b.uses.get(name, 0) + 1
        b.parents.update(path for path, _ in b.scope(node)[1][:-1])
    for out in model.graph.output:
        b.uses[out.name] = b.uses.get(out.name, 0) + 1
    for info in [*model.graph.value_info, *model.graph.input, *model.graph.output]:
        dims = info.type.tensor_type.shape.dim
        if dims:
            b.first_dims[info.name] = dims[0].dim_param or dims[0].dim_value
    shapes = []
    for inp in model.graph.input:
        if inp.name in b.consts:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in inp.type.tensor_type.shape.dim]
        if len(dims) < 2 or any(d is None for d in dims[1:]):
            raise ImportFailure(f"{path.name}: the input {inp.name} has sizes the file does not fix ({dims})")
        name = re.sub(r"\W", "_", inp.name)
        b.env[inp.name] = b.g.placeholder(name if name.isidentifier() else "x")
        shapes.append(tuple(dims[1:]))
        if b.batch is None and inp.type.tensor_type.shape.dim[0].dim_param:
            b.batch = inp.type.tensor_type.shape.dim[0].dim_param
    problems = []
    lost: set[str] = set()     # values of nodes already refused: what uses them is not refused again
    for node in model.graph.node:
        if lost.intersection(node.input):
            lost.update(node.output)
            continue
        b.stack = {p: (p, c) for p, c in b.scope(node)[1]}
        try:
            result = _convert(b, node)
        except _Unsupported as exc:
            problems.append(f"{node.op_type} node {node.name}: cannot be imported because {exc}")
            lost.update(node.output)
            continue
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{node.op_type} node {node.name}: cannot be imported ({first_line(exc)})")
            lost.update(node.output)
            continue
        if isinstance(result, _Outputs):
            b.env.update(zip(node.output, result))
        else:
            b.env[node.output[0]] = result
    if problems:
        raise ImportFailure(problems)
    from .attention import collapse_attention
    gm = b.finish([b.env[o.name] for o in model.graph.output], "OnnxModel")
    return collapse_attention(gm, shapes), shapes
