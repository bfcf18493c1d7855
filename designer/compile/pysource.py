"""The Python source export: one standalone file, importing only torch, with a
`class <Name>(nn.Module)` per network that reads like torchvision's resnet.py
or googlenet.py: layers declared in `__init__` in the order they run, a
`forward` with `# N x 480 x 14 x 14` shape comments, and a class per kind of
composite block (Inception, Residual) whose differing sizes become `__init__`
arguments.

It is written from the compiled module (built on the meta device, so nothing
is allocated): attribute names, layer order and constructor arguments are those
of `compile_graph(graph)`, so the exported class has the same state_dict keys and,
given the same weights, computes the same outputs.
"""
from __future__ import annotations

import inspect
import keyword
import operator
import textwrap
from dataclasses import dataclass, field

import torch
from torch import fx, nn

from .constructors import SUPPORT_SOURCE, Arg, Call, constructor, render_value
from .errors import ExportError

LINE = 100
INPUT_ARGS = ("in_channels", "in_features", "num_features", "num_parameters")


# ---- the forward of one GraphModule ----------------------------------------------------------

@dataclass
class Statement:
    code: str
    shape: str | None = None  # "N x 6 x 28 x 28"


def shape_text(shape) -> str:
    return " x ".join(["N"] + [str(d) for d in shape])


def _is_add(n: fx.Node) -> bool:
    return n.op == "call_function" and n.target is operator.add


