"""Run a compiled network once and keep what every node produced.

The compiler writes the fx graph straight from the document and stamps each fx
node with `meta["node_id"]`, so an fx Interpreter sees every value — module
calls, the `a + b` of an Add, the `torch.cat` of a Concat, the inputs — under
the id the person sees on the canvas. Modules that are not GraphModules fall
back to forward hooks on submodules named after node ids.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import torch
from torch import fx, nn

SMALL_NETWORK_MACS = 50_000_000


@dataclass
class Activations:
    """One forward pass: each node's output (batch dimension removed, on the CPU)."""
    outputs: dict[str, torch.Tensor]
    result: object                      # what forward() returned, batch dimension removed
    seconds: float                      # the forward pass alone
    extra: dict[str, tuple] = field(default_factory=dict)  # multi-output composites: id -> all outputs

    def of(self, node_id: str) -> torch.Tensor | None:
        return self.outputs.get(node_id)


class _Recorder(fx.Interpreter):
    def __init__(self, module: fx.GraphModule, wanted: set[str]):
        super().__init__(module)
        self.wanted = wanted
        self.seen: dict[str, object] = {}

    def run_node(self, n: fx.Node):
        value = super().run_node(n)
        node_id = n.meta.get("node_id")
        if node_id in self.wanted:
            self.seen[node_id] = value
        return value


def capture(model: nn.Module, graph, inputs, network: str | None = None) -> Activations:
    """Run `model` (the graph compiled for `network`) on one example and return every
    node's output. `inputs` is one tensor without the batch dimension, or a dict
    {Input name: tensor} for a network with several Inputs."""
    members = {i for i, n in graph.nodes.items() if network is None or n.network == network}
    input_ids = [i for i, n in graph.nodes.items() if i in members and n.type == "Input"]  # forward()'s order
    args = _batched_args(graph, input_ids, inputs)
    was_training = model.training
    model.eval()  # dropout off, batch norm on its running statistics: what a prediction sees
    try:
        with torch.inference_mode():
            start = time.perf_counter()
            if isinstance(model, fx.GraphModule):
                recorder = _Recorder(model, members)
                result = recorder.run(*args)
                seen = recorder.seen
            else:
                result, seen = _run_with_hooks(model, members, args)
            seconds = time.perf_counter() - start
    finally:
        model.train(was_training)
    outputs: dict[str, torch.Tensor] = {}
    extra: dict[str, tuple] = {}
    for node_id, value in seen.items():
        if isinstance(value, torch.Tensor):
            outputs[node_id] = _unbatch(value)
        elif isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
            extra[node_id] = tuple(_unbatch(v) for v in value)
            outputs[node_id] = extra[node_id][0]
    for node_id in members:  # inputs enter unchanged; Output blocks show what reaches them
        node = graph.nodes[node_id]
        if node.type == "Input" and node_id not in outputs:
            outputs[node_id] = _unbatch(args[input_ids.index(node_id)])
        elif node.type == "Output":
            feeding = graph.edges_into(node_id)
            if feeding and feeding[0].src in outputs:
                outputs[node_id] = outputs[feeding[0].src]
    return Activations(outputs, _unbatch_result(result), seconds, extra)


def _batched_args(graph, ids: list[str], inputs) -> list[torch.Tensor]:
    if not ids:
        raise ValueError("the network has no Input block")
    if isinstance(inputs, dict):
        names = {graph.nodes[i].params["name"]: i for i in ids}
        missing = [name for name in names if name not in inputs]
        if missing:
            raise ValueError(f"no input given for {missing[0]!r}")
        tensors = [inputs[graph.nodes[i].params["name"]] for i in ids]
    else:
        if len(ids) > 1:
            raise ValueError(f"the network has {len(ids)} Inputs; give one tensor per Input name")
        tensors = [inputs]
    return [torch.as_tensor(t, dtype=torch.float32)[None] for t in tensors]


def _unbatch(t: torch.Tensor) -> torch.Tensor:
    return t[0].detach().float().cpu() if t.dim() > 0 else t.detach().float().cpu()


def _unbatch_result(result):
    if isinstance(result, torch.Tensor):
        return _unbatch(result)
    if isinstance(result, (tuple, list)):
        return tuple(_unbatch_result(r) for r in result)
    return result


def _run_with_hooks(model: nn.Module, members: set[str], args):
    seen: dict[str, object] = {}
    handles = []
    for name, child in model.named_children():
        if name in members:
            handles.append(child.register_forward_hook(
                lambda _m, _i, out, name=name: seen.__setitem__(name, out)))
    try:
        result = model(*args)
    finally:
        for h in handles:
            h.remove()
    return result, seen


def forward_threads(macs: int) -> int:
    """Threads for one forward pass. A small network runs fastest on one thread (waking
    others costs more than they save, and far more when the cores are busy training);
    a large one gets half the cores, leaving the rest to the window and to training."""
    if macs < SMALL_NETWORK_MACS:
        return 1
    return max(1, (os.cpu_count() or 2) // 2)


# ---- reading the maps ---------------------------------------------------------------------------

def channel_strengths(activation: torch.Tensor) -> torch.Tensor:
    """Mean |activation| of each channel of a C×H×W map (of each value of a vector)."""
    if activation.dim() == 3:
        return activation.abs().mean(dim=(1, 2))
    return activation.abs().reshape(-1)


def strongest_first(activation: torch.Tensor) -> list[int]:
    """Channel indices, the strongest (largest mean |activation|) first; ties keep their order."""
    strengths = channel_strengths(activation)
    return sorted(range(len(strengths)), key=lambda i: (-float(strengths[i]), i))
