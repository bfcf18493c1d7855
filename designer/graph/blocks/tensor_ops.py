"""The tensor operations a traced network contains, as blocks: Multiply (squeeze-and-excitation),
Identity, Mean over axes, Permute, Slice (x[:, …]) and Parameter (a learned tensor with no
input: ViT's class token and position embedding). Axes are counted as torch counts them, with
the batch as axis 0; shapes shown are without the batch."""
import math
from functools import lru_cache

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count, shape as fmt_shape
from ..params import Param


@lru_cache(maxsize=None)
def _ports(n: int) -> tuple[str, ...]:
    return tuple(f"in{i}" for i in range(1, n + 1))


def broadcast(shapes) -> tuple:
    """torch's broadcasting of shapes (aligned from the right), or ShapeError."""
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(rank):
        sizes = {s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0} - {1}
        if len(sizes) > 1:
            raise ShapeError("Multiply needs shapes that broadcast: " + " and ".join(fmt_shape(s) for s in shapes))
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _multiply_infer(p, ins):
    shapes = list(ins.values())
    if len({len(s) for s in shapes}) > 1:
        # torch aligns from the right with the batch axis included: keep the axes in step
        raise ShapeError("Multiply needs tensors with as many axes: " + " and ".join(fmt_shape(s) for s in shapes)
                         + " (add size-1 axes with Reshape)")
    out = broadcast(shapes)
    return Inference({"out": out}, macs=0, shape_formula=" ⊙ ".join(fmt_shape(s) for s in shapes)
                     + f" = {fmt_shape(out)}")


def _multiply_build(p, ins):
    from designer.layers import Multiply
    return Multiply()


register(BlockSpec("Multiply", "Merge",
                   "Element-wise product, broadcasting as torch does: squeeze-and-excitation scales C×H×W "
                   "by a C×1×1 gate.",
                   (Param("num_inputs", "int", 2, "How many tensors to multiply.", min=2, max=16),),
                   _multiply_infer, _multiply_build, inputs=lambda p: _ports(p["num_inputs"]),
                   summary=lambda p: "multiply", functional=True))


def _identity_build(p, ins):
    import torch.nn as nn
    return nn.Identity()


register(BlockSpec("Identity", "Regularization", "Passes its input on unchanged (a placeholder layer).",
                   (), lambda p, ins: Inference({"out": ins["in"]}, shape_formula="shape unchanged"),
                   _identity_build, summary=lambda p: "identity"))


def axes(p_dims, rank: int, what: str) -> tuple[int, ...]:
    """Axes counted with the batch as 0, checked against a tensor of `rank` axes without it."""
    dims = tuple(p_dims)
    for d in dims:
        if not 1 <= d <= rank:
            raise ShapeError(f"{what}: axis {d} does not exist for a {rank + 1}-D tensor (the batch is axis 0)")
    if len(set(dims)) != len(dims):
        raise ShapeError(f"{what}: an axis is named twice in {list(dims)}")
    return dims


def _mean_infer(p, ins):
    s = ins["in"]
    dims = axes(p["dims"], len(s), "Mean")
    out = tuple(1 if i + 1 in dims else n for i, n in enumerate(s)) if p["keepdim"] else \
        tuple(n for i, n in enumerate(s) if i + 1 not in dims)
    if not out:
        raise ShapeError("Mean over every axis but the batch leaves no shape to show; keep one axis")
    return Inference({"out": out}, macs=math.prod(s),
                     shape_formula=f"mean over axes {', '.join(map(str, dims))}: {fmt_shape(s)} → {fmt_shape(out)}")


def _mean_build(p, ins):
    from designer.layers import Mean
    return Mean(tuple(p["dims"]), p["keepdim"])


register(BlockSpec("Mean", "Pooling", "The mean over some axes (2, 3: global average pooling of an image).",
                   (Param("dims", "shape", (2, 3), "Axes to average over, the batch being axis 0.", min=1),
                    Param("keepdim", "bool", False, "Keep the averaged axes with size 1.")),
                   _mean_infer, _mean_build,
                   summary=lambda p: f"mean {tuple(p['dims'])}" + (" keep" if p["keepdim"] else "")))


def _permute_infer(p, ins):
    s = ins["in"]
    dims = tuple(p["dims"])
    if sorted(dims) != list(range(1, len(s) + 1)):
        raise ShapeError(f"Permute needs an order of the axes 1…{len(s)} of {fmt_shape(s)}, got {list(dims)}")
    out = tuple(s[d - 1] for d in dims)
    return Inference({"out": out}, shape_formula=f"{fmt_shape(s)} → {fmt_shape(out)}")


def _permute_build(p, ins):
    from designer.layers import Permute
    return Permute(tuple(p["dims"]))


