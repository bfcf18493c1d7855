"""What an import gives, and what one that cannot go on says: one line per problem, in words."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Imported:
    """What an import gives: the drawing, its weights (a state dict named as the drawing
    compiles) and the notes a person should read (what became a generic block, what the
    evaluation does not use)."""
    graph: object
    weights: dict
    notes: list = field(default_factory=list)


class ImportFailure(Exception):
    """The source cannot be imported; `problems` holds one sentence per node (or one in all)."""

    def __init__(self, problems):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
