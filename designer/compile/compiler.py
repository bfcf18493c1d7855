"""Graph document -> torch.fx.GraphModule.

The fx graph is written directly from the document (no tracing): one
placeholder per Input block, one `call_module` per block that owns a module,
`a + b` for Add and `torch.cat` for Concat, and the Output blocks (or the
sinks) returned. Submodules and fx values are named after the node ids, so
`print(model.code)` reads like hand-written PyTorch and `state_dict` keys are
the names on the canvas (numbered ids, as an nn.Sequential's children, give
torchvision's `features.0.weight`). Composite blocks become nested GraphModules (a
`repeat` becomes an nn.Sequential of numbered copies).

Every fx node carries `meta` for the code export: node_id, type, label and
the analysed output shape.
"""
from __future__ import annotations

import keyword
import operator
import re
from contextlib import contextmanager

import torch
from torch import fx, nn

from designer.graph.analysis import analyze_inner
from .errors import CompileError, first_line
from .schedule import execution_order
from .transfer import load_matching, network_share

BOUNDARY = ("Input", "Output")


def compile_graph(graph, network: str | None = None, device=None, input_shape=None,
                  weights=None) -> nn.Module:
    """The network of `graph` as a torch.fx.GraphModule, built once, on `device`
    ("meta" builds the structure without allocating weights). A document with
    several networks gives an nn.ModuleDict of them unless `network` names one.
    `weights` (a state dict named as the whole document compiles, e.g. a Document's
    weights) are loaded into the layers whose names and shapes fit; the others keep
    their fresh initialisation."""
    networks = graph.networks()
    if network is not None and network not in networks:
        raise CompileError(f"there is no network {network!r}; this document holds {', '.join(networks)}")
    if not graph.nodes:
        raise CompileError("the document is empty")
    analysis = graph.analyze(input_shape)
    chosen = [network] if network is not None else networks
    errors = _errors(graph, analysis, chosen, networks)
    if errors:
        raise CompileError(errors)
    with _on_device(device) as dev:
        if len(chosen) == 1:
            module = build_network(graph, analysis, chosen[0], network_class_name(graph, chosen[0]))
        else:
            module = nn.ModuleDict()
            for net in chosen:
                if "." in net or hasattr(module, net):
                    raise CompileError(f"the network name {net!r} cannot name a module; rename it")
                module[net] = build_network(graph, analysis, net, network_class_name(graph, net))
    if weights and dev.type != "meta":
        share = network_share(weights, network) if network is not None and len(networks) > 1 else weights
        load_matching(module, share)
    return module


def _errors(graph, analysis, chosen, networks) -> list[tuple[str | None, str]]:
    if len(networks) == 1:
        return list(analysis.errors)
    members = {i for i, n in graph.nodes.items() if n.network in chosen}
    found = [(i, m) for i, m in analysis.errors if i is not None and i in members]
    for net in chosen:
        ids = {i for i, n in graph.nodes.items() if n.network == net}
        if not any(graph.nodes[i].type == "Input" for i in ids):
            found.append((None, f"network {net!r} has no Input block"))
        if not any(i in ids for i, _ in analysis.outputs):
            found.append((None, f"network {net!r} has no output"))
    return found


