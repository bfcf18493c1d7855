"""What a Graph tells its observers: one frozen dataclass per kind of change.

`Graph.subscribe(callback)` calls `callback(event)` once per real change, with one
of these. Listeners dispatch on the class (`isinstance`, `match`), never on a
string; an event carries the object that changed, not a copy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .model import Edge, Node


@dataclass(frozen=True)
class NodeAdded:
    node: "Node"


@dataclass(frozen=True)
class NodeRemoved:
    node: "Node"


@dataclass(frozen=True)
class NodeChanged:
    """`field` is "params", "label", "pos", "network" or "trainable"; `name` is the
    parameter's name for "params", else the field again."""
    node: "Node"
    field: str
    name: str

    @property
    def moved_only(self) -> bool:
        """A move changes no shape, count or text: views that only draw numbers skip it."""
        return self.field == "pos"


@dataclass(frozen=True)
class EdgeAdded:
    edge: "Edge"


@dataclass(frozen=True)
class EdgeRemoved:
    edge: "Edge"


@dataclass(frozen=True)
class CompositeChanged:
    """A user composite was added, replaced or removed; nodes of that type changed with it."""
    name: str


@dataclass(frozen=True)
class MetaChanged:
    key: str


GraphEvent = Union[NodeAdded, NodeRemoved, NodeChanged, EdgeAdded, EdgeRemoved, CompositeChanged, MetaChanged]
