"""The declaration of a block type and the registry that holds them.

A block is declared once: parameters, ports, shape rule, parameter rule, and how
to build its torch module. Palette, inspector, analysis, compiler and code
export all read the same declaration. Nothing here imports torch: `build`
functions import it when they are called.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .errors import ParamError, UnknownBlockError
from .params import Param

Shape = tuple  # a tensor shape without the batch dimension: (C, H, W) or (F,)

CATEGORIES = ("Input", "Convolution", "Pooling", "Dense", "Activation", "Normalization",
              "Regularization", "Merge", "Composite", "Generative")


@dataclass(slots=True)
class Inference:
    """What a block's shape-and-parameter rule returns for one node."""
    outputs: dict[str, Shape]
    weights: int = 0
    biases: int = 0
    macs: int = 0
    shape_formula: str = ""
    param_formula: str = ""      # e.g. "(5×5×6)×16 + 16 = 2,416"
    weight_formula: str = ""     # e.g. "(5×5×6)×16", used in the whole-network formula
    warnings: Sequence[str] = ()
    resolved: dict[str, Any] | None = None  # inferred values: in_channels…
    inner: Sequence = ()  # composites: one inner Analysis per repetition
    activations: int | None = None  # values computed per sample; None: the outputs' (composites: the inside's)
    # Instead of the three formulas, a rule may give a function returning (shape_formula,
    # param_formula, weight_formula), called the first time one of them is read: formulas are
    # written for a person, who reads a few, while every keystroke analyses the whole network.
    formulas: Callable[[], tuple[str, str, str]] | None = None


@dataclass
class BlockSpec:
    type: str
    category: str
    doc: str
    params: tuple[Param, ...]
    infer: Callable[[dict, dict[str, Shape]], Inference]
    build: Callable[[dict, dict[str, Shape]], Any] | None = None
    inputs: tuple[str, ...] | Callable[[dict], tuple[str, ...]] = ("in",)
    outputs: tuple[str, ...] = ("out",)
    summary: Callable[[dict], str] = lambda p: ""
    # composites: a function (params, input shapes) -> inner Graph
    expand: Callable[[dict, dict[str, Shape]], Any] | None = None
    # blocks that compile to a plain function call rather than a module
    functional: bool = False
    title: str = ""

    @property
    def is_composite(self) -> bool:
        return self.expand is not None

    def input_ports(self, params: dict) -> tuple[str, ...]:
        return self.inputs(params) if callable(self.inputs) else self.inputs

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParamError(f"{self.type} has no parameter {name!r}")

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def coerce_params(self, given: dict) -> dict:
        """Defaults overlaid with `given`, each value checked; unknown names refused."""
        known = {p.name for p in self.params}
        for name in given:
            if name not in known:
                raise ParamError(f"{self.type} has no parameter {name!r}")
        out = {}
        for p in self.params:
            out[p.name] = p.coerce(given[p.name]) if p.name in given else p.default
        return out


_REGISTRY: dict[str, BlockSpec] = {}


def register(spec: BlockSpec) -> BlockSpec:
    if spec.type in _REGISTRY:
        raise ValueError(f"block {spec.type} declared twice")
    _REGISTRY[spec.type] = spec
    return spec


def get_block(type_name: str) -> BlockSpec:
    spec = _REGISTRY.get(type_name) if isinstance(type_name, str) else None
    if spec is None:
        _load_catalog()
        spec = _REGISTRY.get(type_name) if isinstance(type_name, str) else None
        if spec is None:
            raise UnknownBlockError(f"unknown block type {type_name!r}")
    return spec


def all_blocks() -> list[BlockSpec]:
    _load_catalog()
    return list(_REGISTRY.values())


def _load_catalog():
    # a flag, not "is the registry empty": importing one declaration module first (say the
    # composites) fills the registry partly, and the rest must still load
    global _CATALOG_LOADED
    if not _CATALOG_LOADED:
        from . import blocks  # noqa: F401 - declarations register themselves
        _CATALOG_LOADED = True


_CATALOG_LOADED = False
