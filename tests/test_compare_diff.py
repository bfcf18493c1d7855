"""The architecture diff (designer/graph/diff.py, `designer diff`): the expected deltas come
from PyTorch (the compiled networks' parameter counts), never from our own analysis."""
import json
from collections import Counter

import pytest

from designer import load_graph
from designer.__main__ import main
from designer.graph.diff import diff_graphs
from designer.graph.model import AddNode, Connect, Edge, Graph, Node


def torch_params(graph) -> int:
    from designer.compile import compile_graph
    module = compile_graph(graph, device="meta")
    return sum(p.numel() for p in module.parameters())


def diff_json(capsys, a, b) -> dict:
    assert main(["diff", a, b, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def renumbered(graph: Graph) -> Graph:
    """The same network with every id replaced by its place in the document (as a renaming
    to torchvision's `features.N` would move them)."""
    ids = {old: f"n{k}" for k, old in enumerate(graph.nodes)}
    out = Graph()
    for old, n in graph.nodes.items():
        out.apply(AddNode(Node(ids[old], n.type, dict(n.params), n.label, n.pos, n.network, n.trainable)))
    for e in graph.edges:
        out.apply(Connect(Edge(ids[e.src], e.src_port, ids[e.dst], e.dst_port)))
    return out


def test_vgg16_to_vgg19_adds_three_convolutions_and_their_relus(capsys):
    expected = torch_params(load_graph("vgg19").graph) - torch_params(load_graph("vgg16").graph)
    d = diff_json(capsys, "vgg16", "vgg19")
    assert d["params_delta"] == expected == 5_309_696
    leaves = [a for a in d["added"]]
    assert Counter(a["type"] for a in leaves) == Counter({"Conv2d": 3, "ReLU": 3})
    assert d["removed"] == []
    assert all(not c["params"] for c in d["changed"])   # at most a composite holding them changed
    assert sum(a["params_delta"] for a in d["added"]) == expected
    assert d["macs_delta"] > 0


def test_renumbered_ids_still_pair_by_data_flow_and_type():
    old, new = renumbered(load_graph("vgg16").graph), renumbered(load_graph("vgg19").graph)
    d = diff_graphs(old, new)
    assert Counter(a.type for a in d.added) == Counter({"Conv2d": 3, "ReLU": 3})
    assert not d.removed and not d.changed
    # the added convolutions are the last of their stage: 256→256 and 512→512
    assert sorted(a.params_delta for a in d.added if a.type == "Conv2d") == [590_080, 2_359_808, 2_359_808]


def test_a_composite_is_compared_inside_with_paths():
    graphs = []
    for name in ("vgg16", "vgg19"):
        g = load_graph(name).graph.copy()
        stages = [i for i, n in g.nodes.items() if n.type in ("Conv2d", "MaxPool2d")
                  or (n.type == "ReLU" and g.edges_into(i) and g.nodes[g.edges_into(i)[0].src].type == "Conv2d")]
        g.group(stages, "features", "features")
        graphs.append(g)
    d = diff_graphs(*graphs)
    assert Counter(a.type for a in d.added) == Counter({"Conv2d": 3, "ReLU": 3})
    assert all(a.id.startswith("features/") and a.top == "features" for a in d.added)
    assert [c.id for c in d.changed] == ["features"]
    assert d.changed[0].params_delta == d.params_delta == 5_309_696
    assert d.status_of("features") == "changed"


def test_resnet34_to_plain34_loses_the_projection_shortcuts(capsys):
    expected = torch_params(load_graph("plain34").graph) - torch_params(load_graph("resnet34").graph)
    d = diff_json(capsys, "resnet34", "plain34")
    assert d["params_delta"] == expected == -173_824
    assert not [a for a in d["added"] if a["params_delta"]]
    removed = [r for r in d["removed"] if r["params_delta"]]
    assert Counter(r["type"] for r in removed) == Counter({"Conv2d": 3, "BatchNorm": 3})
    assert sum(r["params_delta"] for r in removed) == expected
    assert all("/" in r["id"] for r in d["removed"])    # inside the residual blocks, named by path
    assert any(c["params"].get("shortcut") == [True, False] for c in d["changed"])


def test_lenet5_against_itself_is_unchanged(capsys):
    d = diff_json(capsys, "lenet5", "lenet5")
    assert d == {"added": [], "removed": [], "changed": [], "params_delta": 0, "macs_delta": 0,
                 "old_params": d["old_params"], "new_params": d["old_params"],
                 "old_macs": d["old_macs"], "new_macs": d["old_macs"]}
    assert main(["diff", "lenet5", "lenet5"]) == 0
    assert capsys.readouterr().out.startswith("lenet5 → lenet5: nothing changed")


def test_a_wider_c1_changes_c1_and_the_shapes_downstream(tmp_path, capsys):
    from designer import save_graph
    old = load_graph("lenet5").graph
    new = old.copy()
    new.set_param("c1", "out_channels", 8)
    save_graph(new, tmp_path / "wide.json")
    d = diff_json(capsys, "lenet5", str(tmp_path / "wide.json"))
    changed = {c["id"]: c for c in d["changed"]}
    assert changed["c1"]["params"] == {"out_channels": [6, 8]}
    assert changed["c1"]["output_shape"] == [[6, 28, 28], [8, 28, 28]]
    # the activation and the pooling after it carry 8 maps now; C3 reads 8 of them
    assert changed["s2"]["output_shape"] == [[6, 14, 14], [8, 14, 14]]
    assert changed["c3"]["params"] == {} and changed["c3"]["output_shape"] is None
    assert d["added"] == [] and d["removed"] == []
    assert d["params_delta"] == torch_params(new) - torch_params(old) == 852
    assert changed["c1"]["params_delta"] + changed["c3"]["params_delta"] == 852
    assert main(["diff", "lenet5", str(tmp_path / "wide.json")]) == 0
    assert "out_channels 6 → 8; output 6×28×28 → 8×28×28" in capsys.readouterr().out


def test_more_copies_of_a_repeated_block_are_added_copies():
    d = diff_graphs(load_graph("resnet18").graph, load_graph("resnet34").graph)
    assert d.params_delta == torch_params(load_graph("resnet34").graph) - torch_params(load_graph("resnet18").graph)
    assert all(a.type == "Residual" and "/#" in a.id for a in d.added)
    assert sum(a.params_delta for a in d.added) == d.params_delta
    assert any(c.params.get("repeat") for c in d.changed)


def test_rewiring_between_kept_blocks_is_a_change():
    def chain(order):
        g = Graph()
        g.add_node("Input", {"shape": (8,)}, id="x")
        for i in ("a", "b"):
            g.add_node("ReLU", id=i)
        g.chain("x", *order)
        return g
    d = diff_graphs(chain(["a", "b"]), chain(["b", "a"]))
    assert not d.added and not d.removed
    assert {c.id: c.inputs for c in d.changed} == {"a": (("x",), ("b",)), "b": (("a",), ("x",))}


def test_an_unreadable_side_says_so_in_one_line(capsys):
    code = None
    try:
        code = main(["diff", "lenet5", "no_such_network"])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert capsys.readouterr().err.startswith("error: ")


@pytest.mark.parametrize("name", ["googlenet", "unet", "gan"])
def test_every_other_preset_against_itself_is_unchanged(name):
    g = load_graph(name).graph
    assert diff_graphs(g, g.copy()).same
