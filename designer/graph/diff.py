"""What changed between two networks: added, removed and changed blocks, with the
parameters and multiply-adds each change costs or saves. Qt-free and torch-free: it reads
the two graphs and their analyses (`designer diff`, the window's Compare With…, and the
runs comparison all show this one result).

Matching. Blocks are paired level by level, in the order the data flows (topological,
document order breaking ties). The two orders are aligned as a diff aligns lines: a pair
must be of the same type (two composites may pair across types), and among the alignments
with the most pairs the one that keeps the most ids, then parameters, then input shapes
wins. So blocks keep their pairing when their ids match, and still pair by their place in
the data flow when a renumbering moved every id (torchvision's `features.16` is VGG-16's
pool but VGG-19's conv). Blocks left over on both sides with the same id and type pair
last (a block moved elsewhere in the flow).

Composites are compared inside too, copy by copy of `repeat`; their blocks are named by
path: `layer2/downsample`, and `layer3/#2/conv1` when a side repeats the block. A copy
one side lacks is one added or removed entry, `layer3/#6`.

A pair is listed as changed when its parameters, its label, network or trainable flag,
its wiring among paired blocks, its output shape, its parameter count or its
multiply-adds differ, or something inside it changed. A new id alone is not a change.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import GraphError
from .format import count, shape as fmt_shape
from .model import Graph, Node
from .order import graph_order

# alignment scores: a pair always outweighs every tie-break together
_PAIR, _SAME_ID, _SAME_TYPE, _SAME_PARAMS, _SAME_INPUTS, _SAME_NETWORK = 1000, 40, 20, 8, 4, 2
_MAX_CELLS = 4_000_000   # beyond this a level is matched by id and type only (a quadratic table)
_FIELDS = ("label", "network", "trainable")
_DEPTH = 8               # composites inside composites: as deep as the summary table reads


class _Deltas:
    """The parameters and multiply-adds a change adds (negative: saves)."""
    old_params: int
    new_params: int
    old_macs: int
    new_macs: int

    @property
    def params_delta(self) -> int:
        return self.new_params - self.old_params

    @property
    def macs_delta(self) -> int:
        return self.new_macs - self.old_macs


@dataclass
class NodeChange(_Deltas):
    """One entry of a diff. `id` is the path in the new network (the old one for a removed
    block); `old_id` the path in the old network when the block was paired under another id."""
    id: str
    type: str
    status: str                      # "added" | "removed" | "changed"
    old_id: str = ""
    old_type: str = ""
    params: dict = field(default_factory=dict)        # name -> (old, new)
    fields: dict = field(default_factory=dict)        # label / network / trainable -> (old, new)
    inputs: tuple | None = None      # (old sources, new sources) when rewired among paired blocks
    output_shape: tuple | None = None  # (old, new) when it differs
    old_params: int = 0
    new_params: int = 0
    old_macs: int = 0
    new_macs: int = 0
    inside: int = 0                  # composites: how many entries below it changed

    @property
    def top(self) -> str:
        """The block of the top level this entry lies in (the card a click selects)."""
        return self.id.split("/", 1)[0]

    @property
    def old_path(self) -> str:
        """Its path in the old network."""
        return self.old_id or self.id

    @property
    def old_top(self) -> str:
        return self.old_path.split("/", 1)[0]

    def describe(self) -> str:
        """What changed, in words: `out_channels 6 → 8; output 6×28×28 → 8×28×28`."""
        if self.status != "changed":
            return ""
        parts = []
        if self.old_type and self.old_type != self.type:
            parts.append(f"type {self.old_type} → {self.type}")
        parts += [f"{name} {_value(a)} → {_value(b)}" for name, (a, b) in self.params.items()]
        parts += [f"{name} {_value(a)} → {_value(b)}" for name, (a, b) in self.fields.items()]
        if self.inputs:
            parts.append(f"inputs {', '.join(self.inputs[0]) or '—'} → {', '.join(self.inputs[1]) or '—'}")
        if self.output_shape:
            parts.append(f"output {fmt_shape(self.output_shape[0])} → {fmt_shape(self.output_shape[1])}")
        if self.params_delta and not parts:
            parts.append(f"parameters {count(self.old_params)} → {count(self.new_params)}")
        if self.inside:
            parts.append(f"{self.inside} change{'s' if self.inside != 1 else ''} inside")
        if self.old_id and self.old_id != self.id:
            parts.append(f"was {self.old_id}")
        return "; ".join(parts)

    def as_dict(self) -> dict:
        data = {"id": self.id, "type": self.type}
        if self.status == "changed":
            data["params"] = {k: [_plain(a), _plain(b)] for k, (a, b) in self.params.items()}
            data["output_shape"] = [_shape(s) for s in self.output_shape] if self.output_shape else None
            if self.old_id and self.old_id != self.id:
                data["old_id"] = self.old_id
            if self.old_type and self.old_type != self.type:
                data["old_type"] = self.old_type
            if self.fields:
                data["fields"] = {k: [a, b] for k, (a, b) in self.fields.items()}
            if self.inputs:
                data["inputs"] = [list(self.inputs[0]), list(self.inputs[1])]
            if self.inside:
                data["inside"] = self.inside
        data["params_delta"] = self.params_delta
        data["macs_delta"] = self.macs_delta
        return data


@dataclass
class GraphDiff(_Deltas):
    added: list[NodeChange] = field(default_factory=list)
    removed: list[NodeChange] = field(default_factory=list)
    changed: list[NodeChange] = field(default_factory=list)
    old_params: int = 0
    new_params: int = 0
    old_macs: int = 0
    new_macs: int = 0

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed) and not self.params_delta and not self.macs_delta

    def entries(self) -> list[NodeChange]:
        """Every entry, in the order a table shows them: removed, added, changed."""
        return self.removed + self.added + self.changed

    def status_of(self, node_id: str, side: str = "new", level: str = "") -> str:
        """"added", "removed", "changed" or "" for a block of one side ("new": the added and
        changed cards; "old": the removed and changed ones) at `level`: "" the top level, else
        the path of a composite's inside with a trailing "/" (`features/`, `layer3/#2/`)."""
        whole, own = (self.added, "added") if side == "new" else (self.removed, "removed")
        if any(c.id == level + node_id for c in whole):
            return own
        paths = [c.id for c in self.changed + self.added] if side == "new" else \
            [c.old_path for c in self.changed + self.removed]
        return "changed" if any(p.startswith(level) and p[len(level):].split("/", 1)[0] == node_id
                                for p in paths) else ""

    def as_dict(self) -> dict:
        return {"added": [c.as_dict() for c in self.added], "removed": [c.as_dict() for c in self.removed],
                "changed": [c.as_dict() for c in self.changed],
                "params_delta": self.params_delta, "macs_delta": self.macs_delta,
                "old_params": self.old_params, "new_params": self.new_params,
                "old_macs": self.old_macs, "new_macs": self.new_macs}


