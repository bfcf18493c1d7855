"""From blocks to a document: the source's module hierarchy becomes composites.

Plain containers (nn.Sequential, nn.ModuleList, nn.ModuleDict) are opened: their members join
the graph they sit in, named by their path (features_0). Any other module with structure
becomes one composite node whose inside holds everything below it (ResNet-50: stem layers,
16 bottlenecks and a head at the top), except a module that only holds a run of repeated
blocks (ViT's Encoder, whose `layers` are twelve EncoderBlocks): it is opened, so that each
repeated block is one composite. Composites whose insides are the same (types, settings and
wiring) share one definition, so that editing one edits all of them."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from torch import nn

from designer.graph.block import get_block
from designer.graph.errors import UnknownBlockError
from designer.graph.layout import layout_ops
from designer.graph.model import CompositeDef, Graph, SetComposite, valid_id
from .errors import ImportFailure

CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def _is_container(cls) -> bool:
    return cls in CONTAINERS


def choose_composites(scopes: list[tuple], module: nn.Module) -> set[str]:
    """The module paths that become composite nodes."""
    classes: dict[str, type] = {}
    children: dict[str, list[str]] = {}

    def add(path, cls):
        if path in classes:
            return
        classes[path] = cls
        parent = path.rpartition(".")[0]
        if parent and parent not in classes:
            # a module the source iterates over, never calls (MaxViT's ModuleLists of blocks and of
            # layers), is in no scope: it joins as what it is, a container where it cannot be found
            try:
                found = type(module.get_submodule(parent))
            except AttributeError:
                found = nn.ModuleList
            add(parent, found)
        children.setdefault(parent, []).append(path)

    for scope in scopes:
        for path, cls in scope:
            add(path, cls)
    chosen: set[str] = set()

    def repeats_inside(path) -> bool:
        """Holds a container whose members are all blocks of one class, two or more of them (the
        classes the source recorded; a member the scopes do not show, a leaf layer, breaks the run)."""
        for child in children.get(path, ()):
            if not _is_container(classes[child]):
                continue
            members = children.get(child, [])
            kinds = {classes[m] for m in members}
            try:
                held = len(list(module.get_submodule(child).children()))
            except AttributeError:   # a path the source named but does not hold
                held = len(members)
            if len(members) >= 2 and held == len(members) and len(kinds) == 1 and \
                    not _is_container(next(iter(kinds))):
                return True
        return False

    def visit(path):
        for child in children.get(path, ()):
            if _is_container(classes[child]) or repeats_inside(child):
                visit(child)
            else:
                chosen.add(child)
    visit("")
    return chosen


MOST_AXES = 4   # an Input block (a composite's inside included) holds 1 to 4 sizes besides the batch


class WideBoundary(Exception):
    """Composites a tensor of more axes than an Input block holds would enter: `paths`."""

    def __init__(self, paths: set[str]):
        self.paths = paths
        super().__init__(", ".join(sorted(paths)))


@dataclass
class _Box:
    """The top level or one composite's inside, while it is drawn."""
    path: str                                        # the module path it stands for ("" at the top)
    cls: type | None = None
    taken: set = field(default_factory=set)
    nodes: list = field(default_factory=list)       # (id, type, params, trainable) in running order
    edges: list = field(default_factory=list)       # (src id, src port, dst id, dst port)
    in_ports: dict = field(default_factory=dict)    # value key -> (inner Input id, port name)
    out_ports: dict = field(default_factory=dict)   # inner node id -> port name
    definition: str = ""


def _local_id(name: str, taken: set, reserved) -> str:
    base = re.sub(r"\W", "_", name).strip("_") or "block"
    if base[0].isdigit():
        base = "n" + base
    base = base[:56]
    if not valid_id(base) or reserved(base):
        base += "_"
    candidate, k = base, 1
    while candidate in taken:
        candidate = f"{base}_{k}"
        k += 1
    taken.add(candidate)
    return candidate


