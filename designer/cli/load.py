"""Loading a document for a command: one line and exit 2 when it cannot be read."""
from __future__ import annotations

import sys

from designer.graph.errors import GraphError


class Unreadable(SystemExit):
    pass


def load_or_exit(source):
    from designer import load_graph
    try:
        return load_graph(source)
    except GraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise Unreadable(2) from None


def parse_shape(text: str | None):
    if not text:
        return None
    try:
        shape = tuple(int(v) for v in text.replace("x", ",").replace("×", ",").split(","))
    except ValueError:
        print(f"error: --input must read like 3,224,224, not {text!r}", file=sys.stderr)
        raise Unreadable(2) from None
    if not shape or any(v <= 0 for v in shape):
        print(f"error: --input sizes must be positive, not {text!r}", file=sys.stderr)
        raise Unreadable(2)
    return shape
