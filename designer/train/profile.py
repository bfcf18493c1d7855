"""Measure a design on this machine: time per layer, time and peak memory per batch size,
and the largest batch that fits (`designer profile`, the summary's Fit view).

    profile_graph(graph, batch_sizes=(1, 8, 32), device="auto", input_shape=None, amp=False)
        -> Profile   (.to_json(): the `designer profile --json` object)

For each batch size: warm-up steps, then timed training steps (forward, a loss, backward,
the document's optimizer step) on random data of the graph's input shape, and one step
under torch.profiler. The per-layer times come from that profiled step at the largest
batch:

- forward: each leaf module of the compiled network opens a `record_function` range in a
  forward pre-hook and closes it in a forward hook, so the profiler's range holds exactly
  that module's ops (their kernels' device time on a GPU, CPU time on the CPU);
- backward: every autograd node carries the sequence number of the forward op that made
  it (the profiler records both), so each `evaluate_function` of the backward pass is
  given to the module whose forward op made its node. Nothing is added to the autograd
  graph (full backward hooks would wrap every module in extra nodes and, on a branch,
  time the other branch too).

The profiler costs a few microseconds per op, paid once per batch size; the step times
are measured without it.

Memory: on CUDA the allocator's peak (`max_memory_allocated`) over the timed steps; on the
CPU the tensors held before the step (weights, buffers, optimizer state, the batch) plus
the peak of the profiler's allocator events ("[memory]": every allocation and free, in
order) during the profiled step. The largest batch is found on CUDA by trying (an
out-of-memory error is caught, the cache emptied, and the search goes on) and computed on
the CPU from the measured memory per sample and the RAM available ("computed").

The estimate beside each measured peak is designer.train.memory.Estimate, the same as the
out-of-memory hint's: the analysis's activations per sample (every value computed, inside
composite blocks too, float32) times the batch, plus the weights, and for the trainable ones
their gradients and the optimizer's state, at 4 bytes a value.

Importing this module loads no torch (the window reads Profile from it before torch is up).
"""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from .memory import Estimate, available_ram, is_out_of_memory

LAYER_PREFIX = "layer::"
METHODS = ("tried", "computed")
RAM_SHARE = 0.8              # CPU: a batch predicted to need more than this share of free RAM is skipped
SEARCH_LIMIT = 1 << 16       # CUDA: the search stops trying beyond this batch
SEARCH_PRECISION = 0.05      # CUDA: stop when the first batch that failed is within 5 % of the last that fitted


# ---- results --------------------------------------------------------------------------------------

@dataclass
class LayerTime:
    name: str                # the module's name in the compiled network (layer1.0.conv1)
    type: str                # its class (Conv2d)
    forward_ms: float
    backward_ms: float

    @property
    def total_ms(self) -> float:
        return self.forward_ms + self.backward_ms


@dataclass
class BatchResult:
    batch_size: int
    step_ms: float           # the fastest of the timed steps
    images_per_s: float
    peak_bytes: int          # measured
    estimated_bytes: int     # the analysis's estimate (see the module's doc)

    @property
    def ratio(self) -> float:
        """estimate / measured"""
        return self.estimated_bytes / self.peak_bytes if self.peak_bytes else 0.0