register(BlockSpec("Permute", "Dense", "Reorders the axes after the batch (axis 0 stays first).",
                   (Param("dims", "shape", (2, 1), "The new order of the axes 1, 2, … (the batch is axis 0).",
                          min=1),),
                   _permute_infer, _permute_build, summary=lambda p: f"permute {tuple(p['dims'])}"))


def _parse(text: str) -> tuple:
    items = []
    for part in (p.strip() for p in text.split(",")) if text.strip() else ():
        if part == "...":
            items.append(Ellipsis)
        elif part == "None":
            items.append(None)
        elif ":" in part:
            bits = part.split(":")
            if len(bits) > 3:
                raise ShapeError(f"{part!r} is not a slice (start:stop:step)")
            items.append(slice(*[int(b) if b.strip() else None for b in bits]))
        else:
            items.append(int(part))
    return tuple(items)


def _slice_len(n: int, sl: slice) -> int:
    return len(range(n)[sl])


def index_shape(items: tuple, s: tuple) -> tuple:
    """The per-sample shape of x[:, *items] (arithmetic only, as torch's basic indexing)."""
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    if used > len(s):
        raise ShapeError(f"the index has {used} axes but {fmt_shape(s)} has {len(s)}")
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise ShapeError("the index may hold one ... only")
    expanded = []
    for i in items:
        if i is Ellipsis:
            expanded += [slice(None)] * (len(s) - used)
        else:
            expanded.append(i)
    out, axis = [], 0
    for i in expanded:
        if i is None:
            out.append(1)
            continue
        n = s[axis]
        if isinstance(i, int):
            if not -n <= i < n:
                raise ShapeError(f"index {i} is outside axis {axis + 1} of size {n}")
        else:
            if i.step is not None and i.step <= 0:
                raise ShapeError("a slice step must be positive")
            out.append(_slice_len(n, i))
        axis += 1
    out += list(s[axis:])
    if not out:
        raise ShapeError("the index leaves a single number per sample; keep one axis")
    return tuple(out)


def _index_items(p) -> tuple:
    try:
        return _parse(p["index"])
    except ValueError:
        raise ShapeError(f"{p['index']!r} is not an index like 0, 1:3 or ::2") from None


def _slice_infer(p, ins):
    s = ins["in"]
    out = index_shape(_index_items(p), s)
    return Inference({"out": out}, shape_formula=f"x[:, {p['index']}]: {fmt_shape(s)} → {fmt_shape(out)}")


def _slice_build(p, ins):
    from designer.layers import Slice
    return Slice(_index_items(p))


register(BlockSpec("Slice", "Dense", "Takes part of each sample: x[:, index] (ViT's class token: index 0).",
                   (Param("index", "str", "0", "A Python index after the batch axis: 0, 1:3, ::2, ..., None."),),
                   _slice_infer, _slice_build, summary=lambda p: f"x[:, {p['index']}]"))


def _parameter_infer(p, ins):
    s = tuple(p["shape"])
    if p["learned"] and not p["dtype"].startswith(("float", "bfloat")):
        raise ShapeError(f"{p['dtype']} values cannot be learned: turn 'learned' off to keep them as a fixed buffer")
    n = math.prod(s)
    learned = n if p["learned"] else 0
    return Inference({"out": s}, weights=learned,
                     shape_formula=f"a {'learned' if p['learned'] else 'fixed'} {fmt_shape(s)} tensor",
                     param_formula=f"{' × '.join(map(str, s))} = {count(n)}" if learned else "not learned",
                     weight_formula=" × ".join(map(str, s)) if learned else "")


def _parameter_build(p, ins):
    from designer.layers import Parameter
    return Parameter(tuple(p["shape"]), p["batch_axis"], p["learned"], p["init_std"], p["dtype"])


register(BlockSpec("Parameter", "Input",
                   "A tensor the network learns, taking no input: ViT's class token and position embedding.",
                   (Param("shape", "shape", (1, 768), "Its sizes without the batch axis."),
                    Param("batch_axis", "bool", True,
                          "Stored with a leading axis of 1 that broadcasts over the batch (else aligned from the "
                          "right, like a C×1×1 scale)."),
                    Param("learned", "bool", True, "Learned by training (off: a fixed buffer)."),
                    Param("init_std", "float", 0.0, "Initial values: 0, or normal with this deviation.",
                          min=0, max=10),
                    Param("dtype", "enum", "float32", "What it holds: numbers to learn, or whole numbers (int64: "
                          "an index into a table, like a relative position index).",
                          choices=("float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8",
                                   "bool"))),
                   _parameter_infer, _parameter_build, inputs=(),
                   summary=lambda p: f"{'param' if p['learned'] else 'buffer'} {fmt_shape(p['shape'])}"
                   + ("" if p["dtype"] == "float32" else f" {p['dtype']}")))
