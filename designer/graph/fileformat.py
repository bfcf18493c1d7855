"""The document file: versioned JSON, one node or edge per line so diffs read well.

Loading checks everything and turns any problem into one GraphFileError that
names the place; saving goes to a temporary file first, then renames, so a crash
mid-save leaves the old file whole.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

from .errors import GraphError, GraphFileError
from .model import (DEFAULT_NETWORK, AddNode, CompositeDef, Connect, Edge, Graph, Node, SetComposite, SetMeta,
                    encodable, valid_id, valid_name)
from .params import to_json

FORMAT = "network-designer"
VERSION = 1
MAX_NODES = 20000
# the drawing travels inside exported .pt and .pt2 files (zip archives) under this name: importing
# one gives the document back; designer.compile.export writes it
EMBEDDED_DRAWING = "network-designer.json"


# ---- writing ------------------------------------------------------------------------------------

def _node_dict(n: Node) -> dict:
    d = {"id": n.id, "type": n.type}
    if n.label:
        d["label"] = n.label
    if n.network != DEFAULT_NETWORK:
        d["network"] = n.network
    if not n.trainable:
        d["trainable"] = False
    d["pos"] = [round(n.pos[0], 2), round(n.pos[1], 2)]
    d["params"] = {k: to_json(v) for k, v in n.params.items()}
    return d


def _edge_list(e: Edge) -> list:
    return [f"{e.src}.{e.src_port}", f"{e.dst}.{e.dst_port}"]


def _graph_body(g: Graph) -> dict:
    return {"nodes": [_node_dict(n) for n in g.nodes.values()], "edges": [_edge_list(e) for e in g.edges]}


def to_dict(g: Graph) -> dict:
    d = {"format": FORMAT, "version": VERSION}
    if g.meta:
        d["meta"] = g.meta
    d.update(_graph_body(g))
    if g.composites:
        d["composites"] = {name: dict(_graph_body(c.graph), doc=c.doc) for name, c in g.composites.items()}
    return d


def _compact(v) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def _dump_body(body: dict, indent: str) -> list[str]:
    lines = []
    for key in ("nodes", "edges"):
        items = body[key]
        inner = f",\n{indent}  ".join(_compact(i) for i in items)
        lines.append(f'{indent}"{key}": [\n{indent}  {inner}\n{indent}]' if items else f'{indent}"{key}": []')
    return lines


def dumps(g: Graph) -> str:
    d = to_dict(g)
    parts = [f'  "format": "{FORMAT}"', f'  "version": {VERSION}']
    if "meta" in d:
        meta = json.dumps(d["meta"], ensure_ascii=False, indent=2, sort_keys=True).replace("\n", "\n  ")
        parts.append(f'  "meta": {meta}')
    parts += _dump_body(d, "  ")
    if "composites" in d:
        comps = []
        for name, body in d["composites"].items():
            inner = [f'      "doc": {_compact(body["doc"])}'] + _dump_body(body, "      ")
            comps.append(f'    {_compact(name)}: {{\n' + ",\n".join(inner) + "\n    }")
        parts.append('  "composites": {\n' + ",\n".join(comps) + "\n  }")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def save(g: Graph, path) -> None:
    """Atomic: write beside the target, flush to disk, then rename over it; a failure
    leaves the old file whole and no temporary file behind. A file-system problem
    becomes a GraphFileError that names the file."""
    from designer.atomic import WriteFailed, atomic_path
    path = Path(path)
    data = dumps(g).encode("utf-8")
    try:
        with atomic_path(path, size_hint=len(data)) as tmp:
            tmp.write_bytes(data)
    except WriteFailed as exc:   # a full or read-only disk: its sentence names the file and what is kept
        raise GraphFileError(str(exc)) from None
    except OSError as exc:
        raise GraphFileError(f"{path}: cannot write ({exc.strerror or exc})") from None


# ---- reading ------------------------------------------------------------------------------------

def _expect(cond: bool, where: str, msg: str):
    if not cond:
        raise GraphFileError(f"{where}: {msg}")


def _parse_port(ref, where: str) -> tuple[str, str]:
    _expect(isinstance(ref, str) and ref.count(".") == 1, where, "must read 'node.port'")
    a, b = ref.split(".")
    return a, b


def _load_body(g: Graph, body: dict, where: str):
    _expect(isinstance(body, dict), where, "must be an object")
    nodes = body.get("nodes")
    _expect(isinstance(nodes, list), where, "'nodes' must be a list")
    _expect(len(nodes) <= MAX_NODES, where, f"more than {MAX_NODES} nodes")
    for i, nd in enumerate(nodes):
        at = f"{where}nodes[{i}]"
        _expect(isinstance(nd, dict), at, "must be an object")
        unknown = set(nd) - {"id", "type", "label", "network", "trainable", "pos", "params"}
        if unknown:
            raise GraphFileError(f"{at}: unknown key {sorted(map(str, unknown))[0]!r}")
        nid, typ = nd.get("id"), nd.get("type")
        _expect(isinstance(nid, str), at, "'id' must be text")
        _expect(isinstance(typ, str), at, "'type' must be text")
        at = f"{where}nodes[{i}] ({nid})"
        label, network = nd.get("label", ""), nd.get("network", DEFAULT_NETWORK)
        _expect(isinstance(label, str) and len(label) <= 200, at, "'label' must be text")
        _expect(isinstance(network, str) and 0 < len(network) <= 64, at, "'network' must be a name")
        trainable = nd.get("trainable", True)
        _expect(isinstance(trainable, bool), at, "'trainable' must be true or false")
        pos = nd.get("pos", [0, 0])
        _expect(isinstance(pos, list) and len(pos) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e9 for v in pos),
            at, "'pos' must be [x, y]")
        params = nd.get("params", {})
        _expect(isinstance(params, dict), at, "'params' must be an object")
        try:
            g.apply(AddNode(Node(nid, typ, dict(params), label, (float(pos[0]), float(pos[1])), network, trainable)))
        except GraphError as exc:
            raise GraphFileError(f"{at}: {exc}") from None
    edges = body.get("edges", [])
    _expect(isinstance(edges, list), where, "'edges' must be a list")
    for i, ed in enumerate(edges):
        at = f"{where}edges[{i}]"
        _expect(isinstance(ed, list) and len(ed) == 2, at, "must be ['node.port', 'node.port']")
        src, sp = _parse_port(ed[0], at)
        dst, dp = _parse_port(ed[1], at)
        try:
            g.apply(Connect(Edge(src, sp, dst, dp)))
        except GraphError as exc:
            raise GraphFileError(f"{at}: {exc}") from None


def from_dict(d) -> Graph:
    _expect(isinstance(d, dict), "file", "must hold a JSON object")
    _expect(d.get("format") == FORMAT, "file", f"is not a {FORMAT} document ('format' is {d.get('format')!r})")
    version = d.get("version")
    _expect(isinstance(version, int) and not isinstance(version, bool), "version", "must be a number")
    _expect(version <= VERSION, "version",
            f"the file was written by a newer Network Designer (format {version}); this one reads up to {VERSION}")
    unknown = set(d) - {"format", "version", "meta", "nodes", "edges", "composites"}
    _expect(not unknown, "file", f"unknown key {min(map(str, unknown), default='')!r}")
    g = Graph()
    meta = d.get("meta", {})
    _expect(isinstance(meta, dict), "meta", "must be an object")
    for key, value in meta.items():
        try:
            g.apply(SetMeta(key, value))
        except GraphError as exc:
            raise GraphFileError(f"meta.{key}: {exc}") from None
    comps = d.get("composites", {})
    _expect(isinstance(comps, dict), "composites", "must be an object")
    for name, body in comps.items():
        where = f"composites.{name}"
        _expect(valid_name(name), where, "a block name is a letter or _, then letters, digits or _")
        _expect(isinstance(body, dict), where, "must be an object")
        doc = body.get("doc", "")
        _expect(isinstance(doc, str) and len(doc) <= 10000 and encodable(doc), where, "'doc' must be text")
        unknown = set(body) - {"doc", "nodes", "edges"}
        _expect(not unknown, where, f"unknown key {min(map(str, unknown), default='')!r}")
        inner_nodes = body.get("nodes") if isinstance(body.get("nodes"), list) else []
        _expect(not any(isinstance(n, dict) and isinstance(n.get("type"), str) and n["type"] in comps
                        for n in inner_nodes),
                where, "a composite may not contain itself or another composite of yours")
        inside = Graph()
        _load_body(inside, body, where + ".")
        try:
            g.apply(SetComposite(name, CompositeDef(name, inside, doc)))
        except GraphError as exc:
            raise GraphFileError(f"{where}: {exc}") from None
    _load_body(g, d, "")
    return g


def loads(text: str) -> Graph:
    if not isinstance(text, str):
        raise GraphFileError("file: not text")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphFileError(f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise GraphFileError("file: not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. a number with more digits than Python converts
        raise GraphFileError(f"file: not valid JSON ({exc})") from None
    try:
        return from_dict(d)
    except GraphFileError:
        raise
    except RecursionError:
        raise GraphFileError("file: nested too deeply") from None


def load(path) -> Graph:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GraphFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GraphFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return loads(text)
    except GraphFileError as exc:
        raise GraphFileError(f"{path.name}: {exc}") from None


def carries_drawing(path) -> bool:
    """Whether an exported .pt or .pt2 holds the drawing Network Designer puts in (read from the
    archive's list of files, without torch); False for anything else, a damaged file included."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("/extra/" + EMBEDDED_DRAWING) for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