@dataclass
class Profile:
    device: str
    layers: list[LayerTime]
    batches: list[BatchResult]
    largest_batch: int
    largest_batch_method: str                 # "tried" | "computed"
    # beyond the JSON: what the text, the window and the tests read
    layers_batch_size: int = 0                # the batch the per-layer times were measured at
    profiled_step_ms: float = 0.0             # that profiled step, in the layers' units
    per_sample_bytes: int = 0                 # measured memory per sample (CPU: what the largest is computed from)
    available_bytes: int = 0                  # CPU: the RAM the largest batch was computed against
    largest_step_ms: float = 0.0              # CUDA: the step at the largest batch (0: not run)
    largest_peak_bytes: int = 0               # CUDA: measured at the largest batch; CPU: predicted
    activation_bytes: int = 0                 # the analysis's activations per sample
    fixed_estimate_bytes: int = 0             # weights, gradients and optimizer state, estimated
    optimizer: str = ""
    network: str = ""
    input_shapes: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def other_ms(self) -> float:
        """Time of the profiled step outside the layers: adds, concatenations, the loss, the optimizer."""
        return max(0.0, self.profiled_step_ms - sum(layer.total_ms for layer in self.layers))

    def share(self, layer: LayerTime) -> float:
        """The layer's part of the profiled step (forward + backward)."""
        return layer.total_ms / self.profiled_step_ms if self.profiled_step_ms else 0.0

    def to_json(self) -> dict:
        """`designer profile --json`: exactly the keys the contract names."""
        return {"device": self.device,
                "layers": [{"name": x.name, "type": x.type, "forward_ms": round(x.forward_ms, 4),
                            "backward_ms": round(x.backward_ms, 4)} for x in self.layers],
                "batches": [{"batch_size": b.batch_size, "step_ms": round(b.step_ms, 4),
                             "images_per_s": round(b.images_per_s, 2),
                             "peak_bytes": b.peak_bytes, "estimated_bytes": b.estimated_bytes} for b in self.batches],
                "largest_batch": self.largest_batch, "largest_batch_method": self.largest_batch_method}

    def to_message(self) -> dict:
        """Everything, as plain data (through the worker's queue)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_message(cls, data: dict) -> "Profile":
        data = dict(data)
        data["layers"] = [LayerTime(**x) for x in data["layers"]]
        data["batches"] = [BatchResult(**b) for b in data["batches"]]
        return cls(**data)


def structure_key(graph, input_shape=None, batch_sizes=None) -> str:
    """What a measurement depends on, as a short hash: blocks, parameters, wiring, frozen
    blocks, the training settings, the input. Moving or renaming blocks leaves it alone."""
    from designer.graph.fileformat import to_dict
    data = to_dict(graph)
    for body in [data] + list(data.get("composites", {}).values()):
        for node in body["nodes"]:
            node.pop("pos", None)
            node.pop("label", None)
    data["meta"] = {"training": data.get("meta", {}).get("training")}
    data["profile"] = [list(input_shape) if input_shape else None, list(batch_sizes) if batch_sizes else None]
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


# ---- text ---------------------------------------------------------------------------------------------

def _ms(v: float) -> str:
    return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"


def describe_estimate(p: Profile) -> str:
    from designer.graph.format import nbytes
    return (f"estimate: the analysis's activations ({nbytes(p.activation_bytes)} per sample) × batch, plus "
            f"weights, gradients and {p.optimizer} state ({nbytes(p.fixed_estimate_bytes)})")


def largest_text(p: Profile) -> str:
    from designer.graph.format import nbytes
    if p.largest_batch_method == "tried":
        return f"Largest batch that fits: {p.largest_batch:,} (tried: one training step ran; a larger one ran out of memory)"
    source = "the analysis's estimate: the measured was implausibly small" \
        if p.per_sample_bytes == p.activation_bytes else "measured"
    return (f"Largest batch that fits: {p.largest_batch:,} (computed, not tried: {nbytes(p.per_sample_bytes)} "
            f"per sample ({source}), {nbytes(p.available_bytes)} of RAM available)")


def as_text(p: Profile) -> str:
    from designer.graph.format import nbytes
    shapes = ", ".join("×".join(str(v) for v in s) for s in p.input_shapes)
    lines = [f"Measured on {p.device}" + (f", network {p.network!r}" if p.network else "")
             + f", input {shapes}, {p.optimizer}"]
    lines += [f"note: {n}" for n in p.notes]
    other = "outside the layers (adds, loss, optimizer step)"
    type_width = max([len("Type")] + [len(x.type) for x in p.layers])
    # the row of the time outside the layers spans the name, type and forward columns
    width = max([len("Layer"), len(other) - type_width - 14] + [len(x.name) for x in p.layers])
    lines += ["", f"Per layer at batch {p.layers_batch_size} (one profiled training step):",
              f"  {'Layer':<{width}}  {'Type':<{type_width}}  {'Forward ms':>10}  {'Backward ms':>11}  {'Share':>7}"]
    for x in p.layers:
        lines.append(f"  {x.name:<{width}}  {x.type:<{type_width}}  {_ms(x.forward_ms):>10}  "
                     f"{_ms(x.backward_ms):>11}  {p.share(x) * 100:6.1f}%")
    if p.profiled_step_ms:
        lines.append(f"  {other:<{width + type_width + 14}}  "
                     f"{_ms(p.other_ms):>11}  {p.other_ms / p.profiled_step_ms * 100:6.1f}%")
    lines += ["", "Per batch size (training steps: forward, backward, optimizer):",
              f"  {'Batch':>6}  {'Step ms':>9}  {'ms/image':>9}  {'Images/s':>9}  {'Peak memory':>11}  "
              f"{'Estimate':>10}  {'Est./measured':>13}"]
    for b in p.batches:
        lines.append(f"  {b.batch_size:>6}  {_ms(b.step_ms):>9}  {_ms(b.step_ms / b.batch_size):>9}  "
                     f"{b.images_per_s:>9,.1f}  {nbytes(b.peak_bytes):>11}  {nbytes(b.estimated_bytes):>10}  "
                     f"{b.ratio:>13.2f}")
    lines += [f"  ({describe_estimate(p)})", "", largest_text(p)]
    return "\n".join(lines)


# ---- memory on this machine -------------------------------------------------------------------------

def computed_largest(measured: list[tuple[int, int]], available: int, held: int,
                     at_least: int = 0) -> tuple[int, int, int]:
    """(largest batch, bytes per sample, fixed bytes) from (batch size, peak bytes) pairs: a line
    through the smallest and the largest batch; the RAM a step may use is what is `available`
    now plus what the model already `held` (the weights are part of both). Between two small
    batches the peak is mostly temporary buffers of a fixed size, and the slope can come out far
    below what a sample keeps: under half of `at_least` (the analysis's activations per sample,
    which counts every value and is rarely more than 2× the measured) it is taken as `at_least`."""
    measured = sorted(measured)
    (b0, m0), (b1, m1) = measured[0], measured[-1]
    per_sample = (m1 - m0) // (b1 - b0) if b1 > b0 else 0
    if per_sample <= 0:   # one batch size: what it added to what was held
        per_sample = max(1, (m1 - held) // b1)
    if per_sample < at_least / 2:   # implausibly small: the peaks were the fixed temporaries
        per_sample = at_least
    fixed = max(0, m1 - per_sample * b1)
    largest = max(0, (available + held - fixed) // per_sample)
    return int(largest), int(per_sample), int(fixed)


def search_largest(fits: Callable[[int], bool], fitted: int, failed: int | None,
                   limit: int = SEARCH_LIMIT, precision: float = SEARCH_PRECISION) -> int:
    """The largest batch `fits` accepts, by trying: double from `fitted` (a batch known to fit)
    until one fails (or `failed`, already known), then halve the gap until the first failure
    is within `precision` of the last fit. Assumes a larger batch never fits where a smaller
    one did not."""
    lo, hi = max(0, fitted), failed
    while hi is None:
        trial = min(limit, max(1, lo * 2))
        if trial <= lo:
            return lo                                  # at the limit: stop searching
        if fits(trial):
            lo = trial
        else:
            hi = trial
    while hi - lo > max(1, int(lo * precision)):
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


# ---- measuring -----------------------------------------------------------------------------------

class _Run:
    """One compiled network, its optimizer and its random batches, on one device."""

    def __init__(self, graph, device: str, input_shape, amp: bool, network: str | None, notes: list[str]):
        import torch

        from .config import TrainConfig
        from .device import amp_dtype, describe, pick_device, tune_for
        from .optim import make_optimizer
        from .tasks.base import compile_network

        self.torch = torch
        networks = graph.networks()
        if network is None:
            if len(networks) > 1:
                notes.append(f"this document holds {len(networks)} networks; measured the first, {networks[0]!r}")
            network = networks[0] if len(networks) > 1 else None
        self.network = network or ""
        if device == "auto":   # measured where memory can be measured: a CUDA GPU, else the CPU (not MPS)
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = pick_device(device)
        tune_for(self.device)
        self.device_text = describe(self.device)
        analysis = graph.analyze(input_shape)
        members = [i for i, n in graph.nodes.items() if network is None or n.network == network]
        self.input_shapes = [tuple(analysis.nodes[i].out_shapes["out"]) for i in members
                             if graph.nodes[i].type == "Input" and analysis.nodes[i].out_shapes]
        self.module = compile_network(graph, network, input_shape).to(self.device)
        self.module.train()
        config = TrainConfig.from_graph(graph)
        self.optimizer = make_optimizer(self.module.parameters(), config)
        self.optimizer_text = config.optimizer if config.optimizer != "sgd" else \
            ("SGD with momentum" if config.momentum else "SGD")
        self.optimizer_text = {"adam": "Adam", "adamw": "AdamW"}.get(self.optimizer_text, self.optimizer_text)
        estimate = Estimate.of(analysis, config, graph, network)
        self.activation_bytes = estimate.activation_bytes
        self.fixed_estimate = estimate.fixed_bytes
        self.amp_dtype, note = amp_dtype("bf16" if amp else "off", self.device)
        if note:
            notes.append(note)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.cuda = self.device.type == "cuda"

    # ---- one training step ------------------------------------------------------------------
    def batch(self, size: int) -> list:
        return [self.torch.randn(size, *shape, device=self.device) for shape in self.input_shapes]

    def step(self, inputs, marked: bool = False) -> None:
        torch = self.torch
        record = torch.profiler.record_function if marked else _no_range
        self.optimizer.zero_grad(set_to_none=True)
        with record("profile::forward"):
            with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                outputs = self.module(*inputs)
                loss = sum(t.float().mean() for t in _tensors(outputs) if t.is_floating_point())
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()

    def sync(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize(self.device)

    def timed_steps(self, inputs, warmup: int, iterations: int) -> float:
        """The fastest step's time in ms: on a shared machine other programs only ever add
        time, so the least is the one that says what this machine can do (timeit's rule)."""
        for _ in range(warmup):
            self.step(inputs)
        self.sync()
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            self.step(inputs)
            self.sync()
            times.append((time.perf_counter() - start) * 1000)
        return min(times)

    def held_bytes(self, inputs) -> int:
        """Bytes of the tensors held between steps: weights, buffers, optimizer state, the batch."""
        torch = self.torch
        seen, total = set(), 0
        tensors = list(self.module.parameters()) + list(self.module.buffers()) + list(inputs)
        for state in self.optimizer.state.values():
            tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
        for t in tensors:
            storage = t.untyped_storage()
            if t.device.type == self.device.type and storage.data_ptr() not in seen:
                seen.add(storage.data_ptr())
                total += storage.nbytes()
        return total

    # ---- under the profiler -------------------------------------------------------------------
    def profiled_steps(self, inputs, steps: int, layers: bool):
        """(per-layer times {name: (fwd ms, bwd ms)}, the step's ms in the same units (each the
        least over the steps), the peak bytes the profiler's allocator events reached above
        the start)."""
        torch = self.torch
        from torch.profiler import ProfilerActivity, profile

        self.optimizer.zero_grad(set_to_none=True)   # last step's gradients go before counting starts
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if self.cuda else [])
        hooks = _layer_ranges(self.module) if layers else []
        try:
            with _quiet_native_stderr():
                with profile(activities=activities, profile_memory=not self.cuda) as prof:
                    for _ in range(steps):
                        with torch.profiler.record_function("profile::step"):
                            self.step(inputs, marked=True)
                        self.sync()
        finally:
            for h in hooks:
                h.remove()
        peak = 0 if self.cuda else _allocator_peak(prof)
        if not layers:
            return {}, 0.0, peak
        times, step_ms = _layer_times(prof.events(), self.cuda)
        return times, step_ms, peak


