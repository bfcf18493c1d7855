"""designer.graph.order: the one topological order and its three tie rules."""
from __future__ import annotations

import random

import pytest

from designer.graph.order import graph_order, topological_order

# a residual block as drawn: the main path first, the shortcut after it
NODES = ["input", "conv1", "bn1", "relu1", "conv2", "bn2", "downsample", "add"]
SUCC = {"input": ["conv1", "downsample"], "conv1": ["bn1"], "bn1": ["relu1"], "relu1": ["conv2"],
        "conv2": ["bn2"], "bn2": ["add"], "downsample": ["add"]}


def test_document_rule_keeps_a_topological_document_order():
    assert topological_order(NODES, SUCC, "document") == (NODES, set())


def test_arrival_rule_is_breadth_first():
    order, stuck = topological_order(NODES, SUCC, "arrival")
    assert order == ["input", "conv1", "downsample", "bn1", "relu1", "conv2", "bn2", "add"] and not stuck


def test_depth_rule_reads_each_branch_to_its_end():
    succ = dict(SUCC, input=["downsample", "conv1"])   # the shortcut wired first
    order, _ = topological_order(NODES, succ, "depth")
    assert order == ["input", "downsample", "conv1", "bn1", "relu1", "conv2", "bn2", "add"]


@pytest.mark.parametrize("ties", ["arrival", "document", "depth"])
def test_cycles_are_left_out_and_the_rest_ordered(ties):
    nodes = ["a", "b", "c", "d", "e"]
    succ = {"a": ["b"], "b": ["c"], "c": ["b", "d"], "e": ["a"]}   # b ⇄ c, d downstream of them
    order, stuck = topological_order(nodes, succ, ties)
    assert order == ["e", "a"] and stuck == {"b", "c", "d"}


@pytest.mark.parametrize("ties", ["arrival", "document", "depth"])
def test_every_rule_gives_a_topological_order(ties):
    rng = random.Random(3)
    for _ in range(200):
        nodes = [f"n{i}" for i in range(rng.randint(1, 30))]
        rng.shuffle(nodes)
        rank = {n: rng.random() for n in nodes}
        succ: dict[str, list[str]] = {}
        for _ in range(rng.randint(0, 60)):
            a, b = rng.sample(nodes, 2) if len(nodes) > 1 else (nodes[0], nodes[0])
            if rank[a] < rank[b]:   # acyclic: edges go up the rank; parallel edges allowed
                succ.setdefault(a, []).append(b)
        order, stuck = topological_order(nodes, succ, ties)
        assert not stuck and sorted(order) == sorted(nodes)
        at = {n: i for i, n in enumerate(order)}
        assert all(at[a] < at[b] for a, targets in succ.items() for b in targets)


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError):
        topological_order(NODES, SUCC, "alphabetical")


def test_graph_order_of_a_subset_keeps_only_its_edges():
    from designer.graph.model import Graph
    g = Graph()
    for node_id, type_ in (("a", "Input"), ("r1", "ReLU"), ("r2", "ReLU")):
        g.add_node(type_, id=node_id)
    g.connect("a", "r1")
    g.connect("r1", "r2")
    assert graph_order(g, ties="document") == (["a", "r1", "r2"], set())
    assert graph_order(g, ["r2", "a"], "document") == (["a", "r2"], set())
