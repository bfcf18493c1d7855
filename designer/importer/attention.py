"""Multi-head attention that an exporter took apart, put back together as one layer.

torch.onnx and torch.export record nn.MultiheadAttention as its arithmetic: the batch moved to
axis 1 (L×N×E), one packed input projection, the heads folded into the batch (N·heads × L × head
size), scaled dot products, softmax, the output projection, and the batch moved back. The
designer's values keep the batch first, and a reader wants one attention block, not thirty
tensor operations. This pass finds each part of a read GraphModule that ran inside an
nn.MultiheadAttention (the module scopes the exporter recorded, kept by the readers as
`SOURCE_STACK`), takes the projection weights from the tensors that part uses, and puts one
batch-first nn.MultiheadAttention call holding them in its place, after checking on random
inputs that the layer computes what the part computes (the number of heads, which tensors are
biases and which way a weight is stored are settled by that check). A part that cannot be put
back is refused in one sentence naming the module."""
from __future__ import annotations

import itertools
import operator

import torch
from torch import fx, nn

from .errors import ImportFailure, first_line
from .onnx_source import SOURCE_STACK, attr_path, in_attention, set_attr
from .trace import BATCHES, trace

_TRIES = 64     # weight, bias, head and input assignments checked per attention, at most


class _Refused(Exception):
    pass


def collapse_attention(gm: fx.GraphModule, input_shapes: list[tuple]) -> fx.GraphModule:
    """`gm` with every taken-apart nn.MultiheadAttention replaced by one batch-first call of it."""
    _unshare(gm)
    regions = _regions(gm)
    if not regions:
        return gm
    t = trace(gm, input_shapes)
    problems = []
    for path, enclosing, nodes in regions:
        try:
            _collapse(gm, t.runs, path, enclosing, nodes)
        except _Refused as exc:
            problems.append(f"{path} (nn.MultiheadAttention): cannot be imported because {exc}")
    if problems:
        raise ImportFailure(problems)
    gm.graph.lint()
    gm.recompile()
    return gm


def _attention_of(node) -> str | None:
    return next((path for path, cls in node.meta.get(SOURCE_STACK) or () if in_attention([(path, cls)])), None)


def _unshare(gm: fx.GraphModule):
    """An operation the exporter shares between two attention modules (torch.onnx computes
    x.transpose(0, 1) of one x once for both) is given to each, so each is whole on its own."""
    def copy_for(node, path, stack, made):
        if node not in made:
            inputs = {a: copy_for(a, path, stack, made) if _attention_of(a) == path else a
                      for a in node.all_input_nodes}
            with gm.graph.inserting_after(node):
                made[node] = gm.graph.node_copy(node, lambda a: inputs[a])
            made[node].meta = {**node.meta, SOURCE_STACK: stack}
        return made[node]

    for node in list(gm.graph.nodes):
        own = _attention_of(node)
        if own is None:
            continue
        made: dict = {}    # the other module's path -> {node: its copy for that module}
        for user in list(node.users):
            theirs = _attention_of(user)
            if theirs is not None and theirs != own:
                copy = copy_for(node, own, user.meta[SOURCE_STACK], made.setdefault(theirs, {}))
                user.replace_input_with(node, copy)


def _regions(gm: fx.GraphModule) -> list[tuple[str, list, list]]:
    """(module path, the scopes around it, its nodes in graph order) for each call of an
    nn.MultiheadAttention; two calls of one module are two connected parts of its nodes."""
    by_path: dict[str, list] = {}
    enclosing: dict[str, list] = {}
    for node in gm.graph.nodes:
        stack = node.meta.get(SOURCE_STACK) or ()
        for i, (path, cls) in enumerate(stack):
            if in_attention([(path, cls)]):
                by_path.setdefault(path, []).append(node)
                enclosing.setdefault(path, list(stack[:i]))
                break
    out = []
    for path, nodes in by_path.items():
        out.extend((path, enclosing[path], part) for part in _connected(nodes))
    return out


def _connected(nodes: list) -> list[list]:
    inside = set(nodes)
    parent = {n: n for n in nodes}

    def root(n):
        while parent[n] is not n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for n in nodes:
        for a in n.all_input_nodes:
            if a in inside:
                parent[root(a)] = root(n)
    parts: dict = {}
    for n in nodes:
        parts.setdefault(root(n), []).append(n)
    return list(parts.values())


def _with_its_constants(gm: fx.GraphModule, nodes: list) -> list:
    """`nodes` and the operations on weights alone that only they use (torch.onnx splits the
    packed projection of cross-attention outside the module's scope)."""
    inside = set(nodes)
    constant: dict = {}

    def of_weights(n) -> bool:
        if n not in constant:
            constant[n] = n.op == "get_attr" or (n.op in ("call_function", "call_method") and
                                                 bool(n.all_input_nodes) and
                                                 all(of_weights(a) for a in n.all_input_nodes))
        return constant[n]

    grown = True
    while grown:
        grown = False
        for n in list(inside):
            for a in n.all_input_nodes:
                if a not in inside and a.op != "get_attr" and of_weights(a) and all(u in inside for u in a.users):
                    inside.add(a)
                    grown = True
    return [n for n in gm.graph.nodes if n in inside]


