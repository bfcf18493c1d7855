"""Putting saved weights onto a network by name: the basis of fine-tuning
(load a trained network's weights, freeze blocks, replace the head).

`load_weights(module, source)` matches the keys of a state dict against the
compiled network's (`c1.weight`, `layer1.0.conv1.weight`) and loads those whose
shapes agree; the report says what matched and what did not. For a drawing
rather than a module, `checkpoint.fit_weights(graph, source)` gives the fitting
entries, which a Document keeps as its weights.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from designer.graph.format import shape as fmt_shape
from .errors import WeightsFileError

# keys the training engine and common tools wrap a state dict in
_WRAPPERS = ("state_dict", "model_state_dict", "model", "model_state", "weights")
# prefixes added by DistributedDataParallel and torch.compile
_PREFIXES = ("module.", "_orig_mod.")
# where a training run's checkpoint (designer.train) keeps its networks' state dicts
_RUN_NETS = "nets"


@dataclass
class WeightsReport:
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)      # in the network, not in the file
    unexpected: list[str] = field(default_factory=list)   # in the file, not in the network
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # key, file shape, network shape

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def __str__(self) -> str:
        total = len(self.matched) + len(self.missing) + len(self.mismatched)
        parts = [f"loaded {len(self.matched)} of {total} tensors"]
        if self.mismatched:
            shown = ", ".join(f"{k} ({_fmt(a)} in the file, {_fmt(b)} here)" for k, a, b in self.mismatched[:3])
            parts.append(f"{len(self.mismatched)} with another shape: {shown}" + _more(self.mismatched))
        if self.missing:
            parts.append(f"{len(self.missing)} not in the file: {', '.join(self.missing[:4])}" + _more(self.missing, 4))
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} in the file match no layer: {', '.join(self.unexpected[:4])}"
                         + _more(self.unexpected, 4))
        return "; ".join(parts)


def _fmt(shape) -> str:
    return fmt_shape(shape) if shape else "scalar"


def _more(items, shown: int = 3) -> str:
    return f" and {len(items) - shown} more" if len(items) > shown else ""


def state_dict_of(obj, where: str = "the file") -> dict[str, torch.Tensor]:
    """The tensors of a loaded .pt: a plain state dict, our weights file, a checkpoint that
    wraps one, or a training run's checkpoint (`nets`: one network under "model", or a
    GAN's two, whose keys then start with the network's name as the document compiles
    them: `generator.c1.weight`); DDP's `module.` and torch.compile's `_orig_mod.` removed."""
    nets = obj.get(_RUN_NETS) if isinstance(obj, Mapping) else None
    if isinstance(nets, Mapping) and nets:
        if set(nets) == {"model"}:
            return state_dict_of(nets["model"], where)
        return {f"{net}.{k}": v for net, state in nets.items() for k, v in state_dict_of(state, where).items()}
    if isinstance(obj, Mapping):
        for key in _WRAPPERS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                obj = inner
                break
    if not isinstance(obj, Mapping) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise WeightsFileError(f"{where} holds no state dict (a mapping of layer names to tensors)")
    state = dict(obj)
    for prefix in _PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = _without_prefix(state, prefix)
    return state


def network_share(state: Mapping[str, torch.Tensor], network: str) -> dict[str, torch.Tensor]:
    """The entries of one network of a several-network document, named as that network
    alone names them (`generator.c1.weight` -> `c1.weight`)."""
    return _without_prefix(state, f"{network}.")


def _without_prefix(state: Mapping, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def match(module: nn.Module, state: Mapping[str, torch.Tensor]) -> tuple[dict, WeightsReport]:
    """Which entries of `state` fit `module` by name and shape."""
    own = module.state_dict(keep_vars=True)
    report, fitting = WeightsReport(), {}
    for key, value in state.items():
        if key not in own:
            report.unexpected.append(key)
        elif tuple(own[key].shape) != tuple(value.shape):
            report.mismatched.append((key, tuple(value.shape), tuple(own[key].shape)))
        else:
            fitting[key] = value
            report.matched.append(key)
    report.missing = [k for k in own if k not in state]
    return fitting, report


def load_matching(module: nn.Module, state: Mapping[str, torch.Tensor], strict: bool = False) -> WeightsReport:
    """Copy the fitting entries into `module` in place (devices and dtypes converted).
    strict: refuse, loading nothing, unless every key matches in name and shape."""
    fitting, report = fitting_entries(module, state, strict)
    if fitting:
        module.load_state_dict(fitting, strict=False)
    return report


def fitting_entries(module: nn.Module, state: Mapping[str, torch.Tensor],
                    strict: bool = False) -> tuple[dict, WeightsReport]:
    """The entries of `state` that fit `module` (built on any device, meta included), and the report.
    strict: refuse unless every key matches in name and shape."""
    fitting, report = match(module, state)
    if strict and not report.ok:
        raise WeightsFileError(f"weights do not fit: {report}")
    return fitting, report


def read_state(source) -> dict[str, torch.Tensor]:
    """The state dict of a .pt path (read safely) or of a mapping (see state_dict_of)."""
    if isinstance(source, (str, Path)):
        from .safe_load import load_torch_file
        return state_dict_of(load_torch_file(source), Path(source).name)
    return state_dict_of(source, "the given weights")


def load_weights(module: nn.Module, source, strict: bool = False) -> WeightsReport:
    """Map a state dict (a .pt path, read safely, or a mapping) onto `module` in place, by name.
    strict: refuse, loading nothing, unless every key matches in name and shape.
    (A drawing's weights: `Document.load_weights`.)"""
    if not isinstance(module, nn.Module):
        raise TypeError("load_weights puts weights into a compiled network; for a document use "
                        "document.load_weights(source)")
    return load_matching(module, read_state(source), strict)
