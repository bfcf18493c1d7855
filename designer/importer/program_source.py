"""A torch.export program (.pt2) written elsewhere, as a GraphModule the importer maps like any
module: each ATen operation of the program becomes the torch layer (holding the program's
weights) or the tensor function that computes the same, at the module path the program recorded
(`nn_module_stack`), so the source's hierarchy comes back as composites. Reading the file runs no
Python from it: torch.export.load reads a graph and tensors."""
from __future__ import annotations

import operator

import torch
from torch import fx, nn
from torch.nn import functional as F

from .errors import ImportFailure
from .hierarchy import CONTAINERS
from .onnx_source import Builder, class_named, in_attention


class _Unsupported(Exception):
    pass


class _ProgramBuilder(Builder):
    def scope(self, node) -> tuple[str, list]:
        stack = [(path, class_named(cls)) for path, cls in (node.meta.get("nn_module_stack") or {}).values()
                 if path]
        return (stack[-1][0] if stack else ""), stack

    def is_leaf(self, scope: tuple) -> bool:
        """An operation of a torch.nn layer is that layer; one written in another module's
        forward becomes a layer of its own inside that module."""
        return scope[1].__module__.startswith("torch.nn") and scope[1] not in CONTAINERS and super().is_leaf(scope)

    def name(self, node) -> str:
        return node.name


def _arg(args, i, default=None):
    return args[i] if len(args) > i else default


def _layer_with(layer: nn.Module, **tensors) -> nn.Module:
    with torch.no_grad():
        for name, t in tensors.items():
            if t is not None:
                getattr(layer, name).copy_(t)
    return layer