def _collapse(gm: fx.GraphModule, runs, path: str, enclosing: list, nodes: list):
    nodes = _with_its_constants(gm, nodes)
    inside = set(nodes)
    externals = list(dict.fromkeys(a for n in nodes for a in n.all_input_nodes if a not in inside))
    results = [n for n in nodes if isinstance(runs[0].get(n.name), torch.Tensor) and
               any(u not in inside for u in n.users)]
    if len(results) != 1:
        raise _Refused("the network uses its attention weights, which the designer's attention block does not "
                       "give" if len(results) > 1 else "the network does not use its result")
    result = results[0]
    inputs = [e for e in externals if e.op != "get_attr" and isinstance(runs[0].get(e.name), torch.Tensor)]
    if not inputs:
        raise _Refused("it takes no tensor from the network")
    batched = [n for n in inputs if _batch_first(runs, n)]
    if not batched or not _batch_first(runs, result):
        raise _Refused("its inputs do not carry the batch on the first axis (batch_first=False); the designer's "
                       "attention block takes the batch first")
    if len(batched) < len(inputs) or any(runs[0][n.name].dim() != 3 for n in inputs):
        raise _Refused("it takes a mask (attn_mask or key_padding_mask), which the designer's attention block does "
                       "not apply")
    if len(inputs) > 3 or runs[0][result.name].dim() != 3:
        raise _Refused("it works on tensors other than sequences N×L×E")
    embed = runs[0][result.name].shape[-1]
    if any(runs[0][n.name].shape[-1] != embed for n in inputs):
        raise _Refused("its keys or values have another size than its queries (kdim, vdim), which is not read yet")
    want, given = _reference(gm, runs, nodes, externals, result, inputs)
    layer = _fit(gm, runs, nodes, externals, embed, want, given)
    if layer is None and _holds_a_mask(runs, [n for n in [*externals, *nodes]
                                              if n.op == "get_attr" or not _reaches_input(n)], embed):
        raise _Refused("it takes a mask (attn_mask or key_padding_mask), which the designer's attention block does "
                       "not apply")
    if layer is None:
        raise _Refused(f"no batch-first nn.MultiheadAttention({embed}, heads) without a mask, holding the tensors it "
                       "uses, computes what it computes")
    mha, order = layer
    _replace(gm, path, enclosing, nodes, result, [inputs[i] for i in order], mha)


def _holds_a_mask(runs, weights: list, embed: int) -> bool:
    """Whether the part uses a constant that is no projection weight or bias (a mask the
    exporter wrote into the file, or one made from the module's buffers)."""
    shapes = {(3 * embed, embed), (embed, 3 * embed), (embed, embed), (3 * embed,), (embed,)}
    values = [runs[0].get(n.name) for n in weights]
    return any(isinstance(v, torch.Tensor) and v.numel() > 1 and tuple(v.shape) not in shapes for v in values)


def _reaches_input(node) -> bool:
    """Whether a value depends on the network's input."""
    seen, todo = set(), [node]
    while todo:
        n = todo.pop()
        if n.op == "placeholder":
            return True
        if n not in seen:
            seen.add(n)
            todo.extend(n.all_input_nodes)
    return False


def _batch_first(runs, node) -> bool:
    small, big = runs[0][node.name], runs[1][node.name]
    return small.dim() > 0 and (small.shape[0], big.shape[0]) == BATCHES


def _reference(gm, runs, nodes, externals, result, inputs):
    """What the part computes on random inputs (the batch of the first shape run, sizes as that
    run gave them), and those inputs."""
    g = fx.Graph()
    env: dict = {}
    feed = []
    generator = torch.Generator().manual_seed(0)
    given = {}
    for e in externals:
        if e.op == "get_attr":
            env[e] = g.node_copy(e)
            continue
        env[e] = g.placeholder(f"in_{len(feed)}")
        value = runs[0][e.name]
        if isinstance(value, torch.Tensor):
            value = torch.randn(tuple(value.shape), generator=generator)
            given[e] = value
        feed.append(value)
    for n in nodes:
        env[n] = g.node_copy(n, lambda a: env[a])
    g.output(env[result])
    try:
        with torch.no_grad():
            want = fx.GraphModule(gm, g)(*feed)
    except Exception as exc:  # noqa: BLE001 - the region's own operations fail: say which
        raise _Refused(f"its operations cannot be run on their own ({first_line(exc)})") from None
    if not isinstance(want, torch.Tensor):
        raise _Refused("its result is not a tensor")
    return want, [given[n] for n in inputs]


def _tensors(gm, nodes, externals) -> tuple[list, list]:
    """(matrices, vectors) the part uses: a linear layer's weight as stored (out × in), a bare
    tensor both ways round (torch.onnx keeps some weights transposed for MatMul)."""
    matrices, vectors = [], []
    for n in nodes:
        if n.op == "call_module":
            m = gm.get_submodule(n.target)
            if isinstance(m, nn.Linear):
                matrices.append(m.weight.detach())
                if m.bias is not None:
                    vectors.append(m.bias.detach())
    for e in externals:
        if e.op == "get_attr":
            value = _attr(gm, e.target)
            if value.is_floating_point() and value.dim() == 2:
                matrices.extend([value.detach(), value.detach().t()])
            elif value.is_floating_point() and value.dim() == 1:
                vectors.append(value.detach())
    return matrices, vectors


