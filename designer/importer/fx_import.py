"""An nn.Module instance -> (Graph, weights, notes) through torch.fx."""
from __future__ import annotations

import operator

import torch
from torch import fx, nn

from designer.compile.compiler import _reserved
from .errors import ImportFailure
from .fx_convert import (ALIASES, Unmappable, absorbed_parameters, function_block, function_name_of, is_tensor,
                         layer_norm_block, module_block, parameter_block)
from .hierarchy import MOST_AXES, WideBoundary, build_document, choose_composites
from .trace import trace


def _scope(node: fx.Node, module: nn.Module, leaf: bool) -> tuple:
    stack = node.meta.get("nn_module_stack")
    if stack is not None and (stack or node.op != "call_module"):
        items = [(path, cls) for path, cls in stack.values()]
        return tuple(items[:-1] if leaf else items)
    if node.op in ("call_module", "get_attr"):
        parts = node.target.split(".")[:-1]
        out, path = [], ""
        for part in parts:
            path = f"{path}.{part}" if path else part
            owner = module.get_submodule(path)
            if node.op == "get_attr" and not any(True for _ in owner.children()):
                break   # a layer whose weights are read, not called (Swin's qkv): they belong to its caller
            out.append((path, type(owner)))
        return tuple(out)
    return ()


def _where(node: fx.Node, scope) -> str:
    inside = scope[-1][0] if scope else "the network"
    if node.op == "call_module":
        return f"layer {node.target}"
    if node.op == "call_method":
        return f"x.{node.target}(…) in {inside}"
    return f"{getattr(node.target, '__name__', node.target)}(…) in {inside}"


def import_module(module: nn.Module, input_shapes: list[tuple], title: str = "", copy: bool = True):
    """(graph, weights, notes). The weights are the module's own tensors, copied when `copy` (a
    live module of the caller's may change them later; one built for the import may not)."""
    t = trace(module, input_shapes)
    blocks, problems, notes = [], [], []
    alias: dict[str, str] = {}
    called: dict[str, int] = {}
    inputs, outputs = [], []
    absorbed = {id(a) for node in t.gm.graph.nodes for a in (absorbed_parameters(t, node) or ())}
    for node in t.gm.graph.nodes:
        if node.op == "placeholder":
            inputs.append((node.name, tuple(input_shapes[len(inputs)])))
            continue
        if node.op == "output":
            result = node.args[0]
            outputs = list(result) if isinstance(result, (tuple, list)) else [result]
            bad = [o for o in outputs if not is_tensor(t, o)]
            if bad:
                problems.append("the network returns something besides tensors, which a drawing cannot show")
            continue
        if not node.users or id(node) in absorbed:
            continue    # never used (the attention weights of `x, _ = attention(…)`), or held by a layer
        value = t.runs[0][node.name]
        if isinstance(value, torch.Tensor):
            pass
        elif isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
            continue    # taken apart by the getitem nodes that use it
        else:
            continue    # sizes and checks: folded into the arguments of the blocks that use them
        scope = _scope(node, module, node.op == "call_module")
        try:
            if node.op == "call_module":
                block = module_block(t, node, scope, node.args, node.kwargs)
                called[node.target] = called.get(node.target, 0) + 1
                if called[node.target] > 1 and block.weights:
                    notes.append(f"{node.target} is called {called[node.target]} times: each call is a block "
                                 "of its own, starting from the same weights")
            elif node.op == "get_attr":
                block = parameter_block(t, node, scope)
            elif absorbed_parameters(t, node):
                block = layer_norm_block(t, node, scope)
            elif node.op == "call_function" and node.target is operator.getitem and \
                    isinstance(node.args[0], fx.Node) and not is_tensor(t, node.args[0]):
                source = node.args[0]
                if source.op == "call_module":
                    if not isinstance(t.gm.get_submodule(source.target), nn.MultiheadAttention) or node.args[1] != 0:
                        raise Unmappable(f"only one result of {source.target} can be drawn")
                    block = module_block(t, source, _scope(source, module, True), source.args, source.kwargs)
                    block.node = node
                else:
                    block = function_block(t, node, scope, pick=node.args[1], source=source)
            else:
                name = function_name_of(node)
                if name in ALIASES:
                    alias[node.name] = node.args[0].name
                    continue
                if name == "torch.cat" and isinstance(node.args[0], (list, tuple)) and len(node.args[0]) == 1:
                    alias[node.name] = node.args[0][0].name     # joining one tensor gives it back
                    continue
                block = function_block(t, node, scope)
        except Unmappable as exc:
            problems.append(f"{_where(node, scope)}: cannot be imported because {exc}")
            continue
        if block.type == "TorchFunction":
            notes.append(f"{_where(node, scope)}: kept as a generic {block.params['function']} block")
        elif block.type == "TorchModule":
            notes.append(f"{_where(node, scope)}: kept as a generic {block.params['layer']} block")
        blocks.append(block)
    if problems:
        raise ImportFailure(problems)

    def producer_of(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    def shape_of(name: str) -> tuple:
        key = producer_of(name)
        shape = tuple(t.runs[0][key].shape)
        return shape if key in t.unbatched else shape[1:]

    composites = choose_composites([b.scope for b in blocks], module)
    while True:
        try:
            graph, weights = build_document(blocks, inputs, outputs, producer_of, composites, _reserved,
                                            title or type(module).__name__, shape_of)
            break
        except WideBoundary as exc:   # drawn as its layers in the graph around it instead
            composites -= exc.paths
            notes.extend(f"{path}: drawn as its layers, not as one block: a tensor of more than "
                         f"{MOST_AXES} axes besides the batch enters it" for path in sorted(exc.paths))
    analysis = graph.analyze()
    if analysis.errors:
        raise ImportFailure([f"{node_id or 'the network'}: {message}" for node_id, message in analysis.errors])
    unused = sum(p.numel() for p in module.parameters()) - _used_parameters(module, t.gm)
    if unused:
        notes.append(f"{unused:,} parameters of {type(module).__name__} take no part in its evaluation "
                     "(auxiliary heads used only in training, or layers never called): left out")
    weights = {k: v.detach().to("cpu", copy=copy) for k, v in weights.items()}
    return graph, weights, notes


def _used_parameters(module: nn.Module, gm: fx.GraphModule) -> int:
    """How many of the module's parameters the traced evaluation uses (each tensor once)."""
    seen: dict[int, int] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module":
            for p in gm.get_submodule(node.target).parameters():
                seen[id(p)] = p.numel()
        elif node.op == "get_attr":
            obj = gm
            for part in node.target.split("."):
                obj = getattr(obj, part)
            if isinstance(obj, nn.Parameter):
                seen[id(obj)] = obj.numel()
    return sum(seen.values())