def diff_graphs(old: Graph, new: Graph, input_shape=None) -> GraphDiff:
    """What changed from `old` to `new` (both analysed with `input_shape`, if given)."""
    a_old, a_new = old.analyze(input_shape), new.analyze(input_shape)
    result = GraphDiff(old_params=a_old.total_params, new_params=a_new.total_params,
                       old_macs=a_old.macs, new_macs=a_new.macs)
    _diff_level(_Side(old, a_old, ""), _Side(new, a_new, ""), result, 0)
    return result


# ---- one level ----------------------------------------------------------------------------------

@dataclass
class _Side:
    graph: Graph
    analysis: object
    prefix: str

    def order(self) -> list[str]:
        order, stuck = graph_order(self.graph, ties="document")
        return order + [i for i in self.graph.nodes if i in stuck]

    def info(self, node_id: str):
        return self.analysis.nodes.get(node_id) if self.analysis is not None else None

    def spec(self, node: Node):
        try:
            return self.graph.spec(node)
        except GraphError:
            return None

    def feeds(self, node_id: str) -> list[tuple[str, str, str]]:
        return sorted((e.dst_port, e.src, e.src_port) for e in self.graph.edges_into(node_id))


def _diff_level(old: _Side, new: _Side, out: GraphDiff, depth: int) -> None:
    """Pair the blocks of one level and record their entries in `out`."""
    seq_old, seq_new = old.order(), new.order()
    pairs = _align(old, new, seq_old, seq_new)
    back = {n: o for o, n in pairs.items()}
    for o in seq_old:
        if o not in pairs:
            out.removed.append(_whole(old, o, "removed"))
    for n in seq_new:
        if n not in back:
            out.added.append(_whole(new, n, "added"))
        else:
            _compare(old, back[n], new, n, pairs, back, out, depth)