def _heads(runs, nodes, embed: int) -> list[int]:
    """Head counts to try: those the part's own shapes suggest (N × heads × L × d, or N·heads
    folded), then every divisor of the embedding size."""
    seen = []
    for n in nodes:
        small, big = runs[0].get(n.name), runs[1].get(n.name)
        if not isinstance(small, torch.Tensor) or not isinstance(big, torch.Tensor) or small.dim() != big.dim():
            continue
        if small.dim() == 4 and (small.shape[0], big.shape[0]) == BATCHES:
            seen.append(small.shape[1])
        elif small.dim() == 3 and small.shape[0] % BATCHES[0] == 0 and \
                small.shape[0] // BATCHES[0] == big.shape[0] // BATCHES[1] and small.shape[0] != BATCHES[0]:
            seen.append(small.shape[0] // BATCHES[0])
    every = [h for h in range(1, embed + 1) if embed % h == 0]
    return list(dict.fromkeys(h for h in [*seen, *every] if embed % h == 0))


def _fit(gm, runs, nodes, externals, embed, want, given):
    """(an eval-mode nn.MultiheadAttention computing `want` from `given`, which input is query,
    key and value), or None."""
    matrices, vectors = _tensors(gm, nodes, externals)
    in_w = [m for m in matrices if tuple(m.shape) == (3 * embed, embed)]
    out_w = [m for m in matrices if tuple(m.shape) == (embed, embed)]
    in_b = [v for v in vectors if tuple(v.shape) == (3 * embed,)] + [None]
    out_b = [v for v in vectors if tuple(v.shape) == (embed,)] + [None]
    orders = {1: [(0, 0, 0)], 2: [(0, 1, 1), (0, 0, 1), (1, 0, 0), (1, 1, 0), (0, 1, 0), (1, 0, 1)],
              3: list(itertools.permutations(range(3)))}[len(given)]
    tolerance = 1e-4 * want.abs().max().item() + 1e-6
    choices = itertools.product(_heads(runs, nodes, embed), in_w, in_b, out_w, out_b, orders)
    for heads, wi, bi, wo, bo, order in itertools.islice(choices, _TRIES):
        mha = nn.MultiheadAttention(embed, heads, bias=bi is not None or bo is not None, batch_first=True)
        with torch.no_grad():
            mha.in_proj_weight.copy_(wi)
            mha.out_proj.weight.copy_(wo)
            if mha.in_proj_bias is not None:
                mha.in_proj_bias.copy_(bi if bi is not None else torch.zeros(3 * embed))
                mha.out_proj.bias.copy_(bo if bo is not None else torch.zeros(embed))
            got = mha.eval()(*(given[i] for i in order), need_weights=False)[0]
        if got.shape == want.shape and (got - want).abs().max().item() <= tolerance:
            return mha, order
    return None


def _replace(gm, path, enclosing, nodes, result, qkv, mha):
    """One call of `mha` at `path` where the part was; the part's layers and tensors go."""
    target = attr_path(path)
    modules = {n.target for n in nodes if n.op == "call_module"}
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    with gm.graph.inserting_after(max([result, *qkv], key=order.__getitem__)):
        call = gm.graph.call_module(target, tuple(qkv), {"need_weights": False})
        with gm.graph.inserting_after(call):
            value = gm.graph.call_function(operator.getitem, (call, 0))
    result.replace_all_uses_with(value)
    call.meta["nn_module_stack"] = {p: (p, c) for p, c in enclosing} | {target: (target, nn.MultiheadAttention)}
    value.meta["nn_module_stack"] = {p: (p, c) for p, c in enclosing}
    tensors = list(dict.fromkeys(a for n in nodes for a in n.all_input_nodes if a.op == "get_attr"))
    for n in reversed(nodes):
        if not n.users:
            gm.graph.erase_node(n)
    for e in tensors:
        if not e.users:
            gm.graph.erase_node(e)
            if not any(o.op == "get_attr" and o.target == e.target for o in gm.graph.nodes):
                _delete(gm, e.target)
    for name in modules:
        if not any(o.op == "call_module" and o.target == name and o is not call for o in gm.graph.nodes):
            _delete(gm, name)
    taken, k = target, 1
    while _has(gm, target):
        target = f"{taken}_{k}"
        k += 1
    if target != taken:
        call.target = target
        call.meta["nn_module_stack"] = {p: (p, c) for p, c in enclosing} | {target: (target, nn.MultiheadAttention)}
    set_attr(gm, target, mha)


def _attr(root, target: str):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _has(root, target: str) -> bool:
    try:
        _attr(root, target)
    except AttributeError:
        return False
    return True


def _delete(root, target: str):
    *parents, leaf = target.split(".")
    owner = _attr(root, ".".join(parents)) if parents else root
    delattr(owner, leaf)
