"""The canvas's gestures as model ops, without Qt: the id rule, copy/paste/duplicate
(designer.graph.clipboard), add/splice (designer.graph.editing) and the auto layout
(designer.graph.layout)."""
from __future__ import annotations

import pytest

from designer import load_graph
from designer.graph.clipboard import clip_text, parse_clip, paste_ops, selection_document
from designer.graph.composite import group_ops
from designer.graph.editing import add_ops, new_node, splice_ops
from designer.graph.errors import GraphError
from designer.graph.ids import unique_id
from designer.graph.layout import CARD_WIDTH, COLUMN, layered_positions, layout_ops, needs_layout, overlapping
from designer.graph.model import Graph, SetField


def lenet() -> Graph:
    return load_graph("lenet5").graph


# ---- the id rule ----------------------------------------------------------------------------------

def test_unique_id_numbers_a_taken_name():
    assert unique_id("conv", set()) == "conv"
    assert unique_id("conv", {"conv"}) == "conv_1"
    assert unique_id("conv", {"conv", "conv_1", "conv_3"}) == "conv_2"
    assert unique_id("conv_1", {"conv_1"}) == "conv_1_1"


def test_graph_new_id_follows_the_same_rule():
    g = Graph()
    for _ in range(3):
        g.add_node("Conv2d")
    assert list(g.nodes) == ["conv2d", "conv2d_1", "conv2d_2"]
    assert g.new_id("Conv2d") == unique_id("conv2d", g.nodes) == "conv2d_3"


# ---- copy, paste, duplicate -----------------------------------------------------------------------

def test_a_copied_selection_is_a_document_with_its_inner_edges():
    g = lenet()
    clip = parse_clip(clip_text(g, ["c1", "c1_tanh", "s2"]))
    assert list(clip.nodes) == ["c1", "c1_tanh", "s2"]
    assert [(e.src, e.dst) for e in clip.edges] == [("c1", "c1_tanh"), ("c1_tanh", "s2")]


def test_junk_on_the_clipboard_is_no_document():
    assert parse_clip("not json") is None
    assert parse_clip('{"nodes": 3}') is None
    assert parse_clip("[" * 100000) is None


def test_pasting_into_the_same_document_renames_taken_ids_and_keeps_the_wiring():
    g = lenet()
    before = len(g.nodes)
    clip = selection_document(g, ["c1", "c1_tanh"])
    ops, new_ids = paste_ops(g, clip, at=(1000.0, 500.0))
    assert new_ids == ["c1_1", "c1_tanh_1"]
    g.apply_all(ops)
    assert len(g.nodes) == before + 2
    assert any(e.src == "c1_1" and e.dst == "c1_tanh_1" for e in g.edges)
    xs = [g.nodes[i].pos[0] for i in new_ids]
    ys = [g.nodes[i].pos[1] for i in new_ids]
    assert (min(xs) + max(xs)) / 2 == pytest.approx(1000.0) and (min(ys) + max(ys)) / 2 == pytest.approx(500.0)


def test_duplicate_shifts_by_the_offset_and_pasting_elsewhere_keeps_ids():
    g = lenet()
    ops, new_ids = paste_ops(g, selection_document(g, ["f6"]))
    g.apply_all(ops)
    assert g.nodes[new_ids[0]].pos == (g.nodes["f6"].pos[0] + 40.0, g.nodes["f6"].pos[1] + 40.0)
    other = Graph()
    ops, ids = paste_ops(other, selection_document(g, ["f6", "f6_tanh"]), network="critic")
    other.apply_all(ops)
    assert ids == ["f6", "f6_tanh"] and {n.network for n in other.nodes.values()} == {"critic"}


def test_a_user_composite_travels_with_its_blocks_but_not_into_another_composite():
    g = lenet()
    g.apply_all(group_ops(g, ["c1", "c1_tanh"], "Stem"))
    stem = next(i for i, n in g.nodes.items() if n.type == "Stem")
    clip = parse_clip(clip_text(g, [stem]))
    assert "Stem" in clip.composites
    other = Graph()
    ops, _ = paste_ops(other, clip)
    other.apply_all(ops)
    assert "Stem" in other.composites
    with pytest.raises(GraphError):
        paste_ops(Graph(), clip, composites_allowed=False)
    assert paste_ops(g, Graph()) == ([], [])


# ---- add and splice -------------------------------------------------------------------------------

def test_add_connected_and_splice_onto_a_link_are_one_step_each():
    g = lenet()
    node = new_node(g, "ReLU", (10, 20))
    assert node.id == "relu" and node.pos == (10.0, 20.0)
    g.apply_all(add_ops(g, node, ("output", "out")))
    assert any(e.src == "output" and e.dst == "relu" for e in g.edges)
    edge = next(e for e in g.edges if e.src == "c1" and e.dst == "c1_tanh")
    bn = new_node(g, "BatchNorm", (0, 0))
    g.apply_all(splice_ops(g, edge, bn))
    assert [(e.src, e.dst) for e in g.edges if bn.id in (e.src, e.dst)] == [("c1", bn.id), (bn.id, "c1_tanh")]
    assert g.analyze().ok
    with pytest.raises(GraphError):
        splice_ops(g, edge, new_node(g, "Input", (0, 0)))


# ---- layout ---------------------------------------------------------------------------------------

def test_a_chain_is_laid_out_in_columns_left_to_right():
    g = lenet()
    positions = layered_positions(g)
    xs = [positions[i][0] for i in g.nodes]
    assert xs == [k * COLUMN for k in range(len(xs))]
    assert len({positions[i][1] for i in g.nodes}) == 1


def test_a_long_chain_wraps_for_a_view_and_cards_never_overlap():
    g = lenet()
    positions = layered_positions(g, aspect=1.0)
    assert len({y for _, y in positions.values()}) > 1      # wrapped into rows
    g.apply_all([SetField(i, "pos", p) for i, p in positions.items()])
    assert not overlapping(g, CARD_WIDTH, 100)


def test_overlapping_cards_need_a_layout_and_a_laid_out_drawing_does_not():
    g = lenet()
    g.apply_all([SetField(i, "pos", (0.0, 0.0)) for i in g.nodes])
    assert overlapping(g, CARD_WIDTH, 100) and needs_layout(g, 1.5)
    g.apply_all(layout_ops(g, aspect=1.5))
    assert not needs_layout(g, 1.5)
    assert layout_ops(g, aspect=1.5) == []      # laid out already: nothing to do


def test_laying_out_a_selection_keeps_its_top_left_corner():
    g = lenet()
    chosen = ["c3", "c3_tanh", "s4"]
    g.apply_all([SetField(i, "pos", (500.0 + 3 * k, 300.0 - 7 * k)) for k, i in enumerate(chosen)])
    corner = (min(g.nodes[i].pos[0] for i in chosen), min(g.nodes[i].pos[1] for i in chosen))
    ops = layout_ops(g, chosen)
    assert {op.id for op in ops} <= set(chosen)
    g.apply_all(ops)
    assert (min(g.nodes[i].pos[0] for i in chosen), min(g.nodes[i].pos[1] for i in chosen)) == corner
