"""Checkpoints: model, optimizer and schedule states, the position in the run and
the random number generators, written atomically (a crash mid-write leaves the
previous file whole) and read back with `weights_only=True` (no code runs on load)."""
from __future__ import annotations

import random
from pathlib import Path

import torch

from designer.atomic import atomic_path
from designer.compile.safe_load import load_torch_file


def save(state: dict, path: Path) -> None:
    """Write atomically; a full or read-only disk raises designer.atomic.WriteFailed
    (torch's own "unexpected pos" included), with the previous file untouched."""
    with atomic_path(path, size_hint=tensor_bytes(state) + PICKLE_BYTES) as tmp:
        torch.save(state, tmp)


PICKLE_BYTES = 16 << 10   # the rest of a checkpoint: settings, positions, the Python random state
TENSOR_RECORD = 256       # a tensor's zip record beyond its data: headers, name, alignment


def tensor_bytes(obj) -> int:
    """The bytes torch.save writes for the tensors in a nest of dicts, lists and tuples."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size() + TENSOR_RECORD
    if isinstance(obj, dict):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(tensor_bytes(v) for v in obj)
    return 0


def load(path: Path) -> dict:
    """A checkpoint as plain tensors and containers, on the CPU (the project's one
    loader: weights_only=True; a file that would run code is refused)."""
    return load_torch_file(path, map_location="cpu")


def weights_of(obj):
    """The layer tensors of a loaded .pt: a run checkpoint's networks flattened to one
    state dict (a GAN's as generator.… and discriminator.…, the names the compiler
    gives a document of several networks); anything else as it is."""
    nets = obj.get("nets") if isinstance(obj, dict) else None
    if not isinstance(nets, dict) or not nets:
        return obj
    if len(nets) == 1:
        return dict(next(iter(nets.values())))
    return {f"{name}.{key}": value for name, state in nets.items() for key, value in state.items()}


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1])}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((3, tuple(state["python"]), None))
    if "cuda" in state and torch.cuda.is_available():
        cuda = state["cuda"]
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