@contextmanager
def _no_range(name):
    yield


def _tensors(value):
    import torch
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)


def _layer_ranges(module) -> list:
    """A profiler range per leaf module call, named `layer::<module name>`, opened and closed by
    forward hooks (a stack: a module that fails mid-forward leaves nothing open for long)."""
    import torch
    stack = []

    def opener(name):
        def pre(mod, args):
            rng = torch.profiler.record_function(LAYER_PREFIX + name)
            rng.__enter__()
            stack.append(rng)
        return pre

    def close(mod, args, out):
        if stack:
            stack.pop().__exit__(None, None, None)

    handles = []
    for name, mod in module.named_modules():
        if name and not any(True for _ in mod.children()):
            handles.append(mod.register_forward_pre_hook(opener(name)))
            handles.append(mod.register_forward_hook(close))
    return handles


def _duration_us(event, cuda: bool) -> float:
    if cuda:
        total = getattr(event, "device_time_total", None)   # before torch 2.4: cuda_time_total
        return float(total if total is not None else getattr(event, "cuda_time_total", 0.0))
    return float(event.cpu_time_total)


def _layer_times(events, cuda: bool) -> tuple[dict, float]:
    """Per layer (forward ms, backward ms) and the step's ms, each the least over the profiled
    steps (another program taking the CPU only ever adds time). Forward: each layer range's
    time. Backward: each autograd node's evaluate_function, given to the layer whose forward op
    made the node (matched by thread and sequence number; an op that made no node leaves its
    number to the next op, which made it: the last wins). Only the host's events count: on a GPU
    the ranges come back a second time as device-side annotations, and the device time of a host
    event already holds its kernels'."""
    events = [e for e in events if str(e.device_type).endswith("CPU")]
    steps = sorted((e for e in events if e.name == "profile::step"), key=lambda e: e.time_range.start)
    starts = [e.time_range.start for e in steps]

    def step_of(e) -> int:
        return max(0, bisect.bisect_right(starts, e.time_range.start) - 1)

    forward: dict[str, list[float]] = {}
    owner_of: dict[tuple, str | None] = {}
    forward_ops = []
    for e in events:
        if e.name.startswith(LAYER_PREFIX):
            name = e.name[len(LAYER_PREFIX):]
            forward.setdefault(name, [0.0] * len(steps))[step_of(e)] += _duration_us(e, cuda)
        elif e.sequence_nr >= 0 and not e.name.startswith("autograd::"):
            forward_ops.append(e)
    for e in sorted(forward_ops, key=lambda e: e.time_range.start):
        layer, up = None, e.cpu_parent
        while up is not None and up.name != "profile::forward":
            if layer is None and up.name.startswith(LAYER_PREFIX):
                layer = up.name[len(LAYER_PREFIX):]
            up = up.cpu_parent
        if up is not None:   # an op of the forward pass (the backward's own ops carry numbers too)
            owner_of[(e.thread, e.sequence_nr)] = layer
    backward = {name: [0.0] * len(steps) for name in forward}
    for e in events:
        if e.name.startswith("autograd::engine::evaluate_function") and e.sequence_nr >= 0:
            layer = owner_of.get((e.fwd_thread, e.sequence_nr))
            if layer is not None:
                backward[layer][step_of(e)] += _duration_us(e, cuda)
    step_ms = min((_duration_us(e, cuda) for e in steps), default=0.0) / 1000
    return {n: (min(forward[n]) / 1000, min(backward[n]) / 1000) for n in forward}, step_ms