def _whole(side: _Side, node_id: str, status: str) -> NodeChange:
    node, info = side.graph.nodes[node_id], side.info(node_id)
    params, macs = (info.params, info.macs) if info is not None else (0, 0)
    change = NodeChange(side.prefix + node_id, node.type, status)
    if status == "added":
        change.new_params, change.new_macs = params, macs
    else:
        change.old_params, change.old_macs = params, macs
    return change


def _compare(old: _Side, o: str, new: _Side, n: str, pairs: dict, back: dict, out: GraphDiff, depth: int):
    """Record the pair's entry when it differs (a composite's before those inside it)."""
    no, nn = old.graph.nodes[o], new.graph.nodes[n]
    io, inew = old.info(o), new.info(n)
    change = NodeChange(new.prefix + n, nn.type, "changed",
                        old_id=old.prefix + o if old.prefix + o != new.prefix + n else "",
                        old_type=no.type if no.type != nn.type else "")
    spec_o, spec_n = old.spec(no), new.spec(nn)
    names = list(dict.fromkeys(list(no.params) + list(nn.params)))
    for name in names:
        a, b = _param(no, spec_o, name), _param(nn, spec_n, name)
        if not _same(a, b):
            change.params[name] = (a, b)
    for name in _FIELDS:
        a, b = getattr(no, name), getattr(nn, name)
        if a != b:
            change.fields[name] = (a, b)
    # wiring: only between paired blocks (a block added in between rewires its neighbours by itself)
    was = [(port, pairs[src], sp) for port, src, sp in old.feeds(o) if src in pairs]
    now = [(port, src, sp) for port, src, sp in new.feeds(n) if src in back]
    if sorted(was) != sorted(now) and len(was) == len(old.feeds(o)) and len(now) == len(new.feeds(n)):
        change.inputs = (tuple(old.prefix + back[s] for _, s, _ in was),
                         tuple(new.prefix + s for _, s, _ in now))
    if io is not None:
        change.old_params, change.old_macs = io.params, io.macs
    if inew is not None:
        change.new_params, change.new_macs = inew.params, inew.macs
    so = io.output_shape if io is not None and io.ok else None
    sn = inew.output_shape if inew is not None and inew.ok else None
    if so != sn:
        change.output_shape = (so, sn)
    if spec_o is not None and spec_n is not None and spec_o.is_composite and spec_n.is_composite \
            and depth < _DEPTH and io is not None and inew is not None:
        at = len(out.changed)
        before = len(out.added) + len(out.removed) + len(out.changed)
        _diff_inside(old, no, spec_o, io, new, nn, spec_n, inew, out, depth)
        change.inside = len(out.added) + len(out.removed) + len(out.changed) - before
    else:
        at = len(out.changed)
    if change.params or change.fields or change.inputs or change.output_shape or change.inside \
            or change.old_type or change.params_delta or change.macs_delta:
        out.changed.insert(at, change)


def _diff_inside(old: _Side, no: Node, spec_o, io, new: _Side, nn: Node, spec_n, inew, out: GraphDiff, depth: int):
    """Compare two composites copy by copy; a copy one side lacks is one entry."""
    copies_o, copies_n = list(io.inner or ()), list(inew.inner or ())
    numbered = len(copies_o) > 1 or len(copies_n) > 1
    for k in range(max(len(copies_o), len(copies_n))):
        tail = f"#{k + 1}/" if numbered else ""
        po, pn = f"{old.prefix}{no.id}/{tail}", f"{new.prefix}{nn.id}/{tail}"
        if k >= len(copies_n):
            a = copies_o[k]
            out.removed.append(NodeChange(po.rstrip("/"), no.type, "removed",
                                          old_params=a.total_params, old_macs=a.macs))
            continue
        if k >= len(copies_o):
            a = copies_n[k]
            out.added.append(NodeChange(pn.rstrip("/"), nn.type, "added",
                                        new_params=a.total_params, new_macs=a.macs))
            continue
        inside_o = _expand(spec_o, no, copies_o[k])
        inside_n = _expand(spec_n, nn, copies_n[k])
        if inside_o is None or inside_n is None:
            continue
        _diff_level(_Side(inside_o, copies_o[k], po), _Side(inside_n, copies_n[k], pn), out, depth + 1)


