"""The open document without Qt: graph, weights, selection, scope, undo history and
analysis (see document.py). Sits above designer.compile, below designer.train."""
from .document import Document
from .history import MERGE_MOVE, NO_MERGE, History, Step
from .opening import open_document
from .scope import Scope, composite_inside

__all__ = ["Document", "History", "Step", "MERGE_MOVE", "NO_MERGE", "open_document", "Scope", "composite_inside"]
