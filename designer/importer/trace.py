"""Tracing a module with torch.fx and running the trace twice without arithmetic (meta or fake
tensors: no memory), with batches of 2 and 3: a value the two runs give alike is a constant, one that
grows with the batch is written as a multiple of it ({"batch": k})."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import fx, nn

from designer.compile.export import eval_mode
from .errors import ImportFailure, first_line

BATCHES = (2, 3)


@dataclass
class Trace:
    module: nn.Module
    gm: fx.GraphModule
    runs: tuple[dict, dict]      # fx node name -> the value it gave, for batches 2 and 3
    input_shapes: list[tuple]    # per placeholder, without the batch
    # tensors with no batch axis (computed from parameters and buffers alone): their shape is whole
    unbatched: set = field(default_factory=set)
    batch_axis: set = field(default_factory=set)   # parameters of 1×… read as batch 1 (ViT's class token)


def trace(module: nn.Module, input_shapes: list[tuple]) -> Trace:
    name = type(module).__name__
    # in eval mode while traced: control flow on self.training is fixed at tracing, and
    # inference is what a drawing shows
    with eval_mode(module):
        try:
            if getattr(module, "designer_ready", False):   # built by the ONNX reader, scopes and all
                gm = module
            else:
                tracer = _Tracer()
                graph = tracer.trace(module)     # sets tracer.root
                gm = fx.GraphModule(tracer.root, graph, name)
        except Exception as exc:  # noqa: BLE001 - any tracing failure becomes one line
            raise ImportFailure(f"torch.fx cannot trace {name}: {first_line(exc)}. Export it with torch.export "
                                "(a .pt2 file) or to ONNX (.onnx) and import that file instead") from None
        placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != len(input_shapes):
            raise ImportFailure(f"{name}.forward takes {len(placeholders)} tensors; give as many input shapes "
                                f"(got {len(input_shapes)})")
        runs = tuple(_run(gm, input_shapes, b, name) for b in BATCHES)
    unbatched, batch_axis = _batch_axes(gm, runs)
    return Trace(module, gm, runs, input_shapes, unbatched, batch_axis)


def _batched(runs, name: str) -> bool:
    """The value's first axis is the batch: it grew from 2 to 3 with it."""
    small, big = runs[0].get(name), runs[1].get(name)
    return isinstance(small, torch.Tensor) and small.dim() > 0 and (small.shape[0], big.shape[0]) == BATCHES


def _batch_axes(gm: fx.GraphModule, runs) -> tuple[set, set]:
    """(tensors without a batch axis, parameters read as a batch of one). A parameter or buffer of
    1×… whose every use gives a batched value (ViT's class token, expanded; its position embedding,
    added) is drawn with a batch axis of one; any other tensor that does not grow with the batch has
    no batch axis (Swin's and MaxViT's relative position tables, their indices, the bias read
    from them)."""
    unbatched, batch_axis = set(), set()
    for node in gm.graph.nodes:
        value = runs[0].get(node.name)
        if not isinstance(value, torch.Tensor) or _batched(runs, node.name):
            continue
        users = [u for u in node.users if isinstance(runs[0].get(u.name), torch.Tensor)]
        if node.op == "get_attr" and value.dim() >= 2 and value.shape[0] == 1 and users and \
                all(_batched(runs, u.name) for u in users):
            batch_axis.add(node.name)
        else:
            unbatched.add(node.name)
    return unbatched, batch_axis


def _traced_through() -> tuple:
    """torchvision helpers that torch.fx.wrap keeps whole, though they are plain tensor code the
    tracer can follow (Swin's patch merging pad and relative position bias): followed, they become
    blocks of the catalog."""
    from torchvision.models import swin_transformer as swin
    return swin._patch_merging_pad, swin._get_relative_position_bias


class _Tracer(fx.Tracer):
    """torch.fx's tracer, keeping the small allow-listed torchvision.ops layers (StochasticDepth,
    Permute, FrozenBatchNorm2d…) whole, as it keeps torch.nn's: they are layers a drawing names;
    and following the torchvision helpers of `_traced_through` into the operations they are made of."""

    def trace(self, root, concrete_args=None):
        self._through, self._followed = _traced_through(), []
        graph = super().trace(root, concrete_args)
        for node in self._followed:   # torch.fx marks the result of a kept-whole call: it is not one
            node.meta.pop("is_wrapped", None)
        return graph

    def create_proxy(self, kind, target, args, kwargs, *rest, **more):
        if kind == "call_function" and target in self._through:
            result = target(*args, **kwargs)    # traced through, with the proxies it was given
            self._followed.append(result.node)
            return result
        return super().create_proxy(kind, target, args, kwargs, *rest, **more)

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if type(m).__module__.startswith("torchvision.ops") and not any(True for _ in m.children()):
            return True
        return super().is_leaf_module(m, qualname)


def _run(gm: fx.GraphModule, input_shapes, batch: int, name: str) -> dict:
    """Every node's value for a batch of `batch`: on the meta device (the weights swapped for
    meta tensors while it runs), or on fake tensors where an operation has no meta kernel."""
    try:
        return _record(gm, input_shapes, batch, "meta")
    except Exception:  # noqa: BLE001 - some operations need fake tensors; they say what is wrong
        pass
    try:
        return _record(gm, input_shapes, batch, "fake")
    except Exception as exc:  # noqa: BLE001
        shapes = ", ".join("×".join(map(str, s)) for s in input_shapes)
        raise ImportFailure(f"{name} cannot run on an input of {shapes}: {first_line(exc)}") from None


def _record(gm: fx.GraphModule, input_shapes, batch: int, how: str) -> dict:
    values: dict = {}

    class Recorder(fx.Interpreter):
        def run_node(self, n):
            result = super().run_node(n)
            values[n.name] = result
            return result

    if how == "meta":
        from torch.nn.utils.stateless import _reparametrize_module
        state = {k: v.to("meta") for k, v in [*gm.named_parameters(), *gm.named_buffers()]}
        with _reparametrize_module(gm, state), torch.no_grad():
            Recorder(gm).run(*[torch.empty((batch,) + tuple(s), device="meta") for s in input_shapes])
    else:
        from torch._subclasses.fake_tensor import FakeTensorMode
        with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad():
            Recorder(gm).run(*[torch.empty((batch,) + tuple(s)) for s in input_shapes])
    return values