@contextmanager
def _on_device(device):
    """Modules are constructed inside `torch.device(...)`, so their weights are
    allocated once, where they will live (no CPU copy moved afterwards)."""
    try:
        dev = torch.device(device if device is not None else "cpu")
    except (RuntimeError, TypeError) as exc:
        raise CompileError(f"unknown device {device!r} ({first_line(exc)})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise CompileError("device 'cuda' asked for, but this machine has no usable CUDA GPU")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise CompileError("device 'mps' asked for, but this machine has no usable Apple GPU")
    try:
        with dev:
            yield dev
    except torch.OutOfMemoryError:
        raise CompileError(f"not enough memory on {dev} to build this network") from None


def network_class_name(graph, network: str) -> str:
    """LeNet-5 -> LeNet5: the class name shown by print(model) and the code export."""
    if len(graph.networks()) > 1:
        return camel_case(network, "Network")
    return camel_case(str(graph.meta.get("title") or ""), "Network")


def camel_case(text: str, fallback: str) -> str:
    words = [w for w in re.split(r"[^0-9A-Za-z]+", text) if w]
    name = "".join(w[0].upper() + w[1:] for w in words)
    if not name:
        return fallback
    if name[0].isdigit():
        name = fallback + name
    return name


# ---- one network (or one composite's inside) -------------------------------------------------

_GRAPH_MODULE_ATTRS: set[str] | None = None


def _reserved(name: str) -> bool:
    """Names a GraphModule already uses (train, eval, graph, code…) cannot name a submodule."""
    global _GRAPH_MODULE_ATTRS
    if _GRAPH_MODULE_ATTRS is None:
        probe = fx.GraphModule(nn.Module(), fx.Graph())
        _GRAPH_MODULE_ATTRS = set(dir(probe))
    return name in _GRAPH_MODULE_ATTRS


def _arg_name(name: str, node_id: str) -> str:
    """The forward() argument of an Input block: its `name`, made a Python name."""
    cleaned = re.sub(r"\W", "_", name or "")
    if cleaned.isidentifier() and not keyword.iskeyword(cleaned) and cleaned != "self":
        return cleaned
    return node_id if node_id.isidentifier() else f"input_{node_id}"  # a numbered Input: input_0


def build_network(graph, analysis, network: str | None, class_name: str) -> fx.GraphModule:
    """One GraphModule for the nodes of `network` (None: all nodes). The analysis
    must be free of errors for these nodes."""
    members = [i for i, n in graph.nodes.items() if network is None or n.network == network]
    member_set = set(members)
    incoming: dict[str, dict[str, object]] = {i: {} for i in members}
    for e in graph.edges:
        if e.dst in member_set:
            incoming[e.dst][e.dst_port] = e
    fxg = fx.Graph()
    root = nn.Module()
    values: dict[tuple[str, str], fx.Node] = {}
    multi_out: dict[str, fx.Node] = {}  # composites with several outputs: the tuple they return

    def value(node_id: str, port: str) -> fx.Node:
        if (node_id, port) not in values:  # one output of a multi-output composite, taken when first used
            source = multi_out[node_id]
            index = graph.output_ports(node_id).index(port)
            item = fxg.create_node("call_function", operator.getitem, (source, index), {},
                                   name=f"{node_id}_{port}")
            item.meta.update(node_id=f"{node_id}_{port}", type="output",
                             shape=analysis.nodes[node_id].out_shapes[port])
            values[(node_id, port)] = item
        return values[(node_id, port)]

    for node_id in members:  # forward()'s arguments, in document order
        node = graph.nodes[node_id]
        if node.type == "Input":
            ph = fxg.placeholder(_arg_name(node.params["name"], node_id))
            ph.meta.update(node_id=node_id, type="Input", label=node.label,
                           shape=analysis.nodes[node_id].out_shapes["out"], input_name=node.params["name"])
            values[(node_id, "out")] = ph

    for node_id in execution_order(graph, members):
        node = graph.nodes[node_id]
        if node.type in BOUNDARY:
            continue
        spec, info = graph.spec(node), analysis.nodes[node_id]
        args = [value(incoming[node_id][p].src, incoming[node_id][p].src_port) for p in spec.input_ports(node.params)]
        meta = dict(node_id=node_id, type=node.type, label=node.label)
        if node.type == "Add":
            result = args[0]
            for k, arg in enumerate(args[1:], 1):
                last = k == len(args) - 1
                result = fxg.create_node("call_function", operator.add, (result, arg), {},
                                         name=node_id if last else f"{node_id}_sum{k}")
                if not last:
                    result.meta["partial_sum"] = True
        elif node.type == "Concat" and not node.params["crop"]:
            result = fxg.create_node("call_function", torch.cat, (list(args), 1), {}, name=node_id)
        else:
            if _reserved(node_id):
                raise CompileError([(node_id, f"the name {node_id!r} is taken by torch.nn.Module; "
                                              "rename this block")])
            module = _build_module(graph, node, spec, info)
            if not node.trainable:
                module.requires_grad_(False)
            root.add_module(node_id, module)
            # merge layers (Concat with crop) take their inputs as one list
            call_args = (list(args),) if spec.functional else tuple(args)
            result = fxg.create_node("call_module", node_id, call_args, {}, name=node_id)
            if spec.is_composite:
                meta.update(composite=True, doc=spec.doc, params=dict(node.params))
        if len(spec.outputs) > 1:
            meta["shapes"] = tuple(info.out_shapes[p] for p in spec.outputs)
            multi_out[node_id] = result
        else:
            meta["shape"] = info.out_shapes[spec.outputs[0]]
            values[(node_id, spec.outputs[0])] = result
        result.meta.update(meta)

    results = []
    for node_id, _name in analysis.outputs:
        if node_id not in member_set:
            continue
        if graph.nodes[node_id].type == "Output":
            e = incoming[node_id]["in"]
            results.append(value(e.src, e.src_port))
        else:
            results.append(value(node_id, graph.output_ports(node_id)[0]))
    fxg.output(results[0] if len(results) == 1 else tuple(results))
    fxg.lint()
    gm = fx.GraphModule(root, fxg, class_name=class_name)
    # GraphModule copies submodules in execution order; registration follows the document
    # instead, so that state_dict order is the drawing's (presets copy torchvision weights in order).
    position = {node_id: i for i, node_id in enumerate(graph.nodes)}
    ordered = sorted(gm._modules.items(), key=lambda kv: position.get(kv[0], len(position)))
    gm._modules.clear()
    gm._modules.update(ordered)
    return gm


def _build_module(graph, node, spec, info) -> nn.Module:
    if spec.is_composite:
        return _build_composite(node, spec, info)
    try:
        module = spec.build(node.params, info.in_shapes)
    except (RuntimeError, ValueError, TypeError) as exc:
        if isinstance(exc, torch.OutOfMemoryError):
            raise
        # the analysis should have refused what torch refuses; say which block if it did not
        raise CompileError([(node.id, f"PyTorch refused this block: {first_line(exc)}")]) from None
    if module is None:
        raise CompileError([(node.id, f"{node.type} has no module to build")])
    return module


def _build_composite(node, spec, info) -> nn.Module:
    """The inside as its own GraphModule; `repeat` chains copies in an nn.Sequential
    (state_dict keys layer1.0.conv1.weight, layer1.1.conv1.weight, …)."""
    repeat = node.params.get("repeat", 1)
    shapes = dict(info.in_shapes)
    copies = []
    for _ in range(repeat):
        inside = spec.expand(node.params, shapes)
        inner = analyze_inner(inside, shapes)
        if inner.errors:  # the outer analysis reports these first; kept for safety
            raise CompileError([(node.id, f"inside, at {i}: {m}") for i, m in inner.errors])
        copies.append(build_network(inside, inner, None, camel_case(spec.title or spec.type, "Block")))
        if len(shapes) == 1 and len(inner.output_shapes) == 1:
            shapes = {next(iter(shapes)): next(iter(inner.output_shapes.values()))}
    return copies[0] if repeat == 1 else nn.Sequential(*copies)
