"""The document's operations: each one undone by its inverse byte for byte, typed
refusals, one observer event per real change, and random edit sequences that
undo back to the very file they started from."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer import load_graph
from designer.graph import Edge, Graph, Node
from designer.graph.block import all_blocks
from designer.graph.events import EdgeAdded, EdgeRemoved, MetaChanged, NodeAdded, NodeChanged, NodeRemoved
from designer.graph.errors import (ConnectError, CycleError, DuplicateInputError, GraphError,
                                   NetworkMismatchError, ParamError, PortError)
from designer.graph.fileformat import dumps, loads
from tests.graphs import tiny_gan
from designer.graph.model import (AddNode, CompositeDef, Connect, Disconnect, RemoveNode, SetComposite, SetField,
                                  SetMeta, SetParam)


def undo(g: Graph, inverses):
    """Apply inverses as an undo stack would; returns the ops that redo."""
    if not isinstance(inverses, list):
        inverses = [inverses]
    return g.apply_all(inverses)


def small_net() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [3, 16, 16], "name": "image"}, id="x", pos=(0, 0))
    g.add_node("Conv2d", {"out_channels": 8, "padding": 1}, id="conv1", label="C1", pos=(200, 0))
    g.add_node("ReLU", id="relu1", pos=(400, 0))
    g.add_node("Conv2d", {"out_channels": 8, "padding": 1}, id="conv2", pos=(600, 0))
    g.add_node("Add", id="add", pos=(800, 0))
    g.add_node("Flatten", id="flat", pos=(1000, 0))
    g.add_node("Linear", {"out_features": 10}, id="fc", pos=(1200, 0))
    g.add_node("Output", {"name": "logits"}, id="y", pos=(1400, 0))
    g.chain("x", "conv1", "relu1", "conv2", "add", "flat", "fc", "y")
    g.connect("relu1", "add", dst_port="in2")
    return g


def gan() -> Graph:
    return tiny_gan(frozen_discriminator_head=False)


# ---- every op is undone exactly ------------------------------------------------------------------

def single_ops(g: Graph):
    """One op of every kind, each valid on `small_net()`."""
    return [
        AddNode(Node("extra", "Dropout", {"p": 0.3}, "drop", (5.0, 6.0)), 2),
        AddNode(Node("tail", "Sigmoid")),
        Disconnect(Edge("relu1", "out", "add", "in2")),
        Connect(Edge("conv1", "out", "add", "in2"), 0),
        SetParam("conv1", "kernel_size", [5, 3]),
        SetParam("conv1", "padding", "same"),
        SetParam("add", "num_inputs", 3),
        SetField("conv1", "label", "first convolution"),
        SetField("conv1", "pos", (12.5, -3)),
        SetField("conv1", "trainable", False),
        SetComposite("block", CompositeDef("block", small_net(), "a copy")),
        SetMeta("training", {"epochs": 3, "optimizer": "sgd"}),
        SetMeta("title", "small"),
    ]


@pytest.mark.parametrize("index", range(len(single_ops(Graph()))))
def test_each_op_is_undone_byte_for_byte(index):
    g = small_net()
    g.apply(SetMeta("title", "before"))
    if index == 3:  # that input must be free first
        g.apply(Disconnect(Edge("relu1", "out", "add", "in2")))
    before = dumps(g)
    op = single_ops(g)[index]
    inverse = g.apply(op)
    assert dumps(g) != before, f"{op} changed nothing"
    redo = g.apply(inverse)
    assert dumps(g) == before
    g.apply(redo)
    assert dumps(g) == dumps(_applied(index))


def _applied(index):
    g = small_net()
    g.apply(SetMeta("title", "before"))
    if index == 3:
        g.apply(Disconnect(Edge("relu1", "out", "add", "in2")))
    g.apply(single_ops(g)[index])
    return g


def test_remove_node_of_an_isolated_node_and_network_move_are_undone():
    g = small_net()
    g.add_node("Tanh", id="lonely")
    before = dumps(g)
    inv = [g.apply(SetField("lonely", "network", "other"))]
    inv.append(g.apply(RemoveNode("lonely")))
    undo(g, list(reversed(inv)))
    assert dumps(g) == before


def test_removing_nodes_with_their_edges_is_undone_in_place():
    g = small_net()
    before = dumps(g)
    inverses = g.remove_nodes(["relu1", "fc"])
    assert "relu1" not in g.nodes and not [e for e in g.edges if "relu1" in (e.src, e.dst)]
    undo(g, inverses)
    assert dumps(g) == before


def test_removing_a_node_that_still_has_edges_is_refused():
    g = small_net()
    with pytest.raises(GraphError, match="still has edges"):
        g.apply(RemoveNode("conv1"))


# ---- group and ungroup --------------------------------------------------------------------------

def _boundary_view(g: Graph):
    a = g.analyze()
    return a.output_shapes, a.total_params, a.weight_params, a.macs, a.errors


def test_group_with_external_edges_keeps_the_numbers_and_undoes_exactly():
    g = small_net()
    before, numbers = dumps(g), _boundary_view(g)
    inverses = g.group(["conv1", "relu1", "conv2"], "stem")
    node = next(n for n in g.nodes.values() if n.type == "stem")
    assert set(g.composites) == {"stem"}
    assert g.input_ports(node) == ("in",) and g.output_ports(node) == ("out", "out2")
    assert list(g.nodes).index(node.id) == 1, "the group takes its first member's place"
    assert _boundary_view(g) == numbers
    undo(g, inverses)
    assert dumps(g) == before
    assert _boundary_view(g) == numbers


def test_ungroup_of_a_user_group_is_undone_exactly():
    g = small_net()
    g.group(["conv1", "relu1", "conv2"], "stem", node_id="stem1")
    grouped, numbers = dumps(g), _boundary_view(g)
    inverses = g.ungroup("stem1")
    assert "stem" not in g.composites
    assert _boundary_view(g) == numbers
    assert list(g.nodes)[:4] == ["x", "conv1", "relu1", "conv2"]
    undo(g, inverses)
    assert dumps(g) == grouped


def test_grouping_the_boundary_or_across_networks_is_refused():
    g = small_net()
    with pytest.raises(GraphError, match="Input and Output"):
        g.group(["x", "conv1"], "bad")
    d = gan()
    with pytest.raises(GraphError, match="several networks"):
        d.group(["g_fc", "d_fc"], "bad")
    with pytest.raises(GraphError):
        g.group(["conv1"], "Conv2d")  # a built-in name
    assert dumps(g) == dumps(small_net()), "a refused group leaves no trace"


@pytest.mark.parametrize("block, params, shape", [
    ("Inception", {"c1x1": 64, "c3x3_reduce": 96, "c3x3": 128, "c5x5_reduce": 16, "c5x5": 32, "pool_proj": 32},
     [192, 28, 28]),
    ("Inception", {"c1x1": 8, "c3x3": 16, "c5x5": 4, "variant": "naive"}, [12, 9, 9]),
    ("Residual", {"out_channels": 128, "stride": 2}, [64, 56, 56]),
    ("Residual", {"out_channels": 64, "kind": "bottleneck"}, [64, 56, 56]),
    ("Residual", {"out_channels": 32, "shortcut": False, "batchnorm": False}, [32, 14, 14]),
])
def test_ungrouping_a_built_in_composite_keeps_shapes_and_counts(block, params, shape):
    g = Graph()
    g.add_node("Input", {"shape": shape}, id="x")
    g.add_node(block, params, id="block")
    g.add_node("ReLU", id="after")
    g.add_node("Output", id="y")
    g.chain("x", "block", "after", "y")
    before, numbers = dumps(g), _boundary_view(g)
    assert not numbers[-1]
    inverses = g.ungroup("block")
    assert "block" not in g.nodes and len(g.nodes) > 4
    assert all(n.type not in ("Inception", "Residual") for n in g.nodes.values())
    assert _boundary_view(g) == numbers
    assert list(g.nodes)[0] == "x" and list(g.nodes)[-2:] == ["after", "y"], "the inside takes the block's place"
    undo(g, inverses)
    assert dumps(g) == before


def test_ungroup_refusals():
    g = small_net()
    with pytest.raises(GraphError, match="not a composite"):
        g.ungroup("conv1")
    g.add_node("Residual", {"repeat": 2}, id="res")
    with pytest.raises(GraphError, match="repeat"):
        g.ungroup("res")
    g.set_param("res", "repeat", 1)
    with pytest.raises(GraphError, match="connect"):
        g.ungroup("res")


def test_ungroup_of_a_pass_through_group_joins_its_neighbours():
    """A group whose output is its input (after the others were removed inside) still ungroups."""
    inside = Graph()
    inside.add_node("Input", {"shape": [4], "name": "in"}, id="i")
    inside.add_node("Output", {"name": "out"}, id="o")
    inside.connect("i", "o")
    g = Graph()
    g.apply(SetComposite("wire", CompositeDef("wire", inside)))
    g.add_node("Input", {"shape": [4]}, id="x")
    g.add_node("wire", id="w")
    g.add_node("Linear", {"out_features": 2}, id="fc")
    g.chain("x", "w", "fc")
    before = dumps(g)
    inverses = g.ungroup("w")
    assert Edge("x", "out", "fc", "in") in g.edges
    undo(g, inverses)
    assert dumps(g) == before


# ---- typed refusals -----------------------------------------------------------------------------

def test_connect_refusals_are_typed():
    g = small_net()
    g.apply(Disconnect(Edge("relu1", "out", "add", "in2")))
    with pytest.raises(CycleError):
        g.connect("fc", "add", dst_port="in2")
    g.add_node("ReLU", id="lonely")
    with pytest.raises(CycleError):
        g.apply(Connect(Edge("lonely", "out", "lonely", "in")))
    with pytest.raises(DuplicateInputError, match="already connected"):
        g.apply(Connect(Edge("x", "out", "conv2", "in")))
    with pytest.raises(DuplicateInputError):
        g.apply(Connect(Edge("x", "out", "conv1", "in")))
    with pytest.raises(PortError, match="no input"):
        g.apply(Connect(Edge("x", "out", "fc", "weights")))
    with pytest.raises(PortError, match="no output"):
        g.apply(Connect(Edge("y", "out", "fc", "in")))
    with pytest.raises(PortError, match="no node"):
        g.apply(Connect(Edge("ghost", "out", "fc", "in")))
    with pytest.raises(DuplicateInputError, match="every input"):
        g.connect("x", "conv2")
    d = gan()
    d.apply(Disconnect(Edge("img", "out", "d_flat", "in")))
    with pytest.raises(NetworkMismatchError):
        d.connect("g_out", "d_flat")
    assert all(issubclass(t, ConnectError) for t in (CycleError, DuplicateInputError, PortError,
                                                      NetworkMismatchError))


def test_edit_refusals_name_the_problem():
    g = small_net()
    with pytest.raises(GraphError, match="exists already"):
        g.add_node("ReLU", id="conv1")
    for bad in ("2bad", "conv1\n", "a-b", "class", "forward", "x" * 65, ""):
        with pytest.raises(GraphError, match="valid node id"):
            g.apply(AddNode(Node(bad, "ReLU")))
    with pytest.raises(GraphError, match="unknown block"):
        g.add_node("Conv3d")
    with pytest.raises(ParamError):
        g.set_param("conv1", "out_channels", 0)
    with pytest.raises(ParamError):
        g.set_param("conv1", "kernel_size", "big")
    with pytest.raises(ParamError, match="no parameter"):
        g.set_param("conv1", "in_channels", 3)  # inferred, never typed
    g.set_param("add", "num_inputs", 3)
    g.connect("x", "add", dst_port="in3")
    with pytest.raises(ParamError, match="disconnect it first"):
        g.set_param("add", "num_inputs", 2)
    with pytest.raises(NetworkMismatchError):
        g.apply(SetField("conv1", "network", "other"))
    for field, value in (("pos", ("a", 1)), ("pos", (float("nan"), 0)), ("label", 5), ("trainable", "yes"),
                         ("network", ""), ("network", "a.b"), ("colour", "red")):
        with pytest.raises(GraphError):
            g.apply(SetField("relu1", field, value))
    with pytest.raises(GraphError, match="JSON"):
        g.apply(SetMeta("training", {"lr": float("nan")}))
    with pytest.raises(GraphError, match="JSON"):
        g.apply(SetMeta("training", object()))
    with pytest.raises(ParamError):
        g.set_param("x", "name", "not a name")
    with pytest.raises(TypeError):
        g.apply("not an op")


def test_set_composite_refuses_to_drop_connected_ports_or_a_used_definition():
    g = small_net()
    g.group(["conv1", "relu1", "conv2"], "stem", node_id="s")
    with pytest.raises(GraphError, match="in use"):
        g.apply(SetComposite("stem", None))
    plain = Graph()
    plain.add_node("Input", {"shape": [3, 16, 16], "name": "in"}, id="i")
    plain.add_node("Output", {"name": "out"}, id="o")
    plain.connect("i", "o")
    with pytest.raises(GraphError, match="out2"):
        g.apply(SetComposite("stem", CompositeDef("stem", plain)))
    with pytest.raises(GraphError):
        g.apply(SetComposite("not valid", CompositeDef("not valid", plain)))


# ---- observers ----------------------------------------------------------------------------------

def test_observers_hear_one_event_per_real_change():
    g = small_net()
    events = []
    unsubscribe = g.subscribe(events.append)
    g.set_param("conv1", "out_channels", 8)           # unchanged
    g.set_param("conv1", "kernel_size", 3)            # unchanged
    g.move("conv1", (200, 0))                         # unchanged
    g.apply(SetField("conv1", "label", "C1"))         # unchanged
    g.apply(SetMeta("nothing", None))                 # unchanged
    assert events == []
    g.set_param("conv1", "out_channels", 9)
    g.move("conv1", (1, 2))
    g.apply(SetMeta("title", "t"))
    conv1 = g.nodes["conv1"]
    assert events == [NodeChanged(conv1, "params", "out_channels"), NodeChanged(conv1, "pos", "pos"),
                      MetaChanged("title")]
    assert [e.moved_only for e in events[:2]] == [False, True]
    events.clear()
    inverses = g.remove_nodes(["fc"])
    assert [type(e) for e in events] == [EdgeRemoved, EdgeRemoved, NodeRemoved]
    events.clear()
    undo(g, inverses)
    assert [type(e) for e in events] == [NodeAdded, EdgeAdded, EdgeAdded]
    events.clear()
    with pytest.raises(ConnectError):
        g.connect("fc", "conv1", dst_port="in")
    assert events == [], "a refused edit is silent"
    unsubscribe()
    g.set_param("conv1", "out_channels", 10)
    assert events == []


def test_a_failing_compound_edit_rolls_back_and_reports_each_step():
    g = small_net()
    before = dumps(g)
    events = []
    g.subscribe(events.append)
    with pytest.raises(GraphError):
        g.apply_all([SetParam("conv1", "out_channels", 4), RemoveNode("conv2")])
    assert dumps(g) == before
    assert [type(e) for e in events] == [NodeChanged, NodeChanged], "the change and its rollback, nothing else"


def test_setting_a_value_to_its_canonical_twin_is_not_a_change():
    g = small_net()
    g.set_param("conv1", "kernel_size", 3)
    rev = g.nodes["conv1"].revision
    g.set_param("conv1", "kernel_size", 3.0)  # coerced to the same int
    assert g.nodes["conv1"].revision == rev
    g.set_param("conv1", "kernel_size", [3, 3])  # a pair is stored differently: a change
    assert g.nodes["conv1"].params["kernel_size"] == (3, 3) and g.nodes["conv1"].revision == rev + 1


# ---- random edit sequences ----------------------------------------------------------------------

BLOCK_TYPES = sorted(b.type for b in all_blocks() if b.type not in ("Input",))


def start_document() -> Graph:
    g = load_graph("lenet5").graph
    g.add_node("Residual", {"out_channels": 6}, id="res")
    g.add_node("Inception", {"c1x1": 4, "c3x3_reduce": 2, "c3x3": 4, "c5x5_reduce": 2, "c5x5": 4,
                             "pool_proj": 2}, id="inc")
    g.connect("c1_tanh", "res")
    g.connect("res", "inc")
    for net_node in gan().nodes.values():
        g.add_node(net_node.type, net_node.params, id=net_node.id, network=net_node.network)
    g.chain("z", "g_fc", "g_img", "g_out")
    return g


def sample_value(data, param):
    k = param.kind
    lo = int(param.min) if param.min is not None else 0
    hi = int(min(param.max if param.max is not None else 64, lo + 64))
    if k == "int":
        return data.draw(st.integers(lo, hi))
    if k == "float":
        return data.draw(st.floats(param.min or 0, min(param.max or 10, 10), allow_nan=False))
    if k == "bool":
        return data.draw(st.booleans())
    if k == "enum":
        return data.draw(st.sampled_from(param.choices))
    if k in ("pair", "padding"):
        extra = [st.just("same")] if k == "padding" else []
        return data.draw(st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=2, max_size=2),
                                   *extra))
    if k == "pad4":
        return data.draw(st.lists(st.integers(0, 4), min_size=4, max_size=4))
    if k == "shape":
        return data.draw(st.lists(st.integers(1, 8), min_size=1, max_size=3))
    return data.draw(st.sampled_from(["x", "y", "image", "z2"]))


def random_op(g: Graph, data):
    """Propose one edit; refused edits are part of the game (they must leave no trace)."""
    ids = list(g.nodes)
    kind = data.draw(st.sampled_from(["add", "remove", "connect", "disconnect", "param", "move", "label",
                                      "trainable", "group", "ungroup", "meta", "network"]))
    pick = (lambda: data.draw(st.sampled_from(ids))) if ids else (lambda: None)
    if kind == "add" or not ids:
        t = data.draw(st.sampled_from(BLOCK_TYPES))
        return lambda: [g.apply(AddNode(Node(g.new_id(t), t), data.draw(st.integers(0, len(g.nodes)))))]
    if kind == "remove":
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        return lambda: g.remove_nodes(chosen)
    if kind == "connect":
        taken = {(e.dst, e.dst_port) for e in g.edges}
        free = [(i, port) for i in ids for port in g.input_ports(i) if (i, port) not in taken]
        if free:  # a free input, fed from anywhere: cycles and network mismatches get refused
            (dst, port), src = data.draw(st.sampled_from(free)), pick()
            return lambda: [g.apply(Connect(Edge(src, (g.output_ports(src) or ("out",))[0], dst, port)))]
    if kind == "disconnect" and g.edges:
        e = data.draw(st.sampled_from(g.edges))
        return lambda: [g.apply(Disconnect(e))]
    if kind == "param":
        node = g.nodes[pick()]
        params = g.spec(node).params
        if params:
            p = data.draw(st.sampled_from(params))
            value = sample_value(data, p)
            return lambda: [g.apply(SetParam(node.id, p.name, value))]
    if kind == "move":
        nid = pick()
        pos = (data.draw(st.integers(-500, 500)) / 4, data.draw(st.integers(-500, 500)) / 4)
        return lambda: [g.move(nid, pos)]
    if kind == "label":
        nid, text = pick(), data.draw(st.text(max_size=12))
        return lambda: [g.apply(SetField(nid, "label", text))]
    if kind == "trainable":
        nid = pick()
        return lambda: [g.apply(SetField(nid, "trainable", not g.nodes[nid].trainable))]
    if kind == "network":
        nid, net = pick(), data.draw(st.sampled_from(["main", "generator", "critic"]))
        return lambda: [g.apply(SetField(nid, "network", net))]
    if kind == "group":
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True))
        name = f"group{len(g.composites) + data.draw(st.integers(0, 3))}"
        return lambda: g.group(chosen, name)
    if kind == "ungroup":
        comps = [i for i, n in g.nodes.items() if g.spec(n).is_composite]
        if comps:
            nid = data.draw(st.sampled_from(comps))
            return lambda: g.ungroup(nid)
    key = data.draw(st.sampled_from(["title", "notes", "training"]))
    value = data.draw(st.one_of(st.none(), st.text(max_size=8), st.dictionaries(st.text(max_size=3),
                                                                               st.integers(), max_size=2)))
    return lambda: [g.apply(SetMeta(key, value))]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_random_edits_undo_to_the_byte_identical_document(data):
    g = start_document()
    start = dumps(g)
    stack, states = [], [start]
    for _ in range(data.draw(st.integers(1, 12))):
        edit = random_op(g, data)
        before = dumps(g)
        try:
            inverses = edit()
        except GraphError:
            assert dumps(g) == before, "a refused edit must leave the document as it was"
            continue
        stack.append(inverses)
        states.append(dumps(g))
        assert loads(states[-1]) is not None  # every state the edits reach can be saved and read back
    redo_stack = []
    while stack:
        redo_stack.append(undo(g, stack.pop()))
        states.pop()
        assert dumps(g) == states[-1]
    assert dumps(g) == start
    fresh = loads(start).analyze()
    a = g.analyze()
    assert (a.total_params, a.output_shapes, a.errors) == (fresh.total_params, fresh.output_shapes, fresh.errors)
    while redo_stack:  # and redo goes forward again through the same states
        undo(g, redo_stack.pop())


@pytest.mark.parametrize("block, params", [
    ("Inception", {"variant": "reduced"}), ("Inception", {"variant": "naive"}),
    ("Residual", {"kind": "basic", "stride": 2}), ("Residual", {"kind": "bottleneck"}),
    ("Residual", {"kind": "basic", "shortcut": False}), ("Residual", {"kind": "bottleneck", "batchnorm": False}),
    ("Residual", {"out_channels": 32, "stride": 1}),
])
def test_generated_insides_pass_the_documents_own_checks(block, params):
    """The built-in composites draw their insides without the per-edit checks (for speed);
    what they draw must be a document the checked path accepts, edge for edge."""
    g = Graph()
    spec = g.spec(g.add_node(block, params, id="b"))
    inside = spec.expand(g.nodes["b"].params, {"in": (32, 14, 14)})
    checked = Graph()
    for name, definition in inside.composites.items():  # a Residual's projection (downsample.0, .1)
        checked.apply(SetComposite(name, definition))
    for node in inside.nodes.values():
        checked.add_node(node.type, node.params, id=node.id, pos=node.pos)
    for e in inside.edges:
        checked.apply(Connect(e))
    assert dumps(checked) == dumps(inside)
    assert checked.analyze().ok and inside.analyze().ok


def test_ungroup_renames_clashing_inner_ids_within_the_id_rules():
    g = Graph()
    long_id = "residual_block_with_a_rather_long_name_for_the_first_stage_x"
    g.add_node("Input", {"shape": [8, 8, 8]}, id="x")
    g.add_node("Conv2d", {"out_channels": 8, "padding": 1}, id="conv1")
    g.add_node("Residual", {"out_channels": 8}, id=long_id)
    g.add_node("Residual", {"out_channels": 8}, id="second")
    g.add_node("Output", id="y")
    g.chain("x", "conv1", long_id, "second", "y")
    numbers = _boundary_view(g)
    g.ungroup(long_id)
    g.ungroup("second")
    assert _boundary_view(g) == numbers
    assert all(len(i) <= 64 for i in g.nodes) and len(set(g.nodes)) == len(g.nodes)
    assert "second_conv1" in g.nodes and f"{long_id}_conv1"[:58] in g.nodes


def test_grouping_the_end_of_a_chain_keeps_the_network_result():
    """The grouped blocks were the network's output: the composite gets an output port for it,
    so analysis and the compiled module still return the same shape."""
    import torch
    from designer.compile import compile_graph
    g = load_graph("lenet5").graph
    before = g.analyze().output_shapes
    g.group(["f6", "f6_tanh", "output"], "Head")
    a = g.analyze()
    assert a.errors == []
    assert list(a.output_shapes.values()) == list(before.values()) == [(10,)]
    model = compile_graph(g)
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
