"""What every task shares: the networks it trains, the step it takes, the sums it
keeps over an epoch, and the images it shows.

A task owns its loss and its step (a GAN takes two optimizer steps per batch);
the engine owns the loop, the devices, the precision, the processes and the files.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from torch import nn

from ..errors import TrainSetupError


@dataclass
class Batch:
    """One batch on the device. `x` is what the network is fed (normalised, flattened,
    scaled to the task's range); `images` the same pictures as N×C×H×W in [0, 1],
    for targets (VAE) and for showing."""
    x: torch.Tensor
    y: torch.Tensor
    mask: torch.Tensor | None
    images: torch.Tensor

    def __len__(self) -> int:
        return self.y.shape[0]


@dataclass
class StepContext:
    """The engine's side of a step: precision, gradient scaling and the optimizers."""
    device: torch.device
    amp_dtype: torch.dtype | None = None
    optimizers: dict = field(default_factory=dict)
    scalers: dict = field(default_factory=dict)   # torch.amp.GradScaler per optimizer, for fp16
    channels_last: bool = False

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def optimize(self, loss: torch.Tensor, name: str = "model") -> None:
        """zero_grad, backward, step: one optimizer step on one loss."""
        self.zero_grad(name)
        self.backward(loss, name)
        self.step(name)

    def zero_grad(self, name: str = "model") -> None:
        self.optimizers[name].zero_grad(set_to_none=True)

    def backward(self, loss: torch.Tensor, name: str = "model") -> None:
        scaler = self.scalers.get(name)
        (scaler.scale(loss) if scaler is not None else loss).backward()

    def step(self, name: str = "model") -> None:
        scaler = self.scalers.get(name)
        if scaler is not None:
            scaler.step(self.optimizers[name])
            scaler.update()
        else:
            self.optimizers[name].step()


class Meter:
    """Sums over an epoch. Tensor sums stay on the device (adding to them never waits for
    the GPU); counts known on the host stay on the host (a Python number copied to a GPU
    would make the host wait for every queued kernel). Both are reduced across processes
    at the end in one all-reduce."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, float] = {}

    def add(self, name: str, value: torch.Tensor) -> None:
        value = value.detach().to(_sum_dtype(value.device))
        if name in self.sums:
            self.sums[name] += value
        else:
            self.sums[name] = value.clone()

    def count(self, name: str, n: float) -> None:
        self.counts[name] = self.counts.get(name, 0.0) + float(n)

    def state(self) -> dict:
        return {"sums": {k: v.cpu() for k, v in self.sums.items()}, "counts": dict(self.counts)}

    def load(self, state: dict, device) -> None:
        self.sums = {k: v.to(device) for k, v in state["sums"].items()}
        self.counts = dict(state["counts"])

    def totals(self, all_reduce=None) -> dict[str, torch.Tensor]:
        """Sums and counts on the CPU, summed over every process when `all_reduce` is given."""
        names = list(self.sums)
        parts = [self.sums[n].reshape(-1) for n in names]
        device = parts[0].device if parts else torch.device("cpu")
        parts.append(torch.tensor(list(self.counts.values()), dtype=_sum_dtype(device)).to(device))
        flat = torch.cat(parts)
        if all_reduce is not None:
            flat = all_reduce(flat)
        flat = flat.cpu()
        out, i = {}, 0
        for n in names:
            size = self.sums[n].numel()
            out[n] = flat[i:i + size].reshape(self.sums[n].shape)
            i += size
        for k, n in enumerate(self.counts):
            out[n] = flat[i + k]
        return out


def _sum_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64


class Task:
    name = ""
    step_names: tuple[str, ...] = ("loss",)   # the scalars each step reports, "loss" first
    metric_names: tuple[str, ...] = ()        # epoch metrics besides the loss
    best: tuple[str, str] | None = ("loss", "min")  # the validation metric best.pt follows
    has_validation = True

    def __init__(self, graph, source, config):
        self.graph = graph
        self.weights: dict | None = None         # the state dict the networks start from (None: fresh)
        self.source = source
        self.config = config
        self.nets: dict[str, nn.Module] = {}     # the plain modules: state_dict, export, images
        self.train_nets: dict[str, nn.Module] = {}  # the same, possibly compiled / DDP-wrapped

    # ---- building ------------------------------------------------------------------------------
    def build(self) -> dict[str, nn.Module]:
        """Compile the graph's network(s) on the CPU; checks that need shapes come first."""
        raise NotImplementedError

    def describe(self) -> str:
        return self.name

    # ---- steps ---------------------------------------------------------------------------------
    def train_step(self, batch: Batch, ctx: StepContext, meter: Meter) -> torch.Tensor:
        """One optimisation step; returns a float tensor of `step_names` values (no .item())."""
        raise NotImplementedError

    @torch.no_grad()
    def eval_batch(self, batch: Batch, ctx: StepContext, meter: Meter) -> None:
        raise NotImplementedError

    def summarize(self, totals: dict[str, torch.Tensor]) -> dict:
        """Epoch metrics from a meter's totals: {"loss": ..., metric: ...}."""
        raise NotImplementedError

    @torch.no_grad()
    def epoch_images(self, batch: Batch, ctx: StepContext) -> dict:
        """{"images": {name: uint8 H×W×3 picture}} and, for a classification, "predictions":
        {"predicted", "true", "columns"} of the "predictions" picture (events.Epoch)."""
        return {}

    def export_module(self) -> nn.Module:
        """The module written to model.pt at the end of the run."""
        return self.nets["model"]

    # ---- what the data needs -------------------------------------------------------------------
    @property
    def data_range(self) -> tuple[float, float]:
        """The value range the network is fed (before normalisation)."""
        return 0.0, 1.0

    @property
    def uses_normalize(self) -> bool:
        return "normalize" in self.config.augment


def compile_network(graph, network: str | None, input_shape, weights=None) -> nn.Module:
    from designer.compile import compile_graph
    try:
        return compile_graph(graph, network=network, input_shape=input_shape, weights=weights)
    except TrainSetupError:
        raise
    except Exception as exc:  # noqa: BLE001 - the compiler's message says what is wrong
        where = f"the {network} network" if network else "the graph"
        raise TrainSetupError(f"{where} cannot be built: {exc}") from None


# blocks that only rearrange values: the activation that decides the range comes before them
_SHAPE_ONLY = ("Reshape", "Flatten", "Dropout", "Dropout2d")


def final_block(graph, node_id: str) -> str:
    """The type of the last block that changes the values of an output (looking through
    an Output node and through Reshape, Flatten and Dropout): Sigmoid, Tanh, Linear…"""
    node = graph.nodes[node_id]
    while node.type == "Output" or node.type in _SHAPE_ONLY:
        edges = graph.edges_into(node.id)
        if not edges:
            return node.type
        node = graph.nodes[edges[0].src]
    return node.type


def output_source(graph, node_id: str) -> tuple[str, str]:
    """(node, port) whose value an output returns."""
    node = graph.nodes[node_id]
    if node.type == "Output":
        e = graph.edges_into(node_id)[0]
        return e.src, e.src_port
    return node_id, graph.output_ports(node)[0]

