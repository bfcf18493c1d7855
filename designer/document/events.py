"""What a Document tells its observers, one frozen dataclass per kind of change.

Changes of the graph itself come from the graph (`designer.graph.events`); these
are the document's own: which graph, its weights, the selection, where the canvas
looks, the history and the file. `Document.subscribe(callback)` calls
`callback(event)`; listeners dispatch on the class.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union


@dataclass(frozen=True)
class GraphReplaced:
    """New, Open, a preset: views rebuild from `graph`."""
    graph: Any


@dataclass(frozen=True)
class AnalysisStale:
    """An edit changed shapes or counts; `Document.refresh_analysis()` brings them up to date."""


@dataclass(frozen=True)
class AnalysisChanged:
    analysis: Any


@dataclass(frozen=True)
class SelectionChanged:
    ids: tuple[str, ...]     # nodes of the document (not of a composite's inside)


@dataclass(frozen=True)
class InnerSelectionChanged:
    ids: tuple[str, ...]     # nodes of the inside being looked at


@dataclass(frozen=True)
class FocusRequested:
    node_id: str


@dataclass(frozen=True)
class ScopeChanged:
    scope: Any               # designer.document.scope.Scope


@dataclass(frozen=True)
class PathChanged:
    path: Path | None


@dataclass(frozen=True)
class HistoryChanged:
    index: int


@dataclass(frozen=True)
class ModifiedChanged:
    modified: bool


@dataclass(frozen=True)
class WeightsChanged:
    count: int               # tensors the document now carries (0: none)
    origin: str = ""         # where they came from, in words ("" when not known or none)


DocumentEvent = Union[GraphReplaced, AnalysisStale, AnalysisChanged, SelectionChanged, InnerSelectionChanged,
                      FocusRequested, ScopeChanged, PathChanged, HistoryChanged, ModifiedChanged, WeightsChanged]
