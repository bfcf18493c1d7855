"""The summary of an analysed document, without Qt: a torchinfo-like table of every block
and the totals beneath it. `designer summary` prints it (`as_dict`, `as_table`); the
window's summary panel shows the same rows and totals (`build_rows`, `totals`).

Rows come in reading order (designer.graph.order's "depth" rule: each branch read to its
end, as torchvision's googlenet.py reads an Inception module); composite blocks carry
their insides as child rows, and a document with several networks (a GAN) groups its
blocks under one heading per network. The printed table and its JSON list the top-level
blocks in the analysis' order.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import GraphError
from .format import count, nbytes, shape as fmt_shape
from .order import graph_order

FORMULA_MAX_TERMS = 24   # beyond this the whole-network sum stops being readable


# ---- rows ---------------------------------------------------------------------------------------

@dataclass(eq=False)
class Row:
    key: str                     # stable across refreshes: "c3", "inc3a/branch1", "inc3a/#2/conv1"
    node_id: str                 # the document node a click selects ("" for a network heading)
    cells: tuple = ()            # name, type, output shape, parameters, multiply-adds, share
    sort: tuple = ()             # one sort key per cell
    share: float = 0.0           # of all parameters
    error: str = ""
    warning: str = ""
    blocked: bool = False
    heading: bool = False
    tooltip: str = ""
    parent: "Row | None" = None
    row: int = 0                 # its place among its siblings
    # a composite's inside is worked out when first asked for (`children`): the window's table
    # shows it only once the row is expanded, and most of an imported network stays collapsed
    _kids: "list | None" = field(default=None, repr=False)
    _build: "Callable[[Row], None] | None" = field(default=None, repr=False)

    @property
    def children(self) -> list:
        if self._kids is None:
            self._kids = []
            build, self._build = self._build, None
            if build is not None:
                build(self)
        return self._kids

    @property
    def has_children(self) -> bool:
        """Whether the row has children, without working them out."""
        return self._build is not None or bool(self._kids)

    @property
    def built(self) -> bool:
        """Whether its children have been worked out (always, for a row without an inside)."""
        return self._build is None

    def take_children_from(self, other: "Row") -> None:
        """Have `other`'s children (worked out or not) as its own."""
        self._kids, self._build = other._kids, other._build
        for child in self._kids or ():
            child.parent = self

    def defer_children(self, build: "Callable[[Row], None]") -> None:
        """Work the children out with build(row) when first asked for."""
        self._kids, self._build = None, build

    def values(self) -> tuple:
        return (self.node_id, self.cells, self.sort, self.share, self.error, self.warning, self.blocked,
                self.tooltip)

    def take_values(self, other: "Row") -> bool:
        """Copy `other`'s values; False when they were the same already."""
        if self.values() == other.values():
            return False
        (self.node_id, self.cells, self.sort, self.share, self.error, self.warning, self.blocked,
         self.tooltip) = other.values()
        return True


def percent(share: float) -> str:
    return "<0.1 %" if 0 < share < 0.0005 else f"{share * 100:.1f} %"


def _count_or_dash(n: int) -> str:
    return count(n) if n else "—"


def shape_text(info) -> str:
    """A block's output-shape cell: each output's shape, "error", or "—" when an upstream
    error leaves it unknown."""
    if info.errors:
        return "error"
    if info.blocked:
        return "—"
    shapes = list(info.out_shapes.values()) or [info.output_shape]
    return ", ".join(fmt_shape(s) for s in shapes) if shapes != [None] else "—"


def _node_row(key, node_id, name, type_, info, total, tooltip="") -> Row:
    if info.errors or info.blocked:
        elements = -1
    else:
        shapes = list(info.out_shapes.values()) or [info.output_shape]
        elements = math.prod(shapes[0]) if shapes[0] else 0
    share = info.params / total if total else 0.0
    cells = (name, type_, shape_text(info), _count_or_dash(info.params), _count_or_dash(info.macs),
             percent(share) if info.params else "")
    sort = (name.lower(), type_.lower(), elements, info.params, info.macs, share)  # one per column
    tips = [tooltip] if tooltip else []
    tips += [f"error: {m}" for m in info.errors] + [f"warning: {m}" for m in info.warnings]
    if info.blocked:
        tips.append("waits for an upstream block with an error")
    return Row(key, node_id, cells, sort, share, "; ".join(info.errors), "; ".join(info.warnings),
               info.blocked, tooltip="\n".join(tips))


