"""Generic blocks for what the catalog does not declare: any torch.nn or torchvision.ops layer
(TorchModule) and any torch tensor function (TorchFunction), each named by an allow-list so a
document can never name other code. Their constructor or call arguments are JSON text, editable
in the inspector; their shape and parameter count come from a forward pass on the meta device
(no memory, no arithmetic; multiply-adds counted by torch's FlopCounterMode as it runs),
remembered per arguments and input shapes.

Arguments are written as JSON with a few markers: {"in": k} is the k-th input tensor,
{"batch": k} is k times the batch size, {"slice": [a, b, c]} a slice, {"tuple": [...]} a tuple.
Inputs computed from parameters and buffers alone (a relative position bias read from its table
through an integer index) have no batch axis and may hold whole numbers: `unbatched` and
`dtypes` say which, so the meta-device forward gives them their real shape and type.
"""
from __future__ import annotations

import json

from functools import lru_cache

from ..block import BlockSpec, Inference, register
from ..errors import ParamError, ShapeError
from ..format import count, shape as fmt_shape
from ..params import Param

META_BATCH = 2


class _Named(Param):
    """Text that must name an allow-listed layer or function: a document naming anything else is
    refused when it is read, in one line."""

    def coerce(self, value):
        value = super().coerce(value)
        from designer import layers
        check = layers.layer_class if self.name == "layer" else layers.function_named
        try:
            check(value)
        except ValueError as exc:
            raise ParamError(f"{self.title}: {exc}") from None
        return value


class _Json(Param):
    """Text holding JSON of the given kind (an object or a list)."""

    def coerce(self, value):
        value = super().coerce(value)
        try:
            data = json.loads(value)
        except ValueError:
            raise ParamError(f"{self.title}: {value!r} is not JSON") from None
        want = dict if self.name == "kwargs" else list
        if not isinstance(data, want):
            raise ParamError(f"{self.title} must be a JSON {'object' if want is dict else 'list'}")
        return value


def _ports(n: int) -> tuple[str, ...]:
    return ("in",) if n == 1 else tuple(f"in{i}" for i in range(1, n + 1))


class _Inputs(Param):
    """Which inputs are unlike an image batch: `unbatched` lists those with no batch axis (tensors
    computed from parameters and buffers alone, their shape written whole), `dtypes` those that
    are not float32 ("1:int64": input 1 holds whole numbers, an index)."""

    def coerce(self, value):
        value = super().coerce(value)
        try:
            _input_kinds(value, self.name)
        except ValueError:
            example = "0,2" if self.name == "unbatched" else "1:int64"
            raise ParamError(f"{self.title}: {value!r} is not a list of inputs like {example}") from None
        return value


