"""300 random edit sequences through the window's undo stack (DocumentController.edit):
a refused edit changes nothing; undoing everything gives back the very bytes of
the saved document; redoing everything gives back the edited one."""
from __future__ import annotations

import random

import pytest

from designer import load_graph
from designer.graph import clipboard, editing
from designer.graph.composite import group_ops, ungroup_ops
from designer.graph.errors import GraphError
from designer.graph.fileformat import dumps
from designer.graph.ids import unique_id
from designer.graph.layout import layout_ops
from designer.graph.model import Connect, Disconnect, Edge, Graph, SetField, SetParam
from designer.ui.document import MERGE_MOVE, DocumentController

SEQUENCES = 300
TYPES = ("Conv2d", "ReLU", "MaxPool2d", "Linear", "Flatten", "BatchNorm", "Dropout", "Add", "Concat", "Tanh",
         "Inception", "Residual")


def base_document() -> Graph:
    g = load_graph("lenet5").graph
    # and a user composite, so that edits inside one are exercised too
    ids = list(g.nodes)
    for op in group_ops(g, ids[1:3], "Stem"):
        g.apply(op)
    return g


def random_value(rng: random.Random, param):
    if param.kind == "int":
        lo = int(param.min) if param.min is not None else 0
        return rng.choice([lo, lo + 1, lo + rng.randint(0, 40), param.default, -1])
    if param.kind == "float":
        return rng.choice([0.0, 0.5, 0.99, param.default, -3.0])
    if param.kind == "bool":
        return rng.random() < 0.5
    if param.kind == "enum":
        return rng.choice(list(param.choices) + ["nonsense"])
    if param.kind in ("pair", "padding"):
        return rng.choice([1, 2, 3, [1, 2], "same", 0])
    if param.kind == "str":
        return rng.choice(["x", "out", "", "a" * 300])
    return param.default


def random_edit(rng: random.Random, g: Graph):
    """(text, ops, graph or None) of one user gesture, built the way the canvas builds them."""
    ids = list(g.nodes)
    kind = rng.choice(["add", "delete", "connect", "disconnect", "param", "move", "label", "freeze",
                       "paste", "splice", "layout", "group", "ungroup", "inside"])
    pick = rng.choice
    if kind == "add" or not ids:
        node = editing.new_node(g, pick(TYPES), (rng.uniform(-500, 500), rng.uniform(-500, 500)))
        src = (pick(ids), "out") if ids and rng.random() < 0.5 else None
        return "add", editing.add_ops(g, node, src), None
    if kind == "delete":
        return "delete", g.removal_ops(rng.sample(ids, min(len(ids), rng.randint(1, 3)))), None
    if kind == "connect":
        a, b = pick(ids), pick(ids)
        outs, ins = g.output_ports(a), g.input_ports(b)
        if not outs or not ins:
            return "connect", [], None
        return "connect", [Connect(Edge(a, pick(outs), b, pick(ins)))], None
    if kind == "disconnect" and g.edges:
        return "disconnect", [Disconnect(pick(g.edges))], None
    if kind == "param":
        node_id = pick(ids)
        params = g.spec(node_id).params
        if not params:
            return "param", [], None
        p = pick(params)
        return "param", [SetParam(node_id, p.name, random_value(rng, p))], None
    if kind == "move":
        chosen = rng.sample(ids, min(len(ids), 2))
        return "move", [SetField(i, "pos", (rng.uniform(-900, 900), rng.uniform(-900, 900))) for i in chosen], None
    if kind == "label":
        return "label", [SetField(pick(ids), "label", pick(["", "C1", "κ layer", "x" * 10]))], None
    if kind == "freeze":
        node_id = pick(ids)
        return "freeze", [SetField(node_id, "trainable", not g.nodes[node_id].trainable)], None
    if kind == "paste":
        clip = clipboard.selection_document(g, rng.sample(ids, min(len(ids), 3)))
        ops, _ = clipboard.paste_ops(g, clip, at=(rng.uniform(0, 300), 0))
        return "paste", ops, None
    if kind == "splice" and g.edges:
        node = editing.new_node(g, pick(("ReLU", "BatchNorm", "Dropout", "Conv2d")), (0, 0))
        return "splice", editing.splice_ops(g, pick(g.edges), node), None
    if kind == "layout":
        chosen = rng.sample(ids, min(len(ids), rng.randint(2, 6))) if rng.random() < 0.5 else None
        return "layout", layout_ops(g, chosen, aspect=pick([None, 1.5])), None
    if kind == "group":
        name = unique_id("Block", set(g.composites) | set(g.nodes))
        return "group", group_ops(g, rng.sample(ids, min(len(ids), rng.randint(1, 3))), name), None
    if kind == "ungroup":
        composites = [i for i in ids if g.spec(i).is_composite]
        if composites:
            return "ungroup", ungroup_ops(g, pick(composites)), None
    if kind == "inside" and g.composites:
        inside = pick(list(g.composites.values())).graph
        inner_ids = list(inside.nodes)
        node_id = pick(inner_ids)
        params = inside.spec(node_id).params
        if params and rng.random() < 0.7:
            p = pick(params)
            return "inside", [SetParam(node_id, p.name, random_value(rng, p))], inside
        return "inside", [SetField(node_id, "pos", (rng.uniform(0, 99), 0.0))], inside
    return "nothing", [], None


@pytest.mark.timeout(240)
def test_random_edit_sequences_undo_to_the_same_bytes(qapp):
    base = base_document()
    start = dumps(base)
    applied = refused = 0
    for seed in range(SEQUENCES):
        rng = random.Random(seed)
        c = DocumentController(base.copy())
        assert dumps(c.graph) == start
        for _ in range(rng.randint(1, 10)):
            try:
                text, ops, inner = random_edit(rng, c.graph)
            except GraphError:
                continue   # the builder itself refused (e.g. ungroup of an unconnected block)
            before = dumps(c.graph)
            inner_before = {n: dumps(d.graph) for n, d in c.graph.composites.items()}
            try:
                c.edit(text, ops, merge_id=MERGE_MOVE if text == "move" and rng.random() < 0.3 else -1,
                       graph=inner)
                applied += bool(ops)
            except GraphError:
                refused += 1
                assert dumps(c.graph) == before, f"seed {seed}: a refused {text} changed the document"
                assert {n: dumps(d.graph) for n, d in c.graph.composites.items()} == inner_before
            c.graph.analyze()   # the analysis copes with whatever the edits made
        edited = dumps(c.graph)
        while c.history.can_undo:
            c.history.undo()
        assert dumps(c.graph) == start, f"seed {seed}: undo all did not restore the document"
        while c.history.can_redo:
            c.history.redo()
        assert dumps(c.graph) == edited, f"seed {seed}: redo all did not restore the edits"
        c.close()
        c.deleteLater()
    assert applied > SEQUENCES and refused > 50   # both paths were really exercised
