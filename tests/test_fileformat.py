"""The document file: byte-identical round trips, a readable diff-friendly layout,
errors that name the place, and an atomic save that a crash cannot half-write."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from designer import load_graph, save_graph
from designer.graph import Graph
from designer.graph.errors import GraphFileError
from designer.graph.fileformat import dumps, load, loads, save
from designer.graph.model import SetMeta
from designer.graph.presets import preset_path


def rich_document() -> Graph:
    """Composites (user and built-in, repeated), two networks, unicode, meta."""
    g = Graph()
    g.add_node("Input", {"shape": [3, 32, 32], "name": "image"}, id="x", label="INPUT — 32×32 ✓", pos=(0.125, -7))
    g.add_node("Conv2d", {"out_channels": 16, "kernel_size": [3, 5], "padding": "same"}, id="conv1")
    g.add_node("ReLU", id="relu1")
    g.add_node("Residual", {"out_channels": 16, "repeat": 2}, id="layer1", trainable=False)
    g.add_node("Output", {"name": "features"}, id="y")
    g.chain("x", "conv1", "relu1", "layer1", "y")
    g.group(["conv1", "relu1"], "stem", node_id="stem")
    g.add_node("Input", {"shape": [8], "name": "z"}, id="z", network="generator")
    g.add_node("Linear", {"out_features": 4}, id="g_fc", network="generator")
    g.connect("z", "g_fc")
    g.apply(SetMeta("title", "Ünïcode «title» 🙂"))
    g.apply(SetMeta("training", {"epochs": 3, "lr": 1e-4, "augment": ["hflip", "normalize"]}))
    return g


@pytest.mark.parametrize("make", [lambda: load_graph("lenet5").graph, rich_document, Graph])
def test_save_load_round_trip_is_byte_identical(make, tmp_path):
    g = make()
    path = tmp_path / "doc.json"
    save(g, path)
    first = path.read_bytes()
    again = load(path)
    save(again, path)
    assert path.read_bytes() == first
    assert dumps(again) == dumps(g) == first.decode("utf-8")
    assert again.analyze().total_params == g.analyze().total_params


def test_the_lenet5_preset_is_stored_in_canonical_form():
    path = preset_path("lenet5")
    assert dumps(load(path)) == path.read_text(encoding="utf-8")


def test_layout_is_one_node_and_one_edge_per_line_with_stable_keys():
    text = dumps(rich_document())
    lines = text.splitlines()
    node_lines = [line for line in lines if line.lstrip().startswith('{"id"')]
    assert len(node_lines) == 6 + 4  # the top level, and the group's inside with its two ports
    d = json.loads(text)
    assert list(d) == ["format", "version", "meta", "nodes", "edges", "composites"]
    assert d["format"] == "network-designer" and d["version"] == 1
    keys = {n["id"]: list(n) for n in d["nodes"]}
    assert keys["x"] == ["id", "type", "label", "pos", "params"]
    assert keys["layer1"] == ["id", "type", "trainable", "pos", "params"]
    assert keys["g_fc"] == ["id", "type", "network", "pos", "params"]
    assert list(d["meta"]) == sorted(d["meta"])
    assert "Ünïcode «title» 🙂" in text, "text stays readable, not \\u-escaped"
    assert sum(1 for line in lines if line.strip().startswith('["')) == len(d["edges"]) + sum(
        len(c["edges"]) for c in d["composites"].values())


def test_changing_one_parameter_changes_one_line():
    g = load_graph("lenet5").graph
    before = dumps(g).splitlines()
    g.set_param("c3", "out_channels", 17)
    after = dumps(g).splitlines()
    assert len(before) == len(after)
    assert sum(a != b for a, b in zip(before, after)) == 1


def test_errors_name_the_file_and_the_place(tmp_path):
    bad = tmp_path / "bad.json"
    d = json.loads(dumps(load_graph("lenet5").graph))
    d["nodes"][4]["params"]["kernel_size"] = -5
    bad.write_text(json.dumps(d))
    with pytest.raises(GraphFileError, match=r"bad\.json: nodes\[4\] \(c3\): kernel size must be at least 1"):
        load(bad)
    bad.write_bytes(b"\xff\xfe{}")
    with pytest.raises(GraphFileError, match="not UTF-8"):
        load(bad)
    with pytest.raises(GraphFileError, match="cannot read"):
        load(tmp_path / "missing.json")
    with pytest.raises(GraphFileError, match="cannot read"):
        load(tmp_path)
    with pytest.raises(GraphFileError, match="unknown key 'extra'"):
        loads(json.dumps(dict(d, extra=1)))
    with pytest.raises(GraphFileError, match="is not a network-designer document"):
        loads(json.dumps({"format": "other", "version": 1}))
    with pytest.raises(GraphFileError, match="must hold a JSON object"):
        loads("[]")


def test_a_composite_cannot_contain_itself_or_another_user_composite():
    d = json.loads(dumps(rich_document()))
    d["composites"]["stem"]["nodes"].append({"id": "again", "type": "stem", "params": {}})
    with pytest.raises(GraphFileError, match="composites.stem"):
        loads(json.dumps(d))


# ---- atomic save --------------------------------------------------------------------------------

def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name != "doc.json")


@pytest.mark.parametrize("crash_in", ["os.replace", "os.fsync"])
def test_a_crash_mid_save_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch, crash_in):
    path = tmp_path / "doc.json"
    save(load_graph("lenet5").graph, path)
    old = path.read_bytes()
    g = rich_document()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(crash_in, crash)
    # a full disk says what it needed and what is kept (designer.atomic.WriteFailed)
    with pytest.raises(GraphFileError, match=r"^No space left on .*: doc.json needs .*; the previous doc.json is kept"):
        save(g, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert _leftovers(tmp_path) == []
    save(g, path)
    assert load(path) is not None and dumps(load(path)) == dumps(g)


def test_an_interrupt_mid_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "doc.json"
    save(load_graph("lenet5").graph, path)
    old = path.read_bytes()
    real_write_bytes = Path.write_bytes

    def interrupted_write(self, data):  # half the bytes reach the temporary file, then Ctrl-C
        real_write_bytes(self, data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_bytes", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        save(rich_document(), path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert _leftovers(tmp_path) == []


def test_save_keeps_the_mode_of_the_file_it_replaces_and_refuses_a_missing_folder(tmp_path):
    path = tmp_path / "doc.json"
    save_graph(load_graph("lenet5").graph, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644, "not the private mode of a temporary file"
    path.chmod(0o664)
    save_graph(load_graph("lenet5").graph, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    with pytest.raises(GraphFileError, match="cannot write"):
        save(load_graph("lenet5").graph, tmp_path / "no" / "such" / "folder.json")


def test_copy_shares_nothing_with_the_original():
    g = rich_document()
    c = g.copy()
    c.meta["training"]["epochs"] = 99
    c.set_param("layer1", "out_channels", 8)
    assert g.meta["training"]["epochs"] == 3 and g.nodes["layer1"].params["out_channels"] == 16
    assert dumps(g.copy()) == dumps(g)


def test_meta_is_kept_as_plain_json_data():
    g = Graph()
    value = {"augment": ("hflip",), "lr": 0.1}
    g.apply(SetMeta("training", value))
    value["lr"] = 5  # the caller's object is not the document's
    assert g.meta["training"] == {"augment": ["hflip"], "lr": 0.1}
    assert loads(dumps(g)).meta == g.meta
