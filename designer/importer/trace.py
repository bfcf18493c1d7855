"""Tracing a module with torch.fx and running the trace twice without arithmetic (meta or fake
tensors: no memory), with batches of 2 and 3: a value the two runs give alike is a constant, one that
grows with the batch is written as a multiple of it ({"batch": k})."""
from __future__ import annotations

from dataclasses import dataclass

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
    return Trace(module, gm, runs, input_shapes)


class _Tracer(fx.Tracer):
    """torch.fx's tracer, keeping the small allow-listed torchvision.ops layers (StochasticDepth,
    Permute, FrozenBatchNorm2d…) whole, as it keeps torch.nn's: they are layers a drawing names."""

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