def _convert(b: _ProgramBuilder, node: fx.Node, weight):
    """`weight(value)`: the tensor of a get_attr argument (None for anything else)."""
    name = node.target.__name__ if hasattr(node.target, "__name__") else str(node.target)
    packet = name.split(".")[0]
    # values made so far stand in for the program's nodes, in lists too (torch.cat); weights stay
    # get_attr nodes until a layer takes them or a function needs them as a parameter
    args = list(fx.map_arg(node.args, lambda a: b.env.get(a.name, a)))
    raw = list(node.args)
    x = args[0] if args else None
    if isinstance(node.target, torch._ops.HigherOrderOperator):
        raise _Unsupported(f"the network branches or loops on the values it computes ({name}), which a "
                           "drawing cannot")
    if packet == "convolution" and not _arg(raw, 6, True) and weight(raw[1]) is not None and weight(raw[1]).dim() == 4:
        packet, raw = "conv2d", raw[:6] + [_arg(raw, 8, 1)]   # a traced Conv2d: convolution, not transposed
    if packet == "conv2d":
        w, bias = weight(raw[1]), weight(_arg(raw, 2))
        stride, padding = _arg(raw, 3, [1, 1]), _arg(raw, 4, [0, 0])
        dilation, groups = _arg(raw, 5, [1, 1]), _arg(raw, 6, 1)
        if w is None or isinstance(padding, str) and padding not in ("valid", "same"):
            raise _Unsupported("a convolution whose weights are computed")
        layer = nn.Conv2d(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), tuple(stride), padding
                          if isinstance(padding, str) else tuple(padding), tuple(dilation), groups, bias is not None)
        return b.module(node, _layer_with(layer, weight=w, bias=bias), [x])
    if packet == "linear":
        w, bias = weight(raw[1]), weight(_arg(raw, 2))
        if w is None and in_attention(b.scope(node)[1]):   # cross-attention's split projection: put back whole
            return b.function(node, F.linear, _operands(b, args))
        if w is None:
            raise _Unsupported("a linear layer whose weights are computed")
        return b.module(node, _layer_with(nn.Linear(w.shape[1], w.shape[0], bias is not None), weight=w,
                                          bias=bias), [x])
    if packet == "batch_norm":
        w, bias, mean, var = (weight(_arg(raw, i)) for i in (1, 2, 3, 4))
        momentum, eps = _arg(raw, 6, 0.1), _arg(raw, 7, 1e-5)
        layer = nn.BatchNorm2d(mean.numel(), eps=eps, momentum=momentum, affine=w is not None)
        return b.module(node, _layer_with(layer, weight=w, bias=bias, running_mean=mean, running_var=var), [x])
    if packet == "layer_norm":
        w, bias = weight(_arg(raw, 2)), weight(_arg(raw, 3))
        layer = nn.LayerNorm(tuple(raw[1]), eps=_arg(raw, 4, 1e-5), elementwise_affine=w is not None,
                             bias=bias is not None)
        return b.module(node, _layer_with(layer, weight=w, bias=bias), [x])
    simple = {"relu": nn.ReLU, "relu_": nn.ReLU, "sigmoid": nn.Sigmoid, "sigmoid_": nn.Sigmoid, "tanh": nn.Tanh,
              "hardswish": nn.Hardswish, "hardswish_": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid,
              "hardsigmoid_": nn.Hardsigmoid, "silu": nn.SiLU, "silu_": nn.SiLU, "relu6": nn.ReLU6}
    if packet in simple:
        return b.module(node, simple[packet](), [x])
    if packet == "hardtanh" and (_arg(raw, 1, -1.0), _arg(raw, 2, 1.0)) == (0.0, 6.0):
        return b.module(node, nn.ReLU6(), [x])
    if packet == "gelu":
        return b.module(node, nn.GELU(approximate=node.kwargs.get("approximate", "none")), [x])
    if packet in ("dropout", "dropout_"):
        return b.module(node, nn.Dropout(_arg(raw, 1, 0.5)), [x])
    if packet == "max_pool2d":
        k = raw[1]
        stride = _arg(raw, 2) or k
        if any(d != 1 for d in (_arg(raw, 4, [1, 1]) or [1])):
            raise _Unsupported("a dilated max pooling")
        return b.module(node, nn.MaxPool2d(tuple(k), tuple(stride), tuple(_arg(raw, 3, [0, 0])),
                                           ceil_mode=_arg(raw, 5, False)), [x])
    if packet == "avg_pool2d":
        k = raw[1]
        stride = _arg(raw, 2) or k
        return b.module(node, nn.AvgPool2d(tuple(k), tuple(stride), tuple(_arg(raw, 3, [0, 0])), _arg(raw, 4, False),
                                           _arg(raw, 5, True), _arg(raw, 6)), [x])
    if packet == "adaptive_avg_pool2d":
        return b.module(node, nn.AdaptiveAvgPool2d(tuple(raw[1])), [x])
    if packet in ("add", "add_", "mul", "mul_", "sub", "div") and isinstance(node.target, torch._ops.OpOverload):
        f = {"add": operator.add, "mul": operator.mul, "sub": operator.sub, "div": operator.truediv}[packet.rstrip("_")]
        if node.kwargs.get("alpha", 1) != 1:
            raise _Unsupported("an addition with alpha")
        return b.function(node, f, _operands(b, args[:2]))
    if not isinstance(node.target, torch._ops.OpOverload):   # Python arithmetic on sizes
        return b.function(node, node.target, args, dict(node.kwargs))
    if packet == "sym_size":
        return b.function(node, "size", args)
    if packet == "slice":
        dim, start, end, step = _arg(args, 1, 0), _arg(args, 2), _arg(args, 3), _arg(args, 4, 1)
        if start in (None, 0) and step == 1 and (end is None or isinstance(end, int) and end >= 2 ** 62):
            return x    # the whole axis (x[:, 0] is written as a slice of everything, then a select)
        index = [slice(None)] * dim + [slice(start, None if isinstance(end, int) and end >= 2 ** 62 else end, step)]
        return b.function(node, operator.getitem, [x, tuple(index)])
    if packet == "select" and isinstance(_arg(args, 1), int) and _arg(args, 1) > 0 and isinstance(_arg(args, 2), int):
        return b.function(node, operator.getitem, [x, (slice(None),) * args[1] + (args[2],)])   # x[:, …, i]
    if packet in ("view", "expand", "contiguous", "unflatten"):
        if packet == "contiguous":
            return x
        # reshape gives view's values and also takes the tensors a dropped contiguous() left strided
        return b.function(node, "reshape" if packet == "view" else packet, _operands(b, args))
    f = getattr(torch, packet.rstrip("_"), None) or getattr(F, packet.rstrip("_"), None)
    if f is None:
        raise _Unsupported(f"the operation aten.{packet} is not read yet")
    return b.function(node, f, _operands(b, args), dict(node.kwargs))