def inside_at(graph: Graph, level: str, input_shape=None):
    """(graph, analysis) of the composite inside a level names (`features/`, `layer3/#2/`, as
    the entries' paths do), "" the network itself; None when the network has no such inside."""
    g, a = graph, graph.analyze(input_shape)
    parts = [p for p in level.split("/") if p]
    i = 0
    while i < len(parts):
        node, info = g.nodes.get(parts[i]), a.nodes.get(parts[i])
        if node is None or info is None or not info.inner:
            return None
        k = 0
        if i + 1 < len(parts) and parts[i + 1].startswith("#"):
            i += 1
            k = int(parts[i][1:]) - 1 if parts[i][1:].isdigit() else -1
        if not 0 <= k < len(info.inner):
            return None
        try:
            spec = g.spec(node)
        except GraphError:
            return None
        inside = _expand(spec, node, info.inner[k])
        if inside is None:
            return None
        g, a = inside, info.inner[k]
        i += 1
    return g, a


def level_of(path: str) -> str:
    """The level a path lies at: `features/` for `features/16`, "" for a top-level block."""
    return path.rsplit("/", 1)[0] + "/" if "/" in path else ""


def _expand(spec, node: Node, analysis) -> Graph | None:
    """The graph inside one copy of a composite, as that copy saw its inputs."""
    try:
        return spec.expand(node.params, dict(analysis.input_shapes))
    except (GraphError, KeyError, TypeError, ValueError):
        return None


# ---- the alignment ------------------------------------------------------------------------------

def _align(old: _Side, new: _Side, seq_old: list[str], seq_new: list[str]) -> dict[str, str]:
    """old id -> new id for the paired blocks of one level (see the module's docstring)."""
    go, gn = old.graph.nodes, new.graph.nodes
    pairs: dict[str, str] = {}
    # the same block at both ends (the usual case: a change in the middle) needs no table
    lo = 0
    while lo < min(len(seq_old), len(seq_new)) and seq_old[lo] == seq_new[lo] \
            and go[seq_old[lo]].type == gn[seq_new[lo]].type:
        pairs[seq_old[lo]] = seq_new[lo]
        lo += 1
    hi_o, hi_n = len(seq_old), len(seq_new)
    while hi_o > lo and hi_n > lo and seq_old[hi_o - 1] == seq_new[hi_n - 1] \
            and go[seq_old[hi_o - 1]].type == gn[seq_new[hi_n - 1]].type:
        hi_o, hi_n = hi_o - 1, hi_n - 1
        pairs[seq_old[hi_o]] = seq_new[hi_n]
    mid_o, mid_n = seq_old[lo:hi_o], seq_new[lo:hi_n]
    if mid_o and mid_n:
        if len(mid_o) * len(mid_n) > _MAX_CELLS:
            pairs.update(_by_id(old, new, mid_o, mid_n))
        else:
            pairs.update(_table(old, new, mid_o, mid_n))
    # two blocks that swapped places keep their ids (the table pairs each with the other's place)
    for o, n in list(pairs.items()):
        if o != n and pairs.get(n) == o and go[o].type == gn.get(o, go[o]).type and o in gn:
            pairs[o], pairs[n] = o, n
    # left over on both sides with the same id and type: a block moved in the flow
    taken = set(pairs.values())
    for o in mid_o:
        if o not in pairs and o in gn and o not in taken and go[o].type == gn[o].type:
            pairs[o] = o
            taken.add(o)
    return pairs


def _by_id(old: _Side, new: _Side, mid_o: list[str], mid_n: list[str]) -> dict[str, str]:
    gn = new.graph.nodes
    wanted = set(mid_n)
    return {o: o for o in mid_o if o in wanted and old.graph.nodes[o].type == gn[o].type}