def _allocator_peak(prof) -> int:
    """The highest the CPU allocator's bytes rose above where they stood when profiling began:
    the running sum of every allocation (+) and free (−) the profiler saw, in time order."""
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"
              and str(e.device_type()).endswith("CPU")]
    events.sort(key=lambda e: e.start_ns())
    level = peak = 0
    for e in events:
        level += e.nbytes()
        peak = max(peak, level)
    return peak


@contextmanager
def _quiet_native_stderr():
    """Kineto writes start/stop lines (and, without a GPU, a device-count error) to the
    process's stderr; they say nothing to a person reading the profile."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def profile_graph(graph, batch_sizes=(1, 8, 32), device: str = "auto", input_shape=None, amp: bool = False,
                  warmup: int | None = None, iterations: int | None = None, network: str | None = None,
                  search: bool = True, threads: int = 0,
                  on_progress: Callable[[str], None] | None = None) -> Profile:
    """Measure `graph` training on `device` (see the module's doc). `warmup` and `iterations`:
    steps per batch size before and while timing (default 2 and 5 on a GPU, 1 and 3 on the
    CPU). `search`: look for the largest batch (CUDA: by trying; CPU: always computed).
    `threads`: CPU threads for the maths while measuring (0: PyTorch's default, one per core)."""
    import torch
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        return _profile(graph, batch_sizes, device, input_shape, amp, warmup, iterations, network, search,
                        on_progress)
    finally:
        torch.set_num_threads(before)


def _profile(graph, batch_sizes, device, input_shape, amp, warmup, iterations, network, search,
             on_progress) -> Profile:
    from designer.graph.format import nbytes

    from .errors import TrainSetupError
    say = on_progress or (lambda text: None)
    sizes = sorted({int(b) for b in batch_sizes})
    if not sizes or sizes[0] < 1:
        raise TrainSetupError("the batch sizes must be whole numbers of 1 or more")
    notes: list[str] = []
    run = _Run(graph, device, input_shape, amp, network, notes)
    torch = run.torch
    warmup = (2 if run.cuda else 1) if warmup is None else warmup
    iterations = (5 if run.cuda else 3) if iterations is None else iterations
    layer_steps = max(1, min(3, iterations))
    say(f"measuring on {run.device_text}")

    batches: list[BatchResult] = []
    measured: list[tuple[int, int]] = []
    layers: dict = {}
    layers_batch = 0
    profiled_ms = 0.0
    failed: int | None = None
    held = 0
    for i, size in enumerate(sizes):
        last = i == len(sizes) - 1
        if not run.cuda and measured:
            predicted = computed_largest(measured, available_ram(), held, run.activation_bytes)
            need = predicted[2] + predicted[1] * size
            if need > RAM_SHARE * (available_ram() + held):
                notes.append(f"batch {size} was not run: it would need about {nbytes(need)} of RAM "
                             f"and {nbytes(available_ram())} is available")
                break
        say(f"batch {size}: timing {iterations} training step" + ("s" if iterations != 1 else ""))
        try:
            inputs = run.batch(size)
            if run.cuda:
                run.optimizer.zero_grad(set_to_none=True)
                torch.cuda.reset_peak_memory_stats(run.device)
            step_ms = run.timed_steps(inputs, warmup, iterations)
            peak = torch.cuda.max_memory_allocated(run.device) if run.cuda else 0
            held = run.held_bytes(inputs)
            with_layers = last
            if not run.cuda or with_layers:
                say(f"batch {size}: one step under the profiler")
                found, ms, above = run.profiled_steps(inputs, layer_steps if with_layers else 1, with_layers)
                if with_layers:
                    layers, profiled_ms, layers_batch = found, ms, size
                if not run.cuda:
                    peak = held + above
        except Exception as exc:  # noqa: BLE001 - only out-of-memory is expected here
            if not (run.cuda and is_out_of_memory(exc)):
                raise
            failed = size
        if failed is not None:   # freed here, once the error no longer holds the step's tensors
            inputs = None
            _free(run)
            notes.append(f"batch {size} does not fit in the GPU's memory")
            break
        batches.append(BatchResult(size, step_ms, size * 1000 / step_ms, int(peak),
                                   run.fixed_estimate + run.activation_bytes * size))
        measured.append((size, int(peak)))
        del inputs
    if not batches:
        raise TrainSetupError(f"not even batch {sizes[0]} fits in the memory of {run.device_text}")
    if not layers:   # the largest size did not fit: the per-layer times at the largest that did
        size = batches[-1].batch_size
        say(f"batch {size}: one step under the profiler")
        layers, profiled_ms, _ = run.profiled_steps(run.batch(size), layer_steps, True)
        layers_batch = size

    kinds = {name: type(mod).__name__ for name, mod in run.module.named_modules()}
    result = Profile(device=run.device_text, layers=[LayerTime(n, kinds.get(n, ""), fwd, bwd)
                                                     for n, (fwd, bwd) in layers.items()],
                     batches=batches, largest_batch=batches[-1].batch_size,
                     largest_batch_method="tried" if run.cuda else "computed",
                     layers_batch_size=layers_batch, profiled_step_ms=profiled_ms,
                     activation_bytes=run.activation_bytes, fixed_estimate_bytes=run.fixed_estimate,
                     optimizer=run.optimizer_text, network=run.network,
                     input_shapes=[list(s) for s in run.input_shapes], notes=notes)
    if run.cuda:
        if search:
            say("looking for the largest batch that fits")
            tried: dict[int, tuple[float, int]] = {}

            def fits(size: int) -> bool:
                say(f"trying batch {size}")
                try:
                    inputs = run.batch(size)
                    run.optimizer.zero_grad(set_to_none=True)
                    torch.cuda.reset_peak_memory_stats(run.device)
                    start = time.perf_counter()
                    run.step(inputs)
                    run.sync()
                    tried[size] = ((time.perf_counter() - start) * 1000, torch.cuda.max_memory_allocated(run.device))
                    return True
                except Exception as exc:  # noqa: BLE001
                    if not is_out_of_memory(exc):
                        raise
                    return False
                finally:
                    inputs = None
                    _free(run)

            result.largest_batch = search_largest(fits, batches[-1].batch_size, failed)
            if result.largest_batch in tried:
                result.largest_step_ms, result.largest_peak_bytes = tried[result.largest_batch]
        per = computed_largest(measured, 0, 0)[1] if len(measured) > 1 else 0
        result.per_sample_bytes = per
    else:
        available = available_ram()
        largest, per, fixed = computed_largest(measured, available, held, run.activation_bytes)
        result.largest_batch, result.per_sample_bytes, result.available_bytes = largest, per, available
        result.largest_peak_bytes = fixed + per * largest
    return result


def one_step_fits(graph, batch_size: int, device: str = "cuda", input_shape=None, amp: bool = False) -> bool:
    """Does one training step at `batch_size` run without running out of memory? (For checking
    a reported largest batch in a fresh process.)"""
    run = _Run(graph, device, input_shape, amp, None, [])
    try:
        run.step(run.batch(batch_size))
        run.sync()
        return True
    except Exception as exc:  # noqa: BLE001 - only out-of-memory means "does not fit"
        if not is_out_of_memory(exc):
            raise
        return False
    finally:
        _free(run)


def _free(run: _Run) -> None:
    import gc
    run.optimizer.zero_grad(set_to_none=True)
    gc.collect()
    if run.cuda:
        run.torch.cuda.empty_cache()


__all__ = ["LayerTime", "BatchResult", "Profile", "profile_graph", "one_step_fits", "structure_key", "as_text",
           "largest_text", "describe_estimate", "computed_largest", "search_largest"]
