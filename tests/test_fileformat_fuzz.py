"""Thousands of broken documents: each one loads, or raises GraphFileError with a
message; nothing else escapes. Whatever loads is a sound document: it analyses
without raising and saves back to text that loads to the same bytes.

The mutations work on valid documents (the LeNet-5 preset, a document with user
and built-in composites, a two-network GAN with training defaults), both on the
parsed JSON (drop keys, wrong types, huge numbers, NaN, unicode, duplicate ids,
dangling edges, cycles, a newer version, deep nesting) and on the text itself
(truncation at random offsets, flipped and inserted characters)."""
from __future__ import annotations

import copy
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer import load_graph
from designer.graph import Graph
from designer.graph.errors import GraphFileError
from designer.graph.fileformat import dumps, loads
from tests.graphs import tiny_gan

SEEDED_MUTATIONS = 1500  # per document, deterministic, on top of hypothesis' own search


def composite_document() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [3, 32, 32], "name": "image"}, id="x")
    g.add_node("Conv2d", {"out_channels": 16, "padding": 1}, id="conv1", label="C1 ✓")
    g.add_node("ReLU", id="relu1")
    g.add_node("Residual", {"out_channels": 16, "repeat": 2}, id="layer1")
    g.add_node("Inception", {"c1x1": 4, "c3x3_reduce": 4, "c3x3": 8, "c5x5_reduce": 2, "c5x5": 4,
                             "pool_proj": 4}, id="inc")
    g.add_node("AdaptiveAvgPool2d", id="gap")
    g.add_node("Flatten", id="flat")
    g.add_node("Linear", {"out_features": 10}, id="fc")
    g.add_node("Output", {"name": "logits"}, id="y")
    g.chain("x", "conv1", "relu1", "layer1", "inc", "gap", "flat", "fc", "y")
    g.group(["conv1", "relu1"], "stem", node_id="stem")
    return g


def gan_document() -> Graph:
    g = tiny_gan()
    from designer.graph.model import SetMeta
    g.apply(SetMeta("training", {"task": "gan", "epochs": 2, "lr": 0.0002, "augment": ["hflip"]}))
    g.apply(SetMeta("title", "GAN — générateur"))
    return g


DOCUMENTS = {"lenet5": lambda: dumps(load_graph("lenet5").graph), "composites": lambda: dumps(composite_document()),
             "gan": lambda: dumps(gan_document())}

ODD_VALUES = [None, True, False, 0, -1, 1.5, 2 ** 31, 10 ** 30, 1e308, -1e308, float("nan"), float("inf"),
              "", "same", "x" * 300, "ü🙂\u202e", "a.b", "in", [], [1], [1, 2, 3, 4, 5], {}, {"a": 1},
              [[[[[]]]]], "\ud800"]


def check(text: str):
    """The property: GraphFileError with a message, or a sound document."""
    try:
        g = loads(text)
    except GraphFileError as exc:
        assert str(exc).strip(), "an error without a message"
        return "refused"
    a = g.analyze()
    assert isinstance(a.errors, list)
    saved = dumps(g)
    assert dumps(loads(saved)) == saved
    return "loaded"


# ---- mutations of the parsed document ---------------------------------------------------------

def paths(tree, prefix=()):
    """Every (container path) in the JSON tree, so a mutation can land anywhere."""
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from paths(v, prefix + (i,))


def at(tree, path):
    for p in path:
        tree = tree[p]
    return tree


def mutate_tree(doc: dict, rng: random.Random) -> str:
    doc = copy.deepcopy(doc)
    all_paths = list(paths(doc))
    kind = rng.choice(["drop", "retype", "retype", "duplicate_node", "dangling", "cycle", "version",
                       "nest", "unicode_key", "swap_edge", "huge_list"])
    path = rng.choice(all_paths[1:])
    parent, key = at(doc, path[:-1]), path[-1]
    if kind == "drop":
        del parent[key]
    elif kind == "retype":
        parent[key] = rng.choice(ODD_VALUES)
    elif kind == "duplicate_node" and isinstance(doc.get("nodes"), list) and doc["nodes"]:
        doc["nodes"].append(copy.deepcopy(rng.choice(doc["nodes"])))
    elif kind == "dangling" and isinstance(doc.get("edges", []), list):
        doc.setdefault("edges", []).append([f"ghost{rng.randint(0, 3)}.out", rng.choice(["c1.in", "y.in", "x.y.z"])])
    elif kind == "cycle" and isinstance(doc.get("nodes"), list) and isinstance(doc.get("edges"), list) \
            and len([n for n in doc["nodes"] if isinstance(n, dict) and "id" in n]) > 2:
        nodes = [n for n in doc["nodes"] if isinstance(n, dict) and "id" in n]  # earlier mutations may retype some
        a, b = rng.sample(range(len(nodes)), 2)
        doc["edges"].append([f"{nodes[max(a, b)]['id']}.out", f"{nodes[min(a, b)]['id']}.{rng.choice(['in', 'in2'])}"])
    elif kind == "version":
        doc["version"] = rng.choice([2, 99, 0, -1, "1", 1.0, None])
    elif kind == "nest":
        deep = []
        for _ in range(rng.choice([10, 200, 900])):
            deep = [deep]
        parent[key] = deep
    elif kind == "unicode_key" and isinstance(parent, dict):
        parent[rng.choice(["ü", "🙂", "", "id ", "\u0000"])] = parent.pop(key)
    elif kind == "swap_edge" and isinstance(doc.get("edges"), list) and doc["edges"]:
        e = rng.choice(doc["edges"])
        if isinstance(e, list) and len(e) == 2:
            e.reverse()
    elif kind == "huge_list":
        parent[key] = [rng.choice(ODD_VALUES[:6])] * rng.choice([3, 70])
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5, allow_nan=True)