def reading_order(graph, analysis) -> list[str]:
    """The analysis's nodes in reading order: topological, but depth first, so each branch
    is read to its end before the next starts (Inception reads branch1, its ReLU, then
    branch2_reduce…, as torchvision's googlenet.py does). Nodes on a cycle come last."""
    order, _ = graph_order(graph, ties="depth")
    known = analysis.nodes
    order = [i for i in order if i in known]
    placed = set(order)
    return order + [i for i in analysis.order if i not in placed]


def _inside(graph, node, analysis):
    """The graph inside composite `node` as one copy of it saw its inputs, or None."""
    try:
        spec = graph.spec(node)
        return spec.expand(node.params, dict(analysis.input_shapes)) if spec.is_composite else None
    except (GraphError, KeyError, TypeError, ValueError):
        return None


def _inner_rows(parent: Row, graph, node, inner: list, total: int, depth: int = 0):
    """A composite's inside: its blocks, or one `copy N` heading per repetition."""
    def add(owner: Row, analysis, prefix: str):
        inside = _inside(graph, node, analysis)
        for inner_id in reading_order(inside, analysis) if inside is not None else analysis.order:
            info = analysis.nodes[inner_id]
            if info.type in ("Input", "Output"):
                continue  # the composite's own ports, already shown by its row
            type_ = info.resolved.get("variant", info.type)
            row = _node_row(f"{prefix}/{inner_id}", parent.node_id, inner_id, type_, info, total)
            _attach(owner, row)
            if info.inner and depth < 8 and inside is not None and inner_id in inside.nodes:
                row.defer_children(lambda r, g=inside, n=inside.nodes[inner_id], inner=info.inner:
                                   _inner_rows(r, g, n, inner, total, depth + 1))

    if len(inner) == 1:
        add(parent, inner[0], parent.key)
        return
    for n, analysis in enumerate(inner, 1):
        params = analysis.total_params
        share = params / total if total else 0.0
        copy = Row(f"{parent.key}/#{n}", parent.node_id,
                   (f"copy {n}", "", ", ".join(fmt_shape(v) for v in analysis.output_shapes.values()),
                    _count_or_dash(params), _count_or_dash(analysis.macs), percent(share) if params else ""),
                   (f"copy {n:03d}", "", 0, params, analysis.macs, share), share, heading=True)
        _attach(parent, copy)
        copy.defer_children(lambda r, a=analysis: add(r, a, r.key))


def _attach(parent: Row, child: Row):
    child.parent = parent
    siblings = parent.children
    child.row = len(siblings)
    siblings.append(child)


def build_rows(graph, analysis) -> list[Row]:
    """The table's top-level rows (network headings when the document has several networks),
    each with its children."""
    total = analysis.total_params
    networks = graph.networks()
    headings: dict[str, Row] = {}
    roots: list[Row] = []
    for node_id in reading_order(graph, analysis):
        node = graph.nodes.get(node_id)
        info = analysis.nodes.get(node_id)
        if node is None or info is None:
            continue
        type_ = info.resolved.get("variant", node.type)
        tip = f"id {node_id}" if node.label else ""
        row = _node_row(node_id, node_id, node.title, type_, info, total, tip)
        if info.inner:
            row.defer_children(lambda r, node=node, inner=info.inner: _inner_rows(r, graph, node, inner, total))
        if len(networks) > 1:
            if node.network not in headings:
                heading = Row(f"network:{node.network}", "", heading=True)
                heading.row = len(roots)
                headings[node.network] = heading
                roots.append(heading)
            _attach(headings[node.network], row)
        else:
            row.row = len(roots)
            roots.append(row)
    for net, heading in headings.items():
        params = sum(analysis.nodes[r.node_id].params for r in heading.children)
        macs = sum(analysis.nodes[r.node_id].macs for r in heading.children)
        share = params / total if total else 0.0
        heading.cells = (net, "network", "", count(params), _count_or_dash(macs), percent(share) if params else "")
        heading.sort = (net, "network", 0, params, macs, share)
        heading.share = share
    return roots


def row_structure(rows: list[Row]) -> list[str]:
    """The rows' keys and nesting: equal for two tables that differ only in their values."""
    keys: list[str] = []

    def walk(rs):
        for r in rs:
            keys.append(r.key)
            keys.append("(")
            walk(r.children)
            keys.append(")")
    walk(rows)
    return keys


