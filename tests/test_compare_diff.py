"""The architecture diff (designer/graph/diff.py, `designer diff`): the expected deltas come
from PyTorch (the compiled networks' parameter counts), never from our own analysis."""
import json
from collections import Counter

import pytest

from designer import load_graph
from designer.__main__ import main
from designer.graph.diff import diff_graphs, inside_at
from designer.graph.model import Graph


def torch_params(graph) -> int:
    from designer.compile import compile_graph
    module = compile_graph(graph, device="meta")
    return sum(p.numel() for p in module.parameters())


def diff_json(capsys, a, b) -> dict:
    assert main(["diff", a, b, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def vgg_like(stages, ids="named") -> Graph:
    """A small VGG: 3×3 convolutions (each with its ReLU) and max-pools as `stages` says
    ([[8, 8], [16, 16, 16]]), then a classifier. ids "named": conv2_3, relu2_3, pool2 (as
    the lecture names VGG's layers); "numbered": 0, 1, 2… in order (as torchvision's
    `features.N`, which moves every id after an inserted layer)."""
    g = Graph()
    g.add_node("Input", {"shape": (3, 32, 32)}, id="input")
    order = []
    for s, convs in enumerate(stages, 1):
        for c, channels in enumerate(convs, 1):
            order += [(f"conv{s}_{c}", "Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1}),
                      (f"relu{s}_{c}", "ReLU", {})]
        order.append((f"pool{s}", "MaxPool2d", {"kernel_size": 2, "stride": 2}))
    order += [("flatten", "Flatten", {}), ("fc", "Linear", {"out_features": 10})]
    last = "input"
    for k, (name, type_, params) in enumerate(order):
        node_id = f"n{k}" if ids == "numbered" else name
        g.add_node(type_, params, id=node_id)
        g.connect(last, node_id)
        last = node_id
    return g


SMALL, DEEPER = [[8, 8], [16, 16], [32, 32]], [[8, 8], [16, 16, 16], [32, 32, 32]]


@pytest.mark.parametrize("ids", ["named", "numbered"])
def test_inserted_layers_are_added_whether_ids_are_names_or_numbers(ids):
    old, new = vgg_like(SMALL, ids), vgg_like(DEEPER, ids)
    d = diff_graphs(old, new)
    assert d.params_delta == torch_params(new) - torch_params(old)
    assert Counter(a.type for a in d.added) == Counter({"Conv2d": 2, "ReLU": 2})
    assert not d.removed and not d.changed
    # the added convolutions are the last of their stage: 16→16 and 32→32 (3×3, with bias)
    assert sorted(a.params_delta for a in d.added if a.type == "Conv2d") == [16 * 16 * 9 + 16, 32 * 32 * 9 + 32]
    if ids == "named":
        assert sorted(a.id for a in d.added) == ["conv2_3", "conv3_3", "relu2_3", "relu3_3"]


def test_a_composite_is_compared_inside_with_paths():
    graphs = []
    for stages in (SMALL, DEEPER):
        g = vgg_like(stages)
        g.group([i for i in g.nodes if i.startswith(("conv", "relu", "pool"))], "Features", "features")
        graphs.append(g)
    d = diff_graphs(*graphs)
    assert Counter(a.type for a in d.added) == Counter({"Conv2d": 2, "ReLU": 2})
    assert all(a.id.startswith("features/") and a.top == "features" for a in d.added)
    assert [c.id for c in d.changed] == ["features"]
    assert d.changed[0].params_delta == d.params_delta == torch_params(graphs[1]) - torch_params(graphs[0])
    assert d.status_of("features") == "changed" and d.status_of("fc") == ""


def test_vgg16_to_vgg19_adds_three_convolutions_with_their_activations(capsys):
    """Must show 1 on the real presets, against torchvision's own counts."""
    import torchvision.models as tvm
    expected = sum(p.numel() for p in tvm.vgg19().parameters()) - sum(p.numel() for p in tvm.vgg16().parameters())
    d = diff_json(capsys, "vgg16", "vgg19")
    assert d["params_delta"] == expected == 5_309_696
    assert Counter(a["type"] for a in d["added"]) == {"Conv2d": 3, "ReLU": 3}
    assert not d["removed"]
    assert [c["id"] for c in d["changed"]] == ["features"]     # the group holding them, and nothing else


def test_a_reader_that_stops_reading_ends_the_output_quietly():
    """`netdesigner diff a b | head`: no BrokenPipeError on the screen, exit 0."""
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-m", "designer", "diff", "vgg16", "vgg19"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()    # before the child writes: its first write finds no reader
    _, err = child.communicate(timeout=120)
    assert (child.returncode, err.decode()) == (0, "")


def test_resnet34_to_plain34_loses_the_projection_shortcuts(capsys):
    expected = torch_params(load_graph("plain34").graph) - torch_params(load_graph("resnet34").graph)
    d = diff_json(capsys, "resnet34", "plain34")
    assert d["params_delta"] == expected == -173_824
    assert not [a for a in d["added"] if a["params_delta"]]
    removed = [r for r in d["removed"] if r["params_delta"]]
    assert sum(r["params_delta"] for r in removed) == expected
    assert all("/" in r["id"] for r in d["removed"])    # inside the residual blocks, named by path
    # one projection shortcut (a 1×1 convolution and its batch norm) in the first block of stages 2-4
    assert len({r["id"].rsplit("/", 1)[0] for r in removed}) == 3
    assert any(c["params"].get("shortcut") == [True, False] for c in d["changed"])


def test_lenet5_against_itself_is_unchanged(capsys):
    d = diff_json(capsys, "lenet5", "lenet5")
    params = torch_params(load_graph("lenet5").graph)
    assert d == {"added": [], "removed": [], "changed": [], "params_delta": 0, "macs_delta": 0,
                 "old_params": params, "new_params": params,
                 "old_macs": d["old_macs"], "new_macs": d["old_macs"]}
    assert main(["diff", "lenet5", "lenet5"]) == 0
    assert capsys.readouterr().out.startswith("lenet5 → lenet5: nothing changed")


def test_a_network_with_errors_at_the_input_is_noted(capsys):
    assert main(["diff", "lenet5", "lenet5", "--input", "1,2,2"]) == 0
    note = "note: lenet5 has errors, so its counts are partial: c1: kernel 5 is larger than the padded input"
    assert capsys.readouterr().err.count(note) == 2


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
    def stage(repeat, shortcut=True):
        g = Graph()
        g.add_node("Input", {"shape": (16, 8, 8)}, id="x")
        g.add_node("Residual", {"out_channels": 16, "repeat": repeat, "shortcut": shortcut}, id="stage")
        g.connect("x", "stage")
        return g
    d = diff_graphs(stage(2), stage(3))
    assert d.params_delta == torch_params(stage(3)) - torch_params(stage(2))
    assert [(a.id, a.type) for a in d.added] == [("stage/#3", "Residual")]
    assert a_only(d.changed).params == {"repeat": (2, 3)}
    d = diff_graphs(stage(1), stage(1, shortcut=False))
    assert [(r.id, r.type) for r in d.removed] == [("stage/add", "Add")]
    # the inside of one copy, as the paths name it, and each block's status there
    inside, analysis = inside_at(stage(3), "stage/#2/")
    assert {"conv1", "conv2", "add"} <= set(inside.nodes) and analysis.total_params == torch_params(stage(1))
    assert inside_at(stage(3), "stage/#4/") is None and inside_at(stage(3), "nothing/") is None
    assert d.status_of("add", "old", "stage/") == "removed" and d.status_of("conv1", "old", "stage/") == ""
    assert d.status_of("stage", "old") == d.status_of("stage", "new") == "changed"


def a_only(items):
    assert len(items) == 1, items
    return items[0]


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
