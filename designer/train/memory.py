"""Out of memory, on any device: recognising it, and a batch that fits.

A failed allocation shows up as torch.OutOfMemoryError on CUDA, a RuntimeError from
the CPU allocator ("DefaultCPUAllocator: can't allocate memory"), Python's
MemoryError, or a DataLoader worker the system killed. `suggest_batch` answers with
a batch size computed from the analysis's memory estimate:

    training bytes(batch) = parameters × 4 × (1 weights + 1 gradients + optimizer states)
                            + batch × activation bytes per image (the analysis's forward total)

and the memory free on the device now (the CPU: the smaller of MemAvailable and what
the address-space limit, `ulimit -v`, leaves). The per-image term is the analysis's
float32 forward total; measured on VGG-16 at 224 px on the CPU, a training step's
peak grew by 0.66 of it per image, so the estimate errs on the safe side.
Light: no torch at import.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from designer.atomic import size_text

_OOM_TEXT = ("out of memory", "can't allocate memory", "not enough memory", "cannot allocate memory",
             "failed to allocate memory",
             "alloc_failed")   # a library (cuBLAS, cuDNN) that could not get its workspace
SAFETY = 0.8   # of the free memory a suggested batch may use


def is_out_of_memory(exc: BaseException) -> bool:
    """A failed allocation on any device (CUDA, MPS, the CPU), or Python's MemoryError."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    if not isinstance(exc, RuntimeError):
        return False
    text = str(exc).lower()
    return any(t in text for t in _OOM_TEXT)


def loader_killed(exc: BaseException) -> str | None:
    """For a DataLoader worker that the system killed (the usual end of a worker that
    ran out of memory), the line of the error that says so; else None."""
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc)
    if "DataLoader worker" in text and ("killed by signal" in text or "exited unexpectedly" in text):
        return text.strip().splitlines()[0]
    return None


def free_bytes(device) -> int | None:
    """Bytes that can still be allocated on `device` (a torch.device), or None when unknown."""
    if device.type == "cuda":
        import torch
        try:
            free, _total = torch.cuda.mem_get_info(device)
        except RuntimeError:
            return None
        return int(free)
    if device.type != "cpu":
        return None
    return cpu_free_bytes()


def available_ram() -> int:
    """Bytes of RAM a new allocation can take now (Linux: MemAvailable), 0 when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    if sys.platform == "win32":
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong)] + \
                       [(n, ctypes.c_ulonglong) for n in ("total", "avail", "tpf", "apf", "tv", "av", "aev")]
        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.avail)
        return 0
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def cpu_free_bytes() -> int | None:
    """The smaller of the RAM available now and what the address-space limit leaves."""
    free = available_ram() or None
    room = _address_space_left()
    known = [v for v in (free, room) if v is not None]
    return min(known) if known else None


def _address_space_left() -> int | None:
    if sys.platform == "win32":
        return None
    import resource
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return max(0, soft - int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def optimizer_states(config) -> int:
    """Float32 buffers the optimizer keeps per trainable parameter. `config`: a TrainConfig,
    or an optimizer's name (SGD then counted with its momentum buffer)."""
    name = getattr(config, "optimizer", config)
    if name == "sgd":
        return 1 if getattr(config, "momentum", 0.9) else 0
    return 2   # Adam, AdamW: the two moments


@dataclass(frozen=True)
class Estimate:
    """The analysis's figures for training one network: the one estimate behind the
    out-of-memory hint and the profile's Estimate column."""
    params: int                  # parameters (weights and biases)
    activation_bytes: int        # float32 forward outputs of one image (the analysis's activation total)
    trainable: int | None = None     # parameters the optimizer updates (None: all)
    states: int = 1                  # the optimizer's buffers per trainable parameter

    @classmethod
    def of(cls, analysis, config="sgd", graph=None, network: str | None = None) -> "Estimate":
        """From an analysis; with the graph, only `network`'s blocks (all when None), and
        frozen blocks are left out of the gradients and the optimizer's state."""
        if graph is None:
            return cls(analysis.total_params, analysis.activation_bytes, None, optimizer_states(config))
        members = [i for i in analysis.order if network is None or graph.nodes[i].network == network]
        infos = analysis.nodes
        params = sum(infos[i].weights + infos[i].biases for i in members)
        trainable = sum(infos[i].weights + infos[i].biases for i in members if graph.nodes[i].trainable)
        values = sum(infos[i].activations for i in members)
        return cls(params, 4 * values, trainable, optimizer_states(config))

    @property
    def fixed_bytes(self) -> int:
        """Weights, and for the trainable ones their gradients and the optimizer's buffers."""
        trainable = self.params if self.trainable is None else self.trainable
        return 4 * (self.params + trainable * (1 + self.states))

    def bytes_for(self, batch: int) -> int:
        return self.fixed_bytes + batch * self.activation_bytes


def suggest_batch(estimate: Estimate, batch: int, free: int | None) -> tuple[int | None, str]:
    """(a smaller batch, the hint that says why) after `batch` ran out of memory with
    `free` bytes free now (the weights still held: they count as the run's own).
    The batch is None when not even one image fits by the estimate."""
    half = max(1, batch // 2)
    per_image = size_text(estimate.activation_bytes)
    if free is None or estimate.activation_bytes <= 0:
        return half, (f"Try a batch size of {half} (by the analysis's estimate one image needs {per_image} "
                      "of activations for training).")
    room = int(free * SAFETY) + estimate.params * 4
    fits = (room - estimate.fixed_bytes) // estimate.activation_bytes
    if fits < 1:
        return None, (f"Even a batch of 1 needs about {size_text(estimate.bytes_for(1))} by the analysis's "
                      f"estimate, and {size_text(free)} are free: choose a smaller image size or a smaller "
                      "network.")
    if fits >= batch:   # the estimate says it fits, yet it did not: something else holds memory
        return half, (f"Try a batch size of {half}: by the analysis's estimate a batch of {batch} would fit in "
                      f"the {size_text(free)} free now, so other programs may be holding memory.")
    suggestion = 1 << (min(fits, half).bit_length() - 1)   # a power of two
    return suggestion, (f"Try a batch size of {suggestion}: by the analysis's estimate it needs about "
                        f"{size_text(estimate.bytes_for(suggestion))} to train, and "
                        f"{size_text(free + estimate.params * 4)} are free for it.")