def _operands(b, args) -> list:
    """Arguments of a function: a weight it takes becomes a parameter of the network."""
    return list(fx.map_arg(args, lambda a: b.tensor_constant(a.target) if a.op == "get_attr" else a))


def program_module(program):
    """(a GraphModule computing what the program computes, with its weights; its input shapes)."""
    gm = program.module()
    consts = {}
    for node in gm.graph.nodes:
        if node.op == "get_attr":
            obj = gm
            for part in node.target.split("."):
                obj = getattr(obj, part)
            if isinstance(obj, torch.Tensor):     # not the branches of a torch.cond (GraphModules)
                consts[node.target] = obj.detach()
    b = _ProgramBuilder(consts)
    for node in gm.graph.nodes:
        b.parents.update(path for path, _ in b.scope(node)[1][:-1])
    shapes, problems, outs = [], [], []
    lost: set[str] = set()

    def weight(value):
        return consts.get(value.target) if isinstance(value, fx.Node) and value.op == "get_attr" else None

    for node in gm.graph.nodes:
        if node.op == "placeholder":
            val = node.meta.get("val")
            if val is None or not hasattr(val, "shape"):
                raise ImportFailure(f"the program's input {node.name} has no recorded shape")
            try:
                shapes.append(tuple(int(d) for d in val.shape[1:]))
            except TypeError:
                raise ImportFailure(f"the program's input {node.name} has sizes that are not fixed") from None
            b.env[node.name] = b.g.placeholder(node.name)
        elif node.op == "get_attr" or (node.op == "call_module" and not node.users):
            continue    # weights are read where they are used; _guards_fn checks the input and gives nothing
        elif node.op == "call_function":
            if any(a.name in lost for a in node.all_input_nodes):
                lost.add(node.name)    # what uses a refused value is not refused again
                continue
            try:
                b.env[node.name] = _convert(b, node, weight)
            except _Unsupported as exc:
                problems.append(f"{node.name}: cannot be imported because {exc}")
                lost.add(node.name)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{node.name}: cannot be imported ({str(exc).splitlines()[0] if str(exc) else exc})")
                lost.add(node.name)
        elif node.op == "output":
            result = node.args[0]
            items = list(result) if isinstance(result, (list, tuple)) else [result]
            outs = [b.env.get(i.name) for i in items]   # None where a refused value was
        else:
            problems.append(f"{node.name}: cannot be imported because the program calls a submodule ({node.target})")
    if problems:
        raise ImportFailure(problems)
    from .attention import collapse_attention
    return collapse_attention(b.finish(outs, "ExportedProgram"), shapes), shapes


def torchscript_program(path, shapes: list[tuple] | None):
    """A TorchScript file written elsewhere as a torch.export program, through torch's converter
    (a batch of two examples of each input in `shapes`); one sentence when it cannot be had."""
    import logging
    import warnings
    from .errors import first_line
    if not shapes:
        raise ImportFailure(f"give the input shape of {path.name} (--input 3,224,224, or input_shape=...): "
                            "a TorchScript file does not record it")
    quiet = [logging.getLogger(name) for name in ("torch._export", "torch.export", "torch._dynamo")]
    levels = [log.level for log in quiet]
    try:
        from torch._export.converter import TS2EPConverter
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # torch.jit is deprecated from torch 2.14 and says so
            for log in quiet:
                log.setLevel(logging.ERROR)
            script = torch.jit.load(str(path), map_location="cpu")
            examples = tuple(torch.randn(2, *shape) for shape in shapes)
            program = TS2EPConverter(script, examples).convert()
    except Exception as exc:  # noqa: BLE001 - a file written elsewhere: one line
        raise ImportFailure(f"{path.name}: torch cannot turn this TorchScript into a program to read "
                            f"({first_line(exc)}); export the model with torch.export (.pt2) or to ONNX "
                            "(.onnx) instead") from None
    finally:
        for log, level in zip(quiet, levels):
            log.setLevel(level)
    if any(node.target is torch.ops.aten._local_scalar_dense.default for node in program.graph.nodes):
        # a traced size (x.size(1) // heads) comes back as a tensor read with .item(): no drawing holds that
        raise ImportFailure(f"{path.name}: this TorchScript computes sizes as tensors (a traced "
                            "x.size(...) read back with .item()), which cannot be drawn; export the model "
                            "with torch.export (.pt2) or to ONNX (.onnx) instead")
    return program