def _input_kinds(text: str, name: str) -> dict:
    """{input: dtype name} from "1:int64,2:bool" (dtypes) or {input: None} from "0,2" (unbatched)."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        k, _, dtype = item.partition(":")
        if not k.isdigit() or (name == "dtypes") != bool(dtype) or (dtype and dtype not in DTYPES):
            raise ValueError(item)
        out[int(k)] = dtype or None
    return out


DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool")
_KIND_PARAMS = (
    _Inputs("unbatched", "str", "", "Inputs (from 0, comma-separated) with no batch axis: tensors computed from "
            "parameters and buffers alone."),
    _Inputs("dtypes", "str", "", "Inputs that are not float32, as input:dtype (1:int64 for an index)."))


def _meta_inputs(ins: dict, p: dict | None = None):
    """Meta tensors for the inputs: a batch of META_BATCH in front, except for unbatched ones."""
    import torch
    unbatched = _input_kinds(p.get("unbatched", ""), "unbatched") if p else {}
    dtypes = _input_kinds(p.get("dtypes", ""), "dtypes") if p else {}
    return [torch.empty(((META_BATCH,) if k not in unbatched else ()) + tuple(s), device="meta",
                        dtype=getattr(torch, dtypes.get(k, "float32")))
            for k, s in enumerate(ins.values())]


def _all_unbatched(p: dict, n: int) -> bool:
    return n > 0 and set(range(n)) <= set(_input_kinds(p.get("unbatched", ""), "unbatched"))


def _result_shape(y, what: str, unbatched: bool = False) -> tuple:
    import torch
    if not isinstance(y, torch.Tensor):
        raise ShapeError(f"{what} gives a {type(y).__name__}, not a tensor; pick one item of it")
    if unbatched:     # computed from parameters alone: no batch axis, the whole shape is its shape
        if not 1 <= y.dim() <= 5:
            raise ShapeError(f"{what} gives a tensor of {y.dim()} axes; the designer draws 1 to 5")
        return tuple(y.shape)
    if y.dim() < 2 or y.shape[0] != META_BATCH:
        raise ShapeError(f"{what} does not keep the batch as its first axis "
                         f"(it gives {fmt_shape(tuple(y.shape))} for a batch of {META_BATCH})")
    return tuple(y.shape[1:])


def _counted(run, unbatched: bool):
    """run() under torch's FlopCounterMode: (its result, multiply-adds per sample; a result computed
    from parameters alone is computed once, as for a batch of one)."""
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        y = run()
    return y, counter.get_total_flops() // 2 // (1 if unbatched else META_BATCH)


def _refusal(exc) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ---- any torch.nn / torchvision.ops layer ------------------------------------------------------------

def _build_layer(name: str, kwargs_json: str):
    from designer import layers
    return layers.layer_class(name)(**json.loads(kwargs_json))


@lru_cache(maxsize=4096)
def _layer_on_meta(name: str, kwargs_json: str, ins: tuple, unbatched: str = "", dtypes: str = ""):
    import torch
    try:
        with torch.device("meta"):
            module = _build_layer(name, kwargs_json)
    except Exception as exc:  # noqa: BLE001 - torch's refusal is the node's error
        raise ShapeError(f"{name} refuses these arguments: {_refusal(exc)}") from None
    weights = biases = 0
    for pname, p in module.named_parameters():
        if pname.rsplit(".", 1)[-1].endswith("bias"):
            biases += p.numel()
        else:
            weights += p.numel()
    module.eval()
    kinds = {"unbatched": unbatched, "dtypes": dtypes}
    alone = _all_unbatched(kinds, len(ins))
    try:
        with torch.no_grad():
            y, macs = _counted(lambda: module(*_meta_inputs(dict(enumerate(ins)), kinds)), alone)
    except Exception as exc:  # noqa: BLE001
        raise ShapeError(f"{name} cannot take {' and '.join(fmt_shape(s) for s in ins)}: {_refusal(exc)}") from None
    return _result_shape(y, name, alone), weights, biases, macs


def _module_infer(p, ins):
    out, w, b, macs = _layer_on_meta(p["layer"], p["kwargs"], tuple(tuple(s) for s in ins.values()),
                                     p.get("unbatched", ""), p.get("dtypes", ""))
    return Inference({"out": out}, weights=w, biases=b, macs=macs,
                     shape_formula=f"{fmt_shape(next(iter(ins.values())))} → {fmt_shape(out)} "
                                   f"(torch's {p['layer']} on the meta device)",
                     param_formula=f"{count(w + b)} (counted by torch)", weight_formula=str(w) if w else "")


register(BlockSpec("TorchModule", "Dense",
                   "Any torch.nn or torchvision.ops layer, named by its class, with its constructor arguments "
                   "as JSON; shape and parameters are torch's own.",
                   (_Named("layer", "str", "nn.Identity", "The class: nn.X or torchvision.ops.X."),
                    _Json("kwargs", "str", "{}", "Constructor arguments, a JSON object."),
                    Param("num_inputs", "int", 1, "How many tensors forward() takes.", min=1, max=8),
                    *_KIND_PARAMS),
                   _module_infer, lambda p, ins: _build_layer(p["layer"], p["kwargs"]),
                   inputs=lambda p: _ports(p["num_inputs"]),
                   summary=lambda p: p["layer"].rpartition(".")[2]))


# ---- any torch tensor function -------------------------------------------------------------------------

def _build_function(p):
    from designer.layers import TorchFunction, TorchvisionFunction
    kind = TorchvisionFunction if p["function"].startswith("torchvision.") else TorchFunction
    return kind(p["function"], json.loads(p["args"]), json.loads(p["kwargs"]), p["pick"], p["batch_from"])


@lru_cache(maxsize=4096)
def _function_on_meta(function: str, args: str, kwargs: str, pick: int, batch_from: int, ins: tuple,
                      unbatched: str = "", dtypes: str = ""):
    import torch
    if batch_from >= len(ins):
        raise ShapeError(f"batch from input {batch_from}: it has only {len(ins)} inputs")
    layer = _build_function({"function": function, "args": args, "kwargs": kwargs, "pick": pick,
                             "batch_from": batch_from})
    kinds = {"unbatched": unbatched, "dtypes": dtypes}
    alone = _all_unbatched(kinds, len(ins))
    try:
        with torch.no_grad():
            y, macs = _counted(lambda: layer(*_meta_inputs(dict(enumerate(ins)), kinds)), alone)
    except Exception as exc:  # noqa: BLE001
        shapes = " and ".join(fmt_shape(s) for s in ins) or "no input"
        raise ShapeError(f"{function} cannot take {shapes}: {_refusal(exc)}") from None
    return _result_shape(y, function, alone), macs


def _function_infer(p, ins):
    shapes = tuple(tuple(s) for s in ins.values())
    out, macs = _function_on_meta(p["function"], p["args"], p["kwargs"], p["pick"], p["batch_from"], shapes,
                                  p.get("unbatched", ""), p.get("dtypes", ""))
    return Inference({"out": out}, macs=macs,
                     shape_formula=f"{' and '.join(fmt_shape(s) for s in shapes)} → {fmt_shape(out)} "
                                   f"(torch's {p['function']} on the meta device)")


def _function_summary(p) -> str:
    name = p["function"].rpartition(".")[2]
    return name + (f"[{p['pick']}]" if p["pick"] >= 0 else "")


register(BlockSpec("TorchFunction", "Dense",
                   "A torch tensor function (torch.X, F.X, Tensor.X, operator.X; or torchvision's Swin "
                   "shifted_window_attention) with its arguments as JSON: {\"in\": k} is the k-th input, "
                   "{\"batch\": k} k times the batch size.",
                   (_Named("function", "str", "torch.flatten", "The function's name."),
                    _Json("args", "str", '[{"in": 0}, 1]', "Positional arguments, a JSON list."),
                    _Json("kwargs", "str", "{}", "Keyword arguments, a JSON object."),
                    Param("num_inputs", "int", 1, "How many tensors it takes.", min=1, max=64),
                    Param("pick", "int", -1, "For a function giving several tensors: which one (-1: it gives one).",
                          min=-1, max=64),
                    Param("batch_from", "int", 0, "Which input (from 0) tells the batch size.", min=0, max=63),
                    *_KIND_PARAMS),
                   _function_infer, lambda p, ins: _build_function(p),
                   inputs=lambda p: _ports(p["num_inputs"]), summary=_function_summary))