# ---- mutations of the text ---------------------------------------------------------------------

def mutate_text(text: str, rng: random.Random) -> str:
    kind = rng.choice(["truncate", "flip", "insert", "delete", "repeat"])
    i = rng.randrange(len(text))
    if kind == "truncate":
        return text[:i]
    if kind == "flip":
        return text[:i] + rng.choice('{}[]",:.0-9eE\\ \n\u00e9\ud83d') + text[i + 1:]
    if kind == "insert":
        return text[:i] + rng.choice(["1" * 5000, "NaN", "-Infinity", "\\u0000", '"', "}", "[" * 3000,
                                      "1e999", '"\\ud800"']) + text[i:]
    if kind == "delete":
        return text[:i] + text[i + rng.randrange(1, 40):]
    return text[:i] + text[i:i + 200] + text[i:]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_seeded_mutations_load_or_raise_graph_file_error(name):
    text = DOCUMENTS[name]()
    doc = json.loads(text)
    rng = random.Random(f"fuzz-{name}")
    outcomes = {"refused": 0, "loaded": 0}
    for _ in range(SEEDED_MUTATIONS):
        mutated = mutate_tree(doc, rng) if rng.random() < 0.6 else mutate_text(text, rng)
        try:
            outcomes[check(mutated)] += 1
        except AssertionError:
            raise
        except Exception as exc:  # the point of the test: show the input that let it escape
            raise AssertionError(f"{type(exc).__name__}: {exc} escaped for {mutated[:2000]!r}") from exc
    assert outcomes["refused"] > SEEDED_MUTATIONS // 4 and outcomes["loaded"] > 20, outcomes


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.data_too_large])


@FUZZ
@given(name=st.sampled_from(sorted(DOCUMENTS)), seed=st.integers(0, 2 ** 32), steps=st.integers(1, 4))
def test_stacked_mutations_load_or_raise_graph_file_error(name, seed, steps):
    """Several mutations on top of each other, the seed chosen and shrunk by hypothesis."""
    text = DOCUMENTS[name]()
    rng = random.Random(seed)
    for _ in range(steps):
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's parser goes
            doc = None
        try:
            text = mutate_tree(doc, rng) if isinstance(doc, dict) and rng.random() < 0.6 else \
                mutate_text(text, rng) if text else text
        except RecursionError:  # a stacked 900-deep nest: deeper than this test's own tree walk goes
            text = mutate_text(text, rng) if text else text
    check(text)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@FUZZ
@given(name=st.sampled_from(sorted(DOCUMENTS)), data=st.data())
def test_any_json_value_anywhere_loads_or_raises(name, data):
    doc = json.loads(DOCUMENTS[name]())
    all_paths = list(paths(doc))[1:]
    path = data.draw(st.sampled_from(all_paths))
    at(doc, path[:-1])[path[-1]] = data.draw(JSON_VALUES)
    check(json.dumps(doc, allow_nan=True))


@FUZZ
@given(text=st.text(max_size=200))
def test_arbitrary_text_loads_or_raises(text):
    check(text)


def test_named_breakages_are_refused_with_the_place():
    base = json.loads(DOCUMENTS["lenet5"]())
    cases = {
        "unknown block": (lambda d: d["nodes"][3].update(type="Conv3d"), "nodes[3] (s2)"),
        "wrong parameter type": (lambda d: d["nodes"][1]["params"].update(kernel_size="five"), "nodes[1] (c1)"),
        "dangling edge": (lambda d: d["edges"].append(["c1.out", "nowhere.in"]), "edges[12]"),
        "duplicate id": (lambda d: d["nodes"].append(dict(d["nodes"][1])), "exists already"),
        "newer version": (lambda d: d.update(version=2), "newer"),
        "cycle": (lambda d: (d["edges"].remove(["c1.out", "c1_tanh.in"]), d["edges"].append(["c3.out", "c1_tanh.in"])),
                  "cycle"),
        "huge number": (lambda d: d["nodes"][1]["params"].update(out_channels=10 ** 30), "at most"),
        "NaN": (lambda d: d["nodes"][1]["params"].update(out_channels=float("nan")), "nodes[1] (c1)"),
        "unknown key": (lambda d: d["nodes"][0].update(colour="red"), "unknown key 'colour'"),
        "meta NaN": (lambda d: d["meta"]["training"].update(lr=float("nan")), "meta.training"),
        "bad input name": (lambda d: d["nodes"][0]["params"].update(name="my image"), "nodes[0] (input)"),
    }
    for what, (change, place) in cases.items():
        d = copy.deepcopy(base)
        change(d)
        with pytest.raises(GraphFileError) as err:
            loads(json.dumps(d, allow_nan=True))
        assert place in str(err.value), (what, str(err.value))
    with pytest.raises(GraphFileError, match="line 1, column"):
        loads("{ not json")
    with pytest.raises(GraphFileError, match="not valid JSON"):
        loads('{"version": ' + "9" * 5000 + "}")
    with pytest.raises(GraphFileError, match="nested too deeply"):
        loads("[" * 100000)