def _safe(name: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    if name[:1].isdigit():  # a numbered child (features.0): _0, as torch.fx names it
        name = "_" + name
    if not name.isidentifier() or keyword.iskeyword(name) or name in ("self", "torch", "nn"):
        name = name + "_"
    return name


def forward_source(gm: fx.GraphModule) -> tuple[list[str], list[Statement], int]:
    """(argument names, statements, number of results). Chains read `x = self.conv(x)`
    as torchvision writes them; a value that is needed again later keeps its node's name."""
    nodes = list(gm.graph.nodes)
    position = {n: i for i, n in enumerate(nodes)}
    last_use = {n: max((position[u] for u in n.users), default=-1) for n in nodes}
    names: dict[fx.Node, str] = {}

    def live_after(i: int) -> set[str]:
        return {names[m] for m in names if last_use[m] > i}

    def fresh(n: fx.Node, i: int) -> str:
        ins = [m for m in n.all_input_nodes]
        free = "x" not in live_after(i)
        if len(ins) == 1 and len(ins[0].users) == 1 and (names.get(ins[0]) == "x" or
                                                          (ins[0].op == "placeholder" and free)):
            return "x"
        if len(ins) >= 2 and free:
            return "x"
        base = _safe(str(n.meta.get("node_id", n.name)))
        name, k, live = base, 1, live_after(i)
        while name in live:
            k += 1
            name = f"{base}_{k}"
        return name

    def expr(n: fx.Node) -> str:
        if _is_add(n) and n.meta.get("partial_sum"):
            a, b = n.args
            return f"{expr(a)} + {expr(b)}"
        return names[n]

    args, body, results = [], [], 1
    for i, n in enumerate(nodes):
        if n.op == "placeholder":
            names[n] = n.target
            args.append(n.target)
            continue
        if n.op == "output":
            out = n.args[0]
            if isinstance(out, (tuple, list)):
                results = len(out)
                body.append(Statement("return " + ", ".join(expr(o) for o in out)))
            else:
                body.append(Statement(f"return {expr(out)}"))
            continue
        if n.op == "call_function" and n.target is operator.getitem:
            continue  # named with the unpacking at the call
        if _is_add(n) and n.meta.get("partial_sum"):
            continue  # written inside the full sum
        names[n] = fresh(n, i)
        shape = n.meta.get("shape")
        if n.op == "call_module":
            call_args = ", ".join(_arg_expr(a, expr) for a in n.args)
            call = f"{_attribute(n.target)}({call_args})"
            items = sorted((u for u in n.users if u.op == "call_function" and u.target is operator.getitem),
                           key=lambda u: u.args[1])
            if "shapes" in n.meta:  # several outputs: unpack them
                slots = ["_"] * len(n.meta["shapes"])
                for u in items:
                    names[u] = _safe(str(u.meta.get("node_id", u.name)))
                    slots[u.args[1]] = names[u]
                body.append(Statement(f"{', '.join(slots)} = {call}",
                                      "; ".join(shape_text(s) for s in n.meta["shapes"])))
                continue
            body.append(Statement(f"{names[n]} = {call}", shape_text(shape) if shape else None))
        elif _is_add(n):
            a, b = n.args
            body.append(Statement(f"{names[n]} = {expr(a)} + {expr(b)}", shape_text(shape) if shape else None))
        elif n.op == "call_function" and n.target is torch.cat:
            tensors, dim = n.args
            body.append(Statement(f"{names[n]} = torch.cat([{', '.join(expr(t) for t in tensors)}], {dim})",
                                  shape_text(shape) if shape else None))
        else:
            raise ExportError(f"the Python export cannot write the operation {n.op} {n.target}")
    return args, body, results


def _attribute(name: str) -> str:
    """self.conv1, or getattr(self, "0") for a numbered child outside an nn.Sequential."""
    return f"self.{name}" if name.isidentifier() else f'getattr(self, "{name}")'


def _sequential_chain(gm: fx.GraphModule) -> bool:
    """Children named 0, 1, 2… called one after the other on the one input: an nn.Sequential,
    written as torchvision writes features and layer1."""
    nodes = [n for n in gm.graph.nodes]
    names = [name for name, _ in gm.named_children()]
    if not names or names != [str(i) for i in range(len(names))] or len(nodes) != len(names) + 2:
        return False
    placeholder, calls, output = nodes[0], nodes[1:-1], nodes[-1]
    previous = placeholder
    for k, n in enumerate(calls):
        if n.op != "call_module" or n.target != str(k) or n.args != (previous,) or n.kwargs:
            return False
        previous = n
    return placeholder.op == "placeholder" and output.args == (previous,)


def _arg_expr(a, expr) -> str:
    if isinstance(a, (list, tuple)):
        return "[" + ", ".join(expr(x) for x in a) + "]"
    return expr(a)


# ---- classes shared by several composite instances --------------------------------------------

@dataclass
class Instance:
    """One composite GraphModule met in the network."""
    gm: fx.GraphModule
    children: list[tuple[str, object, str]]  # attribute, Call or Instance, label
    args: list[str]
    body: list[Statement]
    results: int
    block_params: dict = field(default_factory=dict)  # the composite node's own parameters
    template: "Template | None" = None
    call: Call | None = None


@dataclass
class Template:
    base: str
    doc: str
    key: tuple
    instances: list[Instance] = field(default_factory=list)
    name: str = ""
    params: list[tuple[str, str]] = field(default_factory=list)   # (name, annotation)
    substitute: dict[tuple, str] = field(default_factory=dict)    # leaf path -> parameter name


def _skeleton(v):
    if isinstance(v, Instance):
        return ("instance", id(v.template))
    if isinstance(v, Call):
        return (v.func, tuple((a.name, a.keyword, _skeleton(a.value)) for a in v.args))
    return None


def _leaves(v, path: tuple):
    """(path, argument name, value) for every literal inside a constructor call."""
    if isinstance(v, Instance):
        v = v.call
    if isinstance(v, Call):
        for i, a in enumerate(v.args):
            if isinstance(a.value, (Call, Instance)):
                yield from _leaves(a.value, path + (i,))
            else:
                yield path + (i,), a.name, a.value
        return


def _camel(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in str(text).replace("-", "_").split("_") if w)


def _annotation(v) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", tuple: "tuple"}.get(type(v), "object")


class SourceWriter:
    def __init__(self):
        self.templates: list[Template] = []
        self._by_key: dict[tuple, Template] = {}
        self.support: set[str] = set()

    # phase 1: walk the module tree, inner blocks first
    def child_value(self, module: nn.Module, node: fx.Node | None):
        if isinstance(module, fx.GraphModule) and _sequential_chain(module):
            calls = {n.target: n for n in module.graph.nodes if n.op == "call_module"}
            return Call("nn.Sequential", [Arg(name, self.child_value(c, calls[name]), False)
                                          for name, c in module.named_children()])
        if isinstance(module, fx.GraphModule):
            meta = node.meta if node is not None else {}
            return self.instance(module, meta.get("doc", ""), meta.get("params", {}))
        if isinstance(module, nn.Sequential) and any(isinstance(c, fx.GraphModule) for c in module):
            return Call("nn.Sequential", [Arg(str(i), self.child_value(c, node), False)
                                          for i, c in enumerate(module)])
        call = constructor(module)
        self._note_support(call)
        return call

    def _note_support(self, call: Call):
        if call.func in SUPPORT_SOURCE:
            self.support.add(call.func)
        for a in call.args:
            if isinstance(a.value, Call):
                self._note_support(a.value)

    def children_of(self, gm: fx.GraphModule) -> list[tuple[str, object, str]]:
        calls = {n.target: n for n in gm.graph.nodes if n.op == "call_module"}
        out = []
        for attr, module in gm.named_children():
            node = calls.get(attr)
            out.append((attr, self.child_value(module, node), node.meta.get("label", "") if node is not None else ""))
        return out

    def instance(self, gm: fx.GraphModule, doc: str, block_params: dict) -> Instance:
        children = self.children_of(gm)
        args, body, results = forward_source(gm)
        inst = Instance(gm, children, args, body, results, dict(block_params))
        key = (type(gm).__name__, tuple(args), tuple(s.code for s in body),
               tuple((attr, _skeleton(v)) for attr, v, _ in children))
        template = self._by_key.get(key)
        if template is None:
            template = Template(type(gm).__name__, doc, key)
            self._by_key[key] = template
            self.templates.append(template)
        template.instances.append(inst)
        inst.template = template
        return inst

    # phase 2: decide class names and arguments, inner templates first
    def finish(self, taken: set[str]):
        used = set(taken)
        first_of_base: dict[str, Template] = {}
        for t in self.templates:
            t.name = self._class_name(t, first_of_base, used)
            used.add(t.name)
            self._parametrise(t)

    def _class_name(self, t: Template, first_of_base: dict, used: set[str]) -> str:
        """Inception, then InceptionNaive; Residual, ResidualBottleneck, ResidualDownsample…:
        a later form of a block is named by the setting or the layer that sets it apart."""
        if t.base not in first_of_base:
            first_of_base[t.base] = t
            name = t.base
        else:
            first, this = first_of_base[t.base].instances[0], t.instances[0]
            suffix = ""
            for key, value in this.block_params.items():
                if value != first.block_params.get(key) and isinstance(value, (str, bool)):
                    suffix = _camel(value) if isinstance(value, str) else ("" if value else "No") + _camel(key)
                    break
            if not suffix:
                known = {attr for attr, _, _ in first.children}
                extra = [attr for attr, _, _ in this.children if attr not in known]
                suffix = _camel(extra[0]) if extra else ""
            name = t.base + suffix
        candidate, k = name, 2
        while candidate in used:
            candidate = f"{name}{k}"
            k += 1
        return candidate

    def _parametrise(self, t: Template):
        """Literals that differ between the instances become __init__ arguments; literals
        that differ in the same way everywhere (conv1's out_channels and bn1's num_features)
        share one argument, named after the block parameter that sets them when there is
        one (Inception's c1x1, c3x3_reduce…), else after the layer argument."""
        per_instance = [[leaf for attr, v, _ in inst.children for leaf in _leaves(v, (attr,))]
                        for inst in t.instances]
        first = per_instance[0]
        groups: dict[tuple, list[tuple]] = {}
        for k, (path, arg_name, _) in enumerate(first):
            values = tuple(leaves[k][2] for leaves in per_instance)
            if all(v == values[0] for v in values):
                continue
            groups.setdefault(values, []).append((path, arg_name))
        fed_by_input = self._children_fed_by_input(t.instances[0].gm)
        block_values = {}
        for name in t.instances[0].block_params:
            vector = tuple(inst.block_params.get(name) for inst in t.instances)
            if name != "repeat" and all(isinstance(v, int) and not isinstance(v, bool) for v in vector):
                block_values.setdefault(vector, name)
        names: list[str] = []
        for values, positions in groups.items():
            takes_input = any(arg in INPUT_ARGS and path[0] in fed_by_input for path, arg in positions)
            makes_output = any(arg in ("out_channels", "out_features") for _, arg in positions)
            if values in block_values:
                candidate = block_values[values]
            elif takes_input:
                candidate = "channels" if makes_output else (
                    "in_features" if any(arg == "in_features" for _, arg in positions) else "in_channels")
            else:
                path, arg = positions[0]
                everywhere = {(p, a) for p, a, _ in first if a == arg} <= set(positions)
                candidate = arg if everywhere and arg.isidentifier() else f"{path[0]}_{arg}"
            name, k = _safe(candidate), 2
            while name in names:
                name = f"{_safe(candidate)}_{k}"
                k += 1
            names.append(name)
            t.params.append((name, _annotation(values[0])))
            for path, _ in positions:
                t.substitute[path] = name
        for inst, leaves in zip(t.instances, per_instance):
            by_name = {}
            for path, _, value in leaves:
                if path in t.substitute:
                    by_name.setdefault(t.substitute[path], value)
            inst.call = Call(t.name, [Arg(name, by_name[name], False) for name, _ in t.params])

    @staticmethod
    def _children_fed_by_input(gm: fx.GraphModule) -> set[str]:
        return {n.target for n in gm.graph.nodes if n.op == "call_module"
                and any(a.op == "placeholder" for a in n.all_input_nodes)}

    # rendering
    def render_child(self, v, path: tuple, substitute: dict) -> str:
        if isinstance(v, Instance):
            v = v.call
        if isinstance(v, Call):
            parts = []
            for i, a in enumerate(v.args):
                p = path + (i,)
                text = substitute[p] if p in substitute else (
                    self.render_child(a.value, p, substitute) if isinstance(a.value, (Call, Instance))
                    else render_value(a.value))
                parts.append(f"{a.name}={text}" if a.keyword else text)
            return f"{v.func}({', '.join(parts)})"
        return render_value(v)

    def init_lines(self, children, substitute: dict) -> list[str]:
        lines = []
        for attr, v, label in children:
            text = self.render_child(v, (attr,), substitute)
            comment = f"  # {label}" if label and label != attr else ""
            if attr.isidentifier():
                lines += _wrap_assignment(f"self.{attr} = ", text, comment)
            else:  # a numbered child outside an nn.Sequential
                lines += _wrap_assignment(f'self.add_module("{attr}", ', text, comment, close=")")
        return lines


def _wrap_assignment(target: str, call: str, comment: str, close: str = "") -> list[str]:
    """One line when it fits, else one argument per line."""
    indent = " " * 8
    line = indent + target + call + close + comment
    if len(line) <= LINE:
        return [line]
    head, _, rest = call.partition("(")
    inner = rest[:-1]
    parts, depth, current = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        current += ch
    if current.strip():
        parts.append(current.strip())
    return ([indent + target + head + "(" + comment]
            + [indent + "    " + p + "," for p in parts]
            + [indent + ")" + close])


def _docstring(text: str, indent: str) -> list[str]:
    """Paragraphs wrapped to the line length; a paragraph indented by four spaces is code, kept as it is."""
    if not text:
        return []
    lines = []
    for para in text.strip("\n").split("\n\n"):
        if para.startswith("    "):
            lines += para.split("\n") + [""]
        else:
            lines += textwrap.wrap(para, width=LINE - len(indent) - 3) + [""]
    lines = lines[:-1]
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    return [f'{indent}"""{lines[0]}'] + [f"{indent}{ln}" if ln else "" for ln in lines[1:]] + [f'{indent}"""']


def _forward_lines(args: list[str], body_per_instance: list[list[Statement]], results: int,
                   input_shapes_per_instance: list[list[str]]) -> list[str]:
    """The forward method; shape comments only where every instance has the same shapes
    (a class shared by blocks of different sizes gets none, as torchvision's BasicBlock)."""
    ret = "torch.Tensor" if results == 1 else "tuple[" + ", ".join(["torch.Tensor"] * results) + "]"
    signature = ", ".join(["self"] + [f"{a}: torch.Tensor" for a in args])
    lines = [f"    def forward({signature}) -> {ret}:"]
    body = body_per_instance[0]
    same = all([st.shape for st in b] == [st.shape for st in body] for b in body_per_instance) and \
        all(shapes == input_shapes_per_instance[0] for shapes in input_shapes_per_instance)
    if same:
        for a, s in zip(args, input_shapes_per_instance[0]):
            lines.append(f"        # {a}: {s}" if len(args) > 1 else f"        # {s}")
    for st in body:
        lines.append("        " + st.code)
        if same and st.shape and not st.code.startswith("return"):
            lines.append(f"        # {st.shape}")
    return lines


def _class_lines(name: str, doc: str, params: list[tuple[str, str]], init: list[str],
                 forward: list[str]) -> list[str]:
    signature = ", ".join(["self"] + [f"{p}: {a}" for p, a in params])
    lines = [f"class {name}(nn.Module):"] + _docstring(doc, "    ")
    if len(lines) > 1:
        lines.append("")
    lines += [f"    def __init__({signature}) -> None:", "        super().__init__()"] + init + [""] + forward
    return lines


def _input_shapes(gm: fx.GraphModule) -> list[str]:
    return [shape_text(n.meta["shape"]) for n in gm.graph.nodes if n.op == "placeholder" and "shape" in n.meta]


def python_source(networks: list[tuple[fx.GraphModule, str]], title: str = "", source_name: str = "",
                  keys: list[str] | None = None) -> str:
    """The file's text. `networks`: (compiled GraphModule, class docstring) per network;
    `keys`: the networks' names in a several-network document (their weights' prefixes)."""
    writer = SourceWriter()
    roots = []
    for gm, doc in networks:
        children = writer.children_of(gm)
        args, body, results = forward_source(gm)
        roots.append((gm, doc, children, args, body, results))
    writer.finish({type(gm).__name__ for gm, _ in networks})
    what = title or "The network"
    origin = f" from {source_name}" if source_name else ""
    main = type(networks[0][0]).__name__
    if len(networks) == 1:
        usage = (f"    model = {main}()\n"
                 f"    model.load_state_dict(torch.load(\"weights.pt\", weights_only=True)[\"state_dict\"])")
    else:  # the weights file holds every network, each under its name
        usage = (f"    state = torch.load(\"weights.pt\", weights_only=True)[\"state_dict\"]\n"
                 f"    model = {main}()\n"
                 f"    model.load_state_dict({{k.split('.', 1)[1]: v for k, v in state.items()\n"
                 f"                           if k.startswith('{(keys or [''])[0]}.')}})")
    header = _docstring(
        f"{what} as plain PyTorch, written by Network Designer{origin}.\n\n"
        "Needs only torch. Build it, and load weights saved by the designer's state_dict export:\n\n"
        + usage, "")
    blocks = ["\n".join(header + ["import torch", "from torch import nn"])]
    for name in SUPPORT_SOURCE:   # our own layers the network uses, in a fixed order
        if name in writer.support:
            blocks += [inspect.getsource(obj).rstrip() for obj in SUPPORT_SOURCE[name]]
    for t in writer.templates:
        init = writer.init_lines(t.instances[0].children, t.substitute)
        inst = t.instances[0]
        forward = _forward_lines(inst.args, [i.body for i in t.instances], inst.results,
                                 [_input_shapes(i.gm) for i in t.instances])
        doc = t.doc
        if any(o is not t and o.base == t.base for o in writer.templates):
            doc = (doc + "\n\n" if doc else "") + "This form holds: " + \
                ", ".join(attr for attr, _, _ in inst.children) + "."
        blocks.append("\n".join(_class_lines(t.name, doc, t.params, init, forward)))
    for gm, doc, children, args, body, results in roots:
        init = writer.init_lines(children, {})
        forward = _forward_lines(args, [body], results, [_input_shapes(gm)])
        blocks.append("\n".join(_class_lines(type(gm).__name__, doc, [], init, forward)))
    return "\n\n\n".join(blocks) + "\n"
