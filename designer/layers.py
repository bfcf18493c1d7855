"""The few modules PyTorch lacks as layers. Each is small, scriptable and
readable in exported code."""
from __future__ import annotations

import torch
from torch import nn


def center_crop(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    top = (x.shape[-2] - h) // 2
    left = (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


class Concat(nn.Module):
    """Concatenates along the channel axis; with crop, larger maps are centre-cropped
    to the smallest first (U-Net's crop-and-concat)."""

    def __init__(self, crop: bool = False):
        super().__init__()
        self.crop = crop

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        if self.crop and xs[0].dim() == 4:
            h = min([x.shape[-2] for x in xs])
            w = min([x.shape[-1] for x in xs])
            xs = [center_crop(x, h, w) for x in xs]
        return torch.cat(xs, 1)


class Reparameterize(nn.Module):
    """z = μ + σ·ε with σ = exp(½·log σ²); the mean itself when not training."""

    def forward(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return mu
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


class Multiply(nn.Module):
    """Element-wise product of its inputs, broadcasting as torch does (a squeeze-and-excitation
    scale: C×1×1 times C×H×W)."""

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Mean(nn.Module):
    """The mean over some axes (the batch is axis 0), e.g. (2, 3): global average pooling."""

    def __init__(self, dims: tuple[int, ...], keepdim: bool = False):
        super().__init__()
        self.dims = tuple(dims)
        self.keepdim = keepdim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(self.dims, keepdim=self.keepdim)


class Permute(nn.Module):
    """Reorders the axes after the batch: dims (2, 1) swaps the last two of a 3-D tensor."""

    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute((0,) + self.dims)


class Slice(nn.Module):
    """x[:, index]: takes part of each sample (ViT's class token: index '0')."""

    def __init__(self, index: tuple):
        super().__init__()
        self.index = tuple(index)      # ints, slices, None and Ellipsis, after the batch axis
        self._key = (slice(None),) + self.index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[self._key]


class Parameter(nn.Module):
    """A learned tensor that takes no input (ViT's class token and position embedding).
    With `batch_axis`, the tensor has a leading axis of 1 that broadcasts over the batch."""

    def __init__(self, shape: tuple[int, ...], batch_axis: bool = True, learned: bool = True, std: float = 0.0,
                 dtype: str = "float32"):
        super().__init__()
        self.shape, self.batch_axis, self.learned, self.std = tuple(shape), batch_axis, learned, std
        self.dtype = dtype     # a fixed buffer may hold whole numbers (a relative position index)
        full = ((1,) if batch_axis else ()) + tuple(shape)
        value = torch.zeros(full, dtype=getattr(torch, dtype))
        if std != 0:
            value = (torch.randn(full) * std).to(value.dtype)
        if learned:
            self.value = nn.Parameter(value)
        else:
            self.register_buffer("value", value)

    def forward(self) -> torch.Tensor:
        return self.value


class MultiheadAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention with the batch first, returning only the attended values
    (not the attention weights), so that it reads as one layer: out = attention(q, k, v)."""

    def forward(self, query, key, value):  # noqa: D102 - same weights and names as the parent
        return super().forward(query, key, value, need_weights=False)[0]


# ---- the allow-list of generic layers and functions: a document names nothing else ------------

def layer_class(name: str):
    """`nn.X` or `torchvision.ops.X` -> the class, or ValueError saying why not."""
    prefix, _, cls_name = name.rpartition(".")
    if prefix == "nn":
        space = nn
    elif prefix == "torchvision.ops":
        import torchvision.ops as space
    else:
        raise ValueError(f"{name!r} is not a torch.nn or torchvision.ops layer")
    cls = getattr(space, cls_name, None) if cls_name.isidentifier() and not cls_name.startswith("_") else None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)) or cls in _CONTAINERS:
        raise ValueError(f"{name!r} is not a torch.nn or torchvision.ops layer")
    return cls


_CONTAINERS = (nn.Module, nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict,
               nn.Container if hasattr(nn, "Container") else nn.Module)

_OPERATORS = ("add", "sub", "mul", "truediv", "floordiv", "matmul", "neg", "pow", "getitem", "mod")
# torchvision functions that torch.fx keeps whole (torch.fx.wrap) and that cannot be written as
# batch-first blocks (Swin's windows fold the batch into their first axis): named one by one
_TORCHVISION_FUNCTIONS = ("torchvision.models.swin_transformer.shifted_window_attention",)
_REFUSED_METHODS = {"module_load", "storage", "untyped_storage", "data_ptr", "numpy", "tolist", "item",
                    "share_memory_", "pin_memory", "register_hook", "backward", "record_stream"}
_FUNCTIONS: dict[str, object] = {}


def _function_table() -> dict[str, object]:
    """Every allowed name -> its function (for `Tensor.x`, the method name)."""
    if not _FUNCTIONS:
        from torch.nn import functional as F
        from torch.overrides import get_overridable_functions
        table = get_overridable_functions()
        for space, prefix in ((torch, "torch."), (F, "F.")):
            for f in table.get(space, ()):
                name = getattr(f, "__name__", None)
                if isinstance(name, str) and not name.startswith("_"):
                    _FUNCTIONS[prefix + name] = f
        for f in table.get(torch.Tensor, ()):
            name = getattr(f, "__name__", None)
            if isinstance(name, str) and not name.startswith("_") and name not in _REFUSED_METHODS:
                _FUNCTIONS["Tensor." + name] = name
        _FUNCTIONS["Tensor.__getitem__"] = "__getitem__"
        for name in _OPERATORS:
            _FUNCTIONS["operator." + name] = resolve_function("operator." + name)
    return _FUNCTIONS


def resolve_function(name: str):
    """The function a name stands for (for `Tensor.x`, the method name), with torch alone (the
    Python export copies this). Which names a document may hold is `function_named`'s to say."""
    space, _, attr = name.rpartition(".")
    if space == "Tensor":
        return attr
    if space == "torch":
        return getattr(torch, attr)
    if space == "F":
        return getattr(torch.nn.functional, attr)
    if space == "operator":
        return {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                "truediv": lambda a, b: a / b, "floordiv": lambda a, b: a // b, "matmul": lambda a, b: a @ b,
                "neg": lambda a: -a, "pow": lambda a, b: a ** b, "getitem": lambda a, b: a[b],
                "mod": lambda a, b: a % b}[attr]
    raise ValueError(f"{name!r} is not a torch function")


def torchvision_function(name: str):
    """One of the torchvision functions the allow-list names (torchvision is imported only
    where a document names one), or ValueError."""
    if name not in _TORCHVISION_FUNCTIONS:
        raise ValueError(f"{name!r} is not a torchvision function the designer knows")
    import importlib
    space, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(space), attr)


def function_named(name: str):
    """The function (or, for `Tensor.x`, the method name) a document's `name` stands for,
    or ValueError saying why not."""
    if name in _TORCHVISION_FUNCTIONS:
        return torchvision_function(name)
    f = _function_table().get(name) if isinstance(name, str) else None
    if f is None:
        raise ValueError(f"{name!r} is not a torch, torch.nn.functional, Tensor or operator function")
    return f


def function_name(f) -> str | None:
    """The allow-listed name of a callable (None: not allowed)."""
    import operator
    for name in _OPERATORS:
        if getattr(operator, name) is f:
            return "operator." + name
    for name, g in _function_table().items():
        if g is f:
            return name
    name = f"{getattr(f, '__module__', None)}.{getattr(f, '__name__', None)}"
    if name in _TORCHVISION_FUNCTIONS and torchvision_function(name) is f:
        return name
    return None


def call_template(template, xs, batch: int):
    """The arguments written in a document, with {"in": k} replaced by the k-th input tensor,
    {"ins": n} by the list of the first n inputs and {"batch": k} by k times the batch size."""
    if isinstance(template, dict):
        if set(template) == {"in"}:
            return xs[template["in"]]
        if set(template) == {"ins"}:
            return list(xs[:template["ins"]])
        if set(template) == {"batch"}:
            return batch * template["batch"]
        if set(template) == {"slice"}:
            return slice(*[call_template(v, xs, batch) for v in template["slice"]])
        if set(template) == {"tuple"}:
            return tuple(call_template(v, xs, batch) for v in template["tuple"])
        if set(template) == {"dtype"}:
            return getattr(torch, template["dtype"])
        if set(template) == {"ellipsis"}:
            return Ellipsis
        return {k: call_template(v, xs, batch) for k, v in template.items()}
    if isinstance(template, list):
        return [call_template(v, xs, batch) for v in template]
    return template


class TorchFunction(nn.Module):
    """One allow-listed torch function applied to the inputs, with the arguments the document
    holds (the batch size read off input `batch_from`: ViT's class token, which has none, is
    expanded to the batch of the image); `pick` takes one item of a tuple result."""

    resolve = staticmethod(resolve_function)

    def __init__(self, function: str, args: list, kwargs: dict, pick: int = -1, batch_from: int = 0):
        super().__init__()
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.pick = pick
        self.batch_from = batch_from     # the input whose first axis is the batch
        self._f = self.resolve(function)

    def forward(self, *xs):
        batch = xs[self.batch_from].shape[0] if xs[self.batch_from].dim() else 1
        args = call_template(self.args, xs, batch)
        kwargs = call_template(self.kwargs, xs, batch)
        if isinstance(self._f, str):
            out = getattr(args[0], self._f)(*args[1:], **kwargs)
        else:
            out = self._f(*args, **kwargs)
        return out[self.pick] if self.pick >= 0 else out


class TorchvisionFunction(TorchFunction):
    """A TorchFunction calling one of the torchvision functions the allow-list names (Swin's
    shifted_window_attention, which torch.fx keeps whole and which folds the batch into its
    windows, so it stays one block)."""

    resolve = staticmethod(torchvision_function)
