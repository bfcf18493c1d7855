"""Errors of the compile layer. Each message is written to be shown as it is:
one line (or one line per node error), never a torch traceback."""
from __future__ import annotations

from designer.graph.errors import GraphError


class CompileError(GraphError):
    """The drawing cannot become a module. `errors` holds (node id or None, message)
    pairs taken from the analysis, so a view can put each one on its node."""

    def __init__(self, errors: list[tuple[str | None, str]] | str):
        if isinstance(errors, str):
            errors = [(None, errors)]
        self.errors = list(errors)
        lines = [f"{node}: {msg}" if node else msg for node, msg in self.errors]
        if len(lines) == 1:
            text = f"cannot compile: {lines[0]}"
        else:
            text = f"cannot compile: {len(lines)} errors\n" + "\n".join(f"  {line}" for line in lines)
        super().__init__(text)


class WeightsFileError(GraphError):
    """A weights or checkpoint file that cannot be read, or does not fit."""


class UnsafeFileError(WeightsFileError):
    """A .pt file holding Python objects that would run code when unpickled."""


class ExportError(GraphError):
    """An export that cannot be written (unknown format, missing extra, no weights…)."""


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """What a caught exception says, cut to one line (and to `limit` characters), for
    the one-line messages above; its type's name when it says nothing."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__
