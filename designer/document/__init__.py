"""The open document without Qt: graph, weights, selection, scope, undo history and
analysis (see document.py). Sits above designer.compile, below designer.train."""
from .document import WEIGHTS_SUFFIXES, Document, is_weights_file
from .history import MERGE_MOVE, NO_MERGE, History, Step
from .opening import open_document
from .scope import Scope, composite_inside

__all__ = ["Document", "WEIGHTS_SUFFIXES", "is_weights_file", "History", "Step", "MERGE_MOVE", "NO_MERGE",
           "open_document", "Scope", "composite_inside"]