def build_document(blocks, inputs, outputs, producer_of, composites: set[str], reserved, title: str, shape_of):
    """The Graph and its weights. `inputs`: [(fx name, shape)]; `outputs`: the fx nodes returned;
    `producer_of(fx name)`: the fx name whose block (or Input) gives that value."""
    top = _Box("")
    boxes: dict[str, _Box] = {}
    where: dict[str, tuple[_Box, str]] = {}     # fx node name -> (box, node id)
    for name, shape in inputs:
        if not 1 <= len(shape) <= MOST_AXES:
            raise ImportFailure(f"an input of {len(shape)} axes besides the batch ({list(shape)}): "
                                f"a network drawn here takes 1 to {MOST_AXES}")
        nid = _local_id(name, top.taken, reserved)
        top.nodes.append((nid, "Input", {"shape": list(shape), "name": nid}, True))
        where[name] = (top, nid)
    weights: dict[str, object] = {}
    for block in blocks:
        box = top
        for path, cls in block.scope:
            if path in composites:
                if path not in boxes:
                    boxes[path] = _Box(path, cls)
                    top.nodes.append((_local_id(path.replace(".", "_"), top.taken, reserved), None, path, True))
                box = boxes[path]
                break
        rel = block.where if block.node.op in ("call_module", "get_attr") else block.name
        if box.path and rel.startswith(box.path + "."):
            rel = rel[len(box.path) + 1:]
        nid = _local_id(rel, box.taken, reserved)
        box.nodes.append((nid, block.type, block.params, block.trainable))
        where[block.node.name] = (box, nid)
        block.id = nid
        block.box = box
    composite_id = {params: nid for nid, kind, params, _ in top.nodes if kind is None}
    for block in blocks:
        prefix = block.id if block.box is top else f"{composite_id[block.box.path]}.{block.id}"
        for key, tensor in block.weights.items():
            weights[f"{prefix}.{key}"] = tensor

    def value_at(fx_name: str, box: _Box) -> tuple[str, str]:
        """(node id, port) in `box` giving fx node `fx_name`'s value, adding ports as needed."""
        key = producer_of(fx_name)
        src_box, src_id = where[key]
        if src_box is box:
            return src_id, "out"
        if box is top:   # out of a composite
            port = src_box.out_ports.get(src_id)
            if port is None:
                port = "out" if not src_box.out_ports else f"out{len(src_box.out_ports) + 1}"
                src_box.out_ports[src_id] = port
            return composite_id[src_box.path], port
        if key not in box.in_ports:   # into a composite: from wherever it is at the top
            port = "in" if not box.in_ports else f"in{len(box.in_ports) + 1}"
            box.in_ports[key] = (_local_id("input_" + port, box.taken, reserved), port, fx_name)
        return box.in_ports[key][0], "out"

    for block in blocks:
        ports = get_block(block.type).input_ports(block.params) if block.type else ()
        for port, src in zip(ports, block.inputs):
            s_id, s_port = value_at(src.name, block.box)
            block.box.edges.append((s_id, s_port, block.id, port))
    results = [value_at(node.name, top) for node in outputs]
    top_edges = []
    for box in boxes.values():   # the values each composite takes in, from the top
        for key, (iid, port, fx_name) in box.in_ports.items():
            s_id, s_port = value_at(fx_name, top)
            top_edges.append((s_id, s_port, composite_id[box.path], port))
    wide = {box.path for box in boxes.values()
            for _, _, fx_name in box.in_ports.values() if len(shape_of(fx_name)) > MOST_AXES}
    if wide:
        raise WideBoundary(wide)

    g = Graph()
    names: set = set()
    shared: dict[str, str] = {}
    for box in boxes.values():
        inside = _draw(box, shape_of)
        sig = _signature(inside)
        if sig not in shared:
            shared[sig] = _definition_name(box.cls.__name__, names)
            g.apply(SetComposite(shared[sig], CompositeDef(shared[sig], inside, _doc(box.cls, box.path))))
        box.definition = shared[sig]
    for nid, kind, params, trainable in top.nodes:
        if kind is None:
            g.add_node(boxes[params].definition, {}, id=nid)
        else:
            g.add_node(kind, params, id=nid, trainable=trainable)
    for k, (s_id, s_port) in enumerate(results):
        name = "out" if k == 0 else f"out{k + 1}"
        oid = _local_id(name, top.taken, reserved)
        g.add_node("Output", {"name": name}, id=oid)
        top_edges.append((s_id, s_port, oid, "in"))
    for s_id, s_port, d_id, d_port in top.edges + top_edges:
        g.connect(s_id, d_id, s_port, d_port)
    g.meta["title"] = title
    _place(g)
    return g, weights


def _draw(box: _Box, shape_of) -> Graph:
    inside = Graph()
    for key, (iid, port, fx_name) in box.in_ports.items():
        inside.add_node("Input", {"shape": list(shape_of(fx_name)), "name": port}, id=iid)
    for nid, kind, params, trainable in box.nodes:
        inside.add_node(kind, params, id=nid, trainable=trainable)
    for s_id, s_port, d_id, d_port in box.edges:
        inside.connect(s_id, d_id, s_port, d_port)
    for src_id, port in box.out_ports.items():
        oid = _local_id("output_" + port, box.taken, lambda n: False)
        inside.add_node("Output", {"name": port}, id=oid)
        inside.connect(src_id, oid)
    _place(inside)
    return inside


def _signature(g: Graph) -> str:
    body = [(n.id, n.type, sorted((k, repr(v)) for k, v in n.params.items() if not (n.type == "Input" and k == "shape")),
             n.trainable) for n in g.nodes.values()]
    return json.dumps([body, sorted(map(str, g.edges))])


def _definition_name(cls_name: str, taken: set) -> str:
    base = re.sub(r"\W", "_", cls_name).strip("_") or "Block"
    if base[0].isdigit():
        base = "B" + base
    try:
        get_block(base)
        base += "Block"
    except UnknownBlockError:
        pass
    name, k = base[:56], 2
    while name in taken or not valid_id(name):
        name = f"{base[:56]}_{k}"
        k += 1
    taken.add(name)
    return name


def _doc(cls, path) -> str:
    return f"{cls.__module__}.{cls.__name__}, imported from {path}"


def _place(g: Graph):
    for op in layout_ops(g):
        g.apply(op)