def _table(old: _Side, new: _Side, mid_o: list[str], mid_n: list[str]) -> dict[str, str]:
    """The best monotone pairing of two orders (a longest-common-subsequence table with scores)."""
    go, gn = old.graph.nodes, new.graph.nodes
    kinds_o = [_kind(old, go[i]) for i in mid_o]
    kinds_n = [_kind(new, gn[j]) for j in mid_n]
    sig_o = [_signature(old, go[i]) for i in mid_o]
    sig_n = [_signature(new, gn[j]) for j in mid_n]
    rows, cols = len(mid_o), len(mid_n)
    score = [[0] * (cols + 1) for _ in range(rows + 1)]
    for r in range(1, rows + 1):
        prev, here = score[r - 1], score[r]
        ko, so, io_ = kinds_o[r - 1], sig_o[r - 1], mid_o[r - 1]
        for c in range(1, cols + 1):
            best = prev[c] if prev[c] >= here[c - 1] else here[c - 1]
            kn = kinds_n[c - 1]
            if ko[1] == kn[1] and (ko[0] == kn[0] or ko[1] == "composite"):
                sn = sig_n[c - 1]
                s = _PAIR + (_SAME_TYPE if ko[0] == kn[0] else 0) + (_SAME_ID if io_ == mid_n[c - 1] else 0) \
                    + (_SAME_PARAMS if so[0] == sn[0] else 0) + (_SAME_INPUTS if so[1] == sn[1] else 0) \
                    + (_SAME_NETWORK if so[2] == sn[2] else 0)
                if prev[c - 1] + s > best:
                    best = prev[c - 1] + s
            here[c] = best
    pairs: dict[str, str] = {}
    r, c = rows, cols
    while r and c:
        if score[r][c] == score[r - 1][c]:
            r -= 1
        elif score[r][c] == score[r][c - 1]:
            c -= 1
        else:
            pairs[mid_o[r - 1]] = mid_n[c - 1]
            r, c = r - 1, c - 1
    return pairs


def _kind(side: _Side, node: Node) -> tuple[str, str]:
    """(type, class): two blocks may pair when their types are equal, or both are composites."""
    spec = side.spec(node)
    return node.type, "composite" if spec is not None and spec.is_composite else "block"


def _signature(side: _Side, node: Node) -> tuple:
    info = side.info(node.id)
    ins = tuple(sorted((k, tuple(v) if v else None) for k, v in info.in_shapes.items())) if info else ()
    return repr(sorted(node.params.items())), ins, node.network


# ---- values -------------------------------------------------------------------------------------

def _param(node: Node, spec, name: str):
    if name in node.params:
        return node.params[name]
    if spec is not None:
        try:
            return spec.param(name).default
        except (GraphError, KeyError):
            return None
    return None


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b or (_plain(a) == _plain(b) and not isinstance(a, bool)
                                             and not isinstance(b, bool))


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _shape(s):
    return list(s) if s is not None else None


def _value(v) -> str:
    if isinstance(v, (tuple, list)):
        return "×".join(str(x) for x in v)
    return str(v)


# ---- for a terminal -----------------------------------------------------------------------------

_MARK = {"added": "+", "removed": "-", "changed": "~"}


def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def as_rows(d: GraphDiff) -> list[tuple[str, str, str, str, str, str]]:
    """One row per entry: status, id, type, parameters Δ, multiply-adds Δ, what changed."""
    return [(c.status, c.id, c.type if c.status != "changed" or not c.old_type else f"{c.old_type} → {c.type}",
             signed(c.params_delta), signed(c.macs_delta), c.describe()) for c in d.entries()]


def as_text(d: GraphDiff, old_name: str = "old", new_name: str = "new") -> str:
    """The diff as a table with the totals beneath (`designer diff`)."""
    head = (f"{old_name} → {new_name}: {len(d.added)} added, {len(d.removed)} removed, "
            f"{len(d.changed)} changed")
    lines = [head if not d.same else f"{old_name} → {new_name}: nothing changed"]
    rows = [(_MARK[s], i, t, p, m, what) for s, i, t, p, m, what in as_rows(d)]
    if rows:
        header = ("", "block", "type", "params Δ", "mult-adds Δ", "")
        widths = [max(len(r[k]) for r in rows + [header]) for k in range(5)]

        def fmt(r):
            return "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                              r[3].rjust(widths[3]), r[4].rjust(widths[4]), r[5]]).rstrip()
        rule = "─" * (sum(widths) + 10)
        lines += [rule, fmt(header), rule] + [fmt(r) for r in rows] + [rule]
    lines.append(f"Parameters:  {count(d.old_params)} → {count(d.new_params)} ({signed(d.params_delta)})")
    lines.append(f"Mult-adds:   {count(d.old_macs)} → {count(d.new_macs)} ({signed(d.macs_delta)})")
    return "\n".join(lines)
