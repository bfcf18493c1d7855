"""The personal block library: a person's own composites, kept across documents in
one JSON file in the data folder ({"blocks": {name: document}}), each block's
inside stored in the regular file format."""
from __future__ import annotations

import json
from pathlib import Path

from designer.atomic import atomic_path
from designer.graph.errors import GraphError
from designer.graph.fileformat import from_dict, to_dict
from designer.graph.model import CompositeDef

from .settings import data_dir

LIBRARY_FILE = "blocks.json"


class BlockLibrary:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else data_dir() / LIBRARY_FILE
        self.blocks: dict[str, CompositeDef] = {}
        self.problem = ""   # why the file could not be read, for the status bar
        self.load()

    def load(self):
        self.blocks, self.problem = {}, ""
        if not self.path.is_file():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            for name, body in dict(data.get("blocks", {})).items():
                self.blocks[name] = CompositeDef(name, from_dict(body["graph"]), str(body.get("doc", "")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, GraphError) as exc:
            self.problem = f"Your block library {self.path} could not be read ({exc}); it is left as it is."

    def names(self) -> list[str]:
        return sorted(self.blocks)

    def get(self, name: str) -> CompositeDef:
        definition = self.blocks[name]
        return CompositeDef(name, definition.graph.copy(), definition.doc)

    def put(self, definition: CompositeDef):
        """Add or replace a block and write the file (atomically); when the file cannot be
        written (designer.atomic.WriteFailed) the library stays as it was."""
        if self.problem:
            raise GraphError(self.problem)
        before = dict(self.blocks)
        self.blocks[definition.name] = CompositeDef(definition.name, definition.graph.copy(), definition.doc)
        self._write_or_undo(before)

    def remove(self, name: str):
        if self.problem:
            raise GraphError(self.problem)
        before = dict(self.blocks)
        self.blocks.pop(name, None)
        self._write_or_undo(before)

    def _write_or_undo(self, before: dict):
        try:
            self._write()
        except OSError:
            self.blocks = before
            raise

    def _write(self):
        data = {"blocks": {name: {"doc": d.doc, "graph": to_dict(d.graph)} for name, d in self.blocks.items()}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
