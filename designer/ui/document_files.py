"""What the window decides about document files, without widgets: which document a
source opens as (presets and weights files are templates, laid out afresh for the
canvas), where a document is saved or exported to, the recent-files list, and the
one-line message for a file that cannot be opened. MainWindow asks the person
(file dialogs, questions) and shows the answers; the decisions are here.

Nothing here imports Qt or torch.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from designer.document import WEIGHTS_SUFFIXES, Document, open_document
from designer.graph.errors import GraphError
from designer.graph.layout import layout_ops, needs_layout
from designer.graph.model import Graph

MAX_RECENT = 10
TEMPLATE_ASPECT = 1.5   # the canvas of the default window, width / height
DOCUMENT_FILTER = "Network documents (*.json);;Weights with their drawing (*.pth *.pt);;All files (*)"
SAVE_FILTER = "Network documents (*.json)"
OPENABLE_SUFFIXES = (".json", *WEIGHTS_SUFFIXES)
def is_openable(file_name: str) -> bool:
    """Whether a dropped file is one the window opens."""
    return file_name.lower().endswith(OPENABLE_SUFFIXES)


def load_document(source) -> Document:
    """The document of a file or a preset name. Its path is None for templates (presets,
    weights files): saving asks where; their drawing is laid out afresh when it would not
    read well on this canvas. Raises whatever reading the file raises."""
    document = open_document(source)
    if document.path is None:
        tidy(document.graph)
    return document


def tidy(graph: Graph) -> None:
    """Lay out a template (a preset, a graph from a weights file) afresh for this canvas
    when its drawing would not read well here (see designer.graph.layout.needs_layout)."""
    for g in [graph] + [d.graph for d in graph.composites.values()]:
        if needs_layout(g, TEMPLATE_ASPECT):
            for op in layout_ops(g, aspect=TEMPLATE_ASPECT):
                g.apply(op)


def opened_message(document: Document, source) -> str:
    """The status-bar line once a document is open."""
    what = document.meta.get("title") or (document.path.name if document.path else str(source))
    return f"Opened {what}"


def problem_text(source, exc: BaseException) -> str:
    """One message for a file that could not be opened; the model's own errors are written
    for people already, anything else is named by its kind."""
    text = str(exc) if isinstance(exc, (GraphError, OSError, ValueError)) else \
        f"unexpected problem ({type(exc).__name__}: {exc})"
    return text if str(source) in text else f"{source}: {text}"


def file_stem(title: str) -> str:
    """A file name stem made of a document's title."""
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in title).strip("_")
    return stem.lower() or "network"


def save_suggestion(path: Path | None, title: str, home: Path) -> Path:
    """Where Save As proposes to write: the document's own file, else its title in `home`."""
    return path if path is not None else home / (file_stem(title) + ".json")


def save_target(chosen: str | Path) -> Path:
    """The file Save As writes for the name the person chose: always a .json."""
    path = Path(chosen)
    if path.suffix.lower() == ".json":
        return path
    return path.with_suffix(path.suffix + ".json") if path.suffix else path.with_suffix(".json")


def export_base(path: Path | None, title: str, home: Path) -> Path:
    """The path (without suffix) an export proposes: beside the document, else in `home`."""
    return path.parent / path.stem if path is not None else home / file_stem(title)


def export_target(chosen: str | Path, suffix: str) -> Path:
    """The file an export writes for the name the person chose: with the format's suffix."""
    path = Path(chosen)
    return path if path.suffix.lower() == suffix else path.with_name(path.name + suffix)


def recent_list(stored, exists: Callable[[str], bool] = lambda f: Path(f).is_file()) -> list[str]:
    """The recent files as stored in the settings (a string when only one was saved, a list,
    or nothing), newest first, without those that are gone, at most MAX_RECENT."""
    files = [stored] if isinstance(stored, str) else list(stored or [])
    return [f for f in files if exists(f)][:MAX_RECENT]


def with_recent(files: Iterable[str], path) -> list[str]:
    """The recent files once `path` was opened or saved: it first, once, at most MAX_RECENT."""
    path = str(Path(path).resolve())
    return ([path] + [f for f in files if f != path])[:MAX_RECENT]