# ---- totals -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Totals:
    """What the table's foot says, written for people."""
    params: str        # 61,706
    weights: str       # 61,470
    biases: str        # 236
    trainable: str
    frozen: str        # "" when nothing is frozen
    macs: str
    activations: str   # 63.0 KB: per sample, float32, forward
    inputs: str        # "image 1×32×32"; several joined by ", "
    outputs: str
    errors: int
    weight_sum: str    # "(5×5)×6 + … = 61,470", "" when it would not read (see weight_sum)


def weight_sum(a) -> str:
    """The lecture's whole-network sum, `(5×5)×6 + (5×5×6)×16 + … = 61,470`, when every
    weighted block has a term (a composite has none: the sum would not add up) and there
    are few enough to read; else ""."""
    weighted = [info for info in a.nodes.values() if info.weights]
    if not weighted or len(weighted) > FORMULA_MAX_TERMS or any(not i.weight_formula for i in weighted):
        return ""
    return a.weight_formula()


def totals(a) -> Totals:
    frozen = a.total_params - a.trainable_params
    return Totals(count(a.total_params), count(a.weight_params), count(a.bias_params), count(a.trainable_params),
                  count(frozen) if frozen else "", count(a.macs), nbytes(a.activation_bytes),
                  ", ".join(f"{k} {fmt_shape(v)}" for k, v in a.input_shapes.items()),
                  ", ".join(f"{k} {fmt_shape(v)}" for k, v in a.output_shapes.items()),
                  len(a.errors), weight_sum(a))


def headline(t: Totals) -> list[tuple[str, str]]:
    """The totals as one line of parts, (the figure, the words after it), for the panel."""
    parts = [(t.params, f" parameters ({t.weights} weights + {t.biases} biases)"),
             (t.trainable, " trainable" + (f", {t.frozen} frozen" if t.frozen else "")),
             (t.macs, " multiply-adds"),
             (t.activations, " activations per sample"),
             ("no" if not t.errors else str(t.errors), " errors" if t.errors != 1 else " error")]
    if t.inputs or t.outputs:
        parts.append(("", f"{t.inputs or '?'} → {t.outputs or '?'}"))
    return parts


# ---- designer summary ---------------------------------------------------------------------------

def as_dict(graph, analysis) -> dict:
    """The summary as JSON data: totals, shapes, one entry per block, errors and warnings."""
    layers = []
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        layers.append({"name": node_id, "type": graph.nodes[node_id].type,
                       "output_shape": list(info.output_shape) if info.output_shape else None,
                       "params": info.params, "macs": info.macs})
    return {
        "total_params": analysis.total_params,
        "trainable_params": analysis.trainable_params,
        "weight_params": analysis.weight_params,
        "bias_params": analysis.bias_params,
        "macs": analysis.macs,
        "activation_bytes": analysis.activation_bytes,
        "input_shapes": {k: list(v) for k, v in analysis.input_shapes.items()},
        "output_shapes": {k: list(v) for k, v in analysis.output_shapes.items()},
        "layers": layers,
        "errors": [{"node": n, "message": m} for n, m in analysis.errors],
        "warnings": [{"node": n, "message": m} for n, m in analysis.warnings],
    }


def as_table(graph, analysis) -> str:
    """The summary as a text table with the totals beneath, for a terminal."""
    rows = [("Layer", "Type", "Output shape", "Param #", "Mult-adds")]
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        node = graph.nodes[node_id]
        rows.append((node.title, node.type, shape_text(info), _count_or_dash(info.params),
                     _count_or_dash(info.macs)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    rule = "─" * (sum(widths) + 8)

    def fmt(r):
        return "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                          r[3].rjust(widths[3]), r[4].rjust(widths[4])])
    t = totals(analysis)
    lines = [rule, fmt(rows[0]), rule] + [fmt(r) for r in rows[1:]] + [rule]
    lines += [f"Total params:      {t.params}  (weights {t.weights}, biases {t.biases})",
              f"Trainable params:  {t.trainable}",
              f"Mult-adds:         {t.macs}",
              f"Activations:       {t.activations} per sample (float32, forward)",
              f"Inputs:            {t.inputs}",
              f"Outputs:           {t.outputs}"]
    if t.weight_sum:
        lines.append(f"Weights:           {t.weight_sum}")
    for node_id, msg in analysis.errors:
        lines.append(f"error at {node_id}: {msg}" if node_id else f"error: {msg}")
    for node_id, msg in analysis.warnings:
        lines.append(f"warning at {node_id}: {msg}" if node_id else f"warning: {msg}")
    return "\n".join(lines)
