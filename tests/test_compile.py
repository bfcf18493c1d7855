"""The compiler: graph -> torch.fx.GraphModule. The analysis (pure arithmetic) must
agree with the module PyTorch builds: parameter counts per node and in total, and
every node's output shape in a real forward."""
import inspect

import pytest
import torch
from torch import fx, nn

from designer import load_graph
from designer.compile import CompileError, compile_graph
from designer.graph import GraphError, all_blocks
from designer.graph.model import Graph, SetField


# ---- graphs that, together, use every block type -----------------------------------------------

def vision_graph() -> Graph:
    """Convolutions, pooling, both built-in composites in every form, merges and the
    image-shaped layers; two outputs."""
    g = Graph()
    g.meta["title"] = "Every vision block"
    g.add_node("Input", {"shape": [3, 16, 16], "name": "image"}, id="input")
    g.add_node("ZeroPad2d", {"padding": 1}, id="pad")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3}, id="conv1", label="C1")
    g.add_node("BatchNorm", {}, id="bn1")
    g.add_node("ReLU", id="relu1")
    g.chain("input", "pad", "conv1", "bn1", "relu1")
    # a three-way skip
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1, "bias": False}, id="side_a")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": "same"}, id="side_b")
    g.add_node("Add", {"num_inputs": 3}, id="add3")
    g.chain("relu1", "side_a")
    g.chain("relu1", "side_b")
    g.connect("relu1", "add3")
    g.connect("side_a", "add3")
    g.connect("side_b", "add3")
    # U-Net's crop and concat: 8×16×16 with 8×12×12
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 5}, id="valid")
    g.add_node("Concat", {"num_inputs": 2, "crop": True}, id="crop_cat")
    g.chain("add3", "valid", "crop_cat")
    g.connect("add3", "crop_cat")
    g.add_node("MaxPool2d", {"kernel_size": 2}, id="pool1")
    g.add_node("Inception", {"c1x1": 4, "c3x3_reduce": 4, "c3x3": 6, "c5x5_reduce": 2, "c5x5": 3,
                             "pool_proj": 3}, id="inception_3a")
    g.add_node("LocalResponseNorm", {"size": 3}, id="lrn")
    g.add_node("Residual", {"out_channels": 12, "stride": 2}, id="layer2")
    g.add_node("Residual", {"out_channels": 4, "kind": "bottleneck", "repeat": 2}, id="layer3")
    g.add_node("Residual", {"out_channels": 16, "shortcut": False, "batchnorm": False}, id="plain")
    g.add_node("Inception", {"c1x1": 4, "c3x3": 4, "c5x5": 4, "variant": "naive"}, id="naive")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 1, "groups": 4}, id="grouped")
    g.add_node("Upsample", {"scale_factor": 2.0}, id="up")
    g.add_node("Upsample", {"scale_factor": 1.5, "mode": "bilinear"}, id="up_bilinear")
    g.add_node("ConvTranspose2d", {"out_channels": 4, "kernel_size": 2, "stride": 2}, id="upconv")
    g.add_node("LeakyReLU", {"negative_slope": 0.2}, id="leaky")
    g.add_node("ELU", id="elu")
    g.add_node("PReLU", {"per_channel": True}, id="prelu")
    g.add_node("AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, id="avg")
    g.add_node("Dropout2d", {"p": 0.1}, id="drop2d")
    g.add_node("AdaptiveAvgPool2d", {"output_size": 2}, id="gap")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": 10}, id="fc")
    g.add_node("Output", {"name": "logits"}, id="logits")
    g.chain("crop_cat", "pool1", "inception_3a", "lrn", "layer2", "layer3", "plain", "naive", "grouped", "up",
            "up_bilinear", "upconv", "leaky", "elu", "prelu", "avg", "drop2d", "gap", "flatten", "fc", "logits")
    g.add_node("Softmax", {}, id="probs")
    g.add_node("Output", {"name": "probabilities"}, id="probabilities")
    g.chain("fc", "probs", "probabilities")
    return g


def vae_graph() -> Graph:
    """Vectors: Linear, BatchNorm1d, Reparameterize, Reshape both ways, the squashing
    activations; three outputs."""
    g = Graph()
    g.meta["title"] = "Tiny VAE"
    g.add_node("Input", {"shape": [1, 8, 8], "name": "image"}, id="input")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": 32}, id="enc")
    g.add_node("BatchNorm", {}, id="enc_bn")
    g.add_node("GELU", {"approximate": "tanh"}, id="enc_act")
    g.add_node("Dropout", {"p": 0.2}, id="enc_drop")
    g.chain("input", "flatten", "enc", "enc_bn", "enc_act", "enc_drop")
    g.add_node("Linear", {"out_features": 6}, id="mu")
    g.add_node("Linear", {"out_features": 6}, id="logvar")
    g.add_node("Reparameterize", id="z")
    g.chain("enc_drop", "mu")
    g.chain("enc_drop", "logvar")
    g.connect("mu", "z", dst_port="mu")
    g.connect("logvar", "z", dst_port="logvar")
    g.add_node("Linear", {"out_features": 64, "bias": False}, id="dec")
    g.add_node("PReLU", {}, id="dec_act")
    g.add_node("Reshape", {"shape": [1, 8, 8]}, id="unflatten")
    g.add_node("Reshape", {"shape": [4, -1]}, id="regroup")
    g.add_node("Reshape", {"shape": [1, 8, 8]}, id="image_again")
    g.add_node("Sigmoid", id="pixels")
    g.add_node("Output", {"name": "reconstruction"}, id="reconstruction")
    g.chain("z", "dec", "dec_act", "unflatten", "regroup", "image_again", "pixels", "reconstruction")
    g.add_node("Tanh", id="mu_tanh")
    g.add_node("LogSoftmax", {}, id="mu_logp")
    g.add_node("Output", {"name": "mu_out"}, id="mu_out")
    g.add_node("Output", {"name": "logvar_out"}, id="logvar_out")
    g.chain("mu", "mu_tanh", "mu_logp", "mu_out")
    g.chain("logvar", "logvar_out")
    return g


def composite_graph() -> Graph:
    """A user's composite (made with Group) with two inputs and two outputs."""
    g = Graph()
    g.add_node("Input", {"shape": [4, 8, 8], "name": "left"}, id="left")
    g.add_node("Input", {"shape": [4, 8, 8], "name": "right"}, id="right")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, id="mix_conv")
    g.add_node("Add", {}, id="mix_add")
    g.add_node("ReLU", id="mix_relu")
    g.add_node("Conv2d", {"out_channels": 2, "kernel_size": 1}, id="head_a")
    g.add_node("Conv2d", {"out_channels": 3, "kernel_size": 1}, id="head_b")
    g.chain("left", "mix_conv", "mix_add", "mix_relu", "head_a")
    g.connect("right", "mix_add")
    g.chain("mix_relu", "head_b")
    g.add_node("Conv2d", {"out_channels": 1, "kernel_size": 1}, id="head_c")
    g.chain("mix_conv", "head_c")
    g.group(["mix_conv", "mix_add", "mix_relu"], "Mixer", node_id="mixer")
    return g


def gan_graph() -> Graph:
    g = Graph()
    g.add_node("Input", {"shape": [16], "name": "z"}, id="z", network="generator")
    g.add_node("Linear", {"out_features": 32 * 2 * 2}, id="g_fc", network="generator")
    g.add_node("Reshape", {"shape": [32, 2, 2]}, id="g_reshape", network="generator")
    g.add_node("ConvTranspose2d", {"out_channels": 1, "kernel_size": 4, "stride": 4}, id="g_up",
               network="generator")
    g.add_node("Tanh", id="g_tanh", network="generator")
    g.chain("z", "g_fc", "g_reshape", "g_up", "g_tanh")
    g.add_node("Input", {"shape": [1, 8, 8], "name": "image"}, id="image", network="discriminator")
    g.add_node("Conv2d", {"out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1}, id="d_conv",
               network="discriminator")
    g.add_node("LeakyReLU", {"negative_slope": 0.2}, id="d_act", network="discriminator")
    g.add_node("Flatten", id="d_flat", network="discriminator")
    g.add_node("Linear", {"out_features": 1}, id="d_fc", network="discriminator")
    g.chain("image", "d_conv", "d_act", "d_flat", "d_fc")
    return g


def imported_graph() -> Graph:
    """The blocks imported networks are made of: a squeeze-and-excitation gate, modern activations
    and norms, a transformer's class token, position embedding and attention, and the generic
    torch.nn layer and torch function blocks."""
    g = Graph()
    g.meta["title"] = "Imported blocks"
    g.add_node("Input", {"shape": [8, 8, 8], "name": "image"}, id="image")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}, id="stem")
    g.add_node("GroupNorm", {"num_groups": 4}, id="gn")
    g.add_node("SiLU", id="silu")
    g.add_node("AdaptiveMaxPool2d", {"output_size": 1}, id="squeeze")
    g.add_node("Conv2d", {"out_channels": 8, "kernel_size": 1}, id="excite")
    g.add_node("Hardsigmoid", id="gate")
    g.add_node("Multiply", {}, id="scale")
    g.chain("image", "stem", "gn", "silu", "squeeze", "excite", "gate")
    g.connect("silu", "scale")
    g.connect("gate", "scale")
    g.add_node("Hardswish", id="hswish")
    g.add_node("ReLU6", id="relu6")
    g.add_node("Identity", id="ident")
    g.add_node("TorchModule", {"layer": "nn.Identity", "kwargs": "{}"}, id="generic_layer")
    g.add_node("Reshape", {"shape": [8, 64]}, id="tokens_t")
    g.add_node("Permute", {"dims": [2, 1]}, id="tokens")            # 64 tokens × 8
    g.chain("scale", "hswish", "relu6", "ident", "generic_layer", "tokens_t", "tokens")
    g.add_node("Parameter", {"shape": [1, 8], "init_std": 0.02}, id="class_token")
    g.add_node("TorchFunction", {"function": "Tensor.expand", "args": '[{"in": 0}, {"batch": 1}, -1, -1]',
                                 "num_inputs": 2, "batch_from": 1}, id="expand")
    g.connect("class_token", "expand")
    g.connect("image", "expand")
    g.add_node("Concat", {}, id="with_class")    # along axis 1: 1 + 64 tokens
    g.connect("expand", "with_class")
    g.connect("tokens", "with_class")
    g.add_node("Parameter", {"shape": [65, 8], "init_std": 0.02}, id="pos_embedding")
    g.add_node("Add", {}, id="embed")
    g.connect("with_class", "embed")
    g.connect("pos_embedding", "embed")
    g.add_node("LayerNorm", {}, id="ln")
    g.add_node("MultiheadAttention", {"num_heads": 2}, id="attention")
    g.chain("embed", "ln")
    for port in ("query", "key", "value"):
        g.connect("ln", "attention", dst_port=port)
    g.add_node("Slice", {"index": "0"}, id="class_out")
    g.add_node("Mean", {"dims": [1]}, id="token_mean")
    g.chain("attention", "class_out")
    g.chain("attention", "token_mean")
    g.add_node("Add", {}, id="pooled")
    g.connect("class_out", "pooled")
    g.connect("token_mean", "pooled")
    g.add_node("Linear", {"out_features": 5}, id="head")
    g.add_node("Output", {"name": "logits"}, id="logits")
    g.chain("pooled", "head", "logits")
    return g


ALL_GRAPHS = {"vision": vision_graph, "vae": vae_graph, "composite": composite_graph, "gan": gan_graph,
              "imported": imported_graph}


def inputs_for(module: fx.GraphModule, batch: int = 2, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, *n.meta["shape"], generator=gen)
                 for n in module.graph.nodes if n.op == "placeholder")


def networks_of(graph: Graph, module) -> list[tuple[str, fx.GraphModule]]:
    if isinstance(module, nn.ModuleDict):
        return list(module.items())
    return [(graph.networks()[0], module)]


# ---- recording what a real forward produces ----------------------------------------------------

def _shape(value):
    if isinstance(value, torch.Tensor):
        return tuple(value.shape[1:])
    return tuple(_shape(v) for v in value)


class Recorder(fx.Interpreter):
    """Runs a compiled module node by node, keeping every node's output shape and, for
    composites, a Recorder per copy of the inside."""

    def __init__(self, gm):
        super().__init__(gm)
        self.shapes, self.inner = {}, {}

    def run_node(self, n):
        result = super().run_node(n)
        if "node_id" in n.meta and not n.meta.get("partial_sum"):
            self.shapes[n.meta["node_id"]] = _shape(result)
        return result

    def call_module(self, target, args, kwargs):
        sub = self.fetch_attr(target)
        copies = [sub] if isinstance(sub, fx.GraphModule) else \
            list(sub) if isinstance(sub, nn.Sequential) and isinstance(sub[0], fx.GraphModule) else None
        if copies is None:
            return super().call_module(target, args, kwargs)
        self.inner[target] = []
        for copy in copies:
            rec = Recorder(copy)
            out = rec.run(*args)
            self.inner[target].append(rec)
            args = (out,)
        return out


def check_against_analysis(graph: Graph, analysis, gm: fx.GraphModule, rec: Recorder,
                           network: str | None = None) -> int:
    """Asserts every node's analysed output shape and parameter count; returns how many
    nodes were checked (insides of composites included)."""
    checked = 0
    modules = dict(gm.named_children())
    for node_id in analysis.order:
        if graph.nodes[node_id].type == "Output" or network not in (None, graph.nodes[node_id].network):
            continue
        info, node = analysis.nodes[node_id], graph.nodes[node_id]
        ports = graph.output_ports(node_id)
        expected = info.out_shapes[ports[0]] if len(ports) == 1 else tuple(info.out_shapes[p] for p in ports)
        assert rec.shapes[node_id] == tuple(expected), (node_id, rec.shapes[node_id], expected)
        numel = sum(p.numel() for p in modules[node_id].parameters()) if node_id in modules else 0
        assert numel == info.params, (node_id, numel, info.params)
        checked += 1
        if info.inner:
            sub = modules[node_id]
            copies = [sub] if isinstance(sub, fx.GraphModule) else list(sub)
            assert len(copies) == len(info.inner) == len(rec.inner[node_id])
            inside = graph.spec(node_id).expand
            shapes = dict(info.in_shapes)
            for inner_analysis, copy, inner_rec in zip(info.inner, copies, rec.inner[node_id]):
                inner_graph = inside(node.params, shapes)
                checked += check_against_analysis(inner_graph, inner_analysis, copy, inner_rec)
                shapes = {next(iter(shapes)): next(iter(inner_analysis.output_shapes.values()))}
    return checked


# ---- analysis equals the module -----------------------------------------------------------------

def test_the_test_graphs_use_every_block_type():
    used = set()
    for build in ALL_GRAPHS.values():
        g = build()
        used |= {n.type for n in g.nodes.values()}
        for definition in g.composites.values():
            used |= {n.type for n in definition.graph.nodes.values()}
    missing = {spec.type for spec in all_blocks()} - used
    assert not missing, f"block types no compile test exercises: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(ALL_GRAPHS))
def test_analysis_equals_the_compiled_module(name):
    torch.manual_seed(0)
    graph = ALL_GRAPHS[name]()
    analysis = graph.analyze()
    assert analysis.ok, analysis.errors
    module = compile_graph(graph)
    assert sum(p.numel() for p in module.parameters()) == analysis.total_params
    assert sum(p.numel() for p in module.parameters() if p.requires_grad) == analysis.trainable_params
    checked = 0
    for network, gm in networks_of(graph, module):
        rec = Recorder(gm)
        with torch.no_grad():
            outputs = rec.run(*inputs_for(gm))
        checked += check_against_analysis(graph, analysis, gm, rec, network)
        names = [n for node_id, n in analysis.outputs if graph.nodes[node_id].network == network]
        prefix = f"{network}." if len(graph.networks()) > 1 else ""
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        assert [tuple(o.shape[1:]) for o in outputs] == [analysis.output_shapes[prefix + n] for n in names]
    assert checked >= len([n for n in graph.nodes.values() if n.type not in ("Output",)])


def test_meta_device_forward_matches_analysis_at_full_size():
    """The meta device builds and runs big networks without memory: analysis-only uses."""
    graph = vision_graph()
    analysis = graph.analyze((3, 224, 224))
    gm = compile_graph(graph, device="meta", input_shape=(3, 224, 224))
    assert all(p.is_meta for p in gm.parameters())
    rec = Recorder(gm)
    rec.run(torch.empty(8, 3, 224, 224, device="meta"))
    check_against_analysis(graph, analysis, gm, rec)


def test_meta_device_allocates_nothing():
    g = Graph()
    g.add_node("Input", {"shape": [100_000], "name": "x"}, id="x")
    g.add_node("Linear", {"out_features": 100_000}, id="huge")  # 10^10 weights: 40 GB as float32
    g.chain("x", "huge")
    gm = compile_graph(g, device="meta")
    assert gm.huge.weight.is_meta and gm.huge.weight.numel() == 10**10


def test_each_module_is_built_once(monkeypatch):
    from designer.graph.block import get_block
    calls = []
    for type_name in ("Conv2d", "BatchNorm", "ReLU", "Linear"):
        spec = get_block(type_name)
        monkeypatch.setattr(spec, "build", lambda p, ins, _b=spec.build, _t=type_name: calls.append(_t) or _b(p, ins))
    g = vision_graph()
    g.analyze()
    compile_graph(g)
    convs = [n for n in g.nodes.values() if n.type == "Conv2d"]
    # inside: Inception 6, naive Inception 3, layer2 2 + projection, layer3 (3 + projection) then 3, plain 2
    inside = 6 + 3 + (2 + 1) + (3 + 1) + 3 + 2
    assert calls.count("Conv2d") == len(convs) + inside
    assert calls.count("Linear") == 1


# ---- names, order, signature --------------------------------------------------------------------

def test_state_dict_keys_are_node_names():
    gm = compile_graph(vision_graph())
    keys = list(gm.state_dict())
    assert keys[:2] == ["conv1.weight", "conv1.bias"]
    assert "inception_3a.branch2.weight" in keys
    # the projection shortcut numbered as torchvision's nn.Sequential: downsample.0, downsample.1
    assert "layer2.downsample.0.weight" in keys and "layer2.downsample.1.running_mean" in keys
    assert "layer3.0.conv1.weight" in keys and "layer3.1.conv3.weight" in keys  # repeat: numbered copies
    assert not any(k.startswith("layer3.2.") for k in keys)


def test_registration_follows_document_order_not_execution_order():
    gm = compile_graph(vision_graph())
    residual = gm.layer2
    assert [name for name, _ in residual.named_children()] == \
        ["conv1", "bn1", "relu1", "conv2", "bn2", "downsample", "relu"]
    g = Graph()
    g.add_node("Linear", {"out_features": 3}, id="late")  # drawn first, runs last
    g.add_node("Input", {"shape": [4], "name": "x"}, id="x")
    g.add_node("Linear", {"out_features": 5}, id="early")
    g.chain("x", "early", "late")
    gm = compile_graph(g)
    assert list(dict(gm.named_children())) == ["late", "early"]
    assert list(gm.state_dict())[:2] == ["late.weight", "late.bias"]
    assert gm(torch.randn(2, 4)).shape == (2, 3)


def test_resnet18_takes_torchvision_weights_in_order():
    """What the presets rely on: registration order equals torchvision's, so a ResNet-18
    drawn from Residual blocks takes torchvision's state_dict values in order and then
    computes the same outputs."""
    torchvision = pytest.importorskip("torchvision")
    g = resnet18_graph(64)
    gm = compile_graph(g)
    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None).eval()
    ours, theirs = gm.state_dict(), reference.state_dict()
    assert len(ours) == len(theirs)
    assert [v.shape for v in ours.values()] == [v.shape for v in theirs.values()]
    gm.load_state_dict(dict(zip(ours, theirs.values())))
    gm.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(gm(x), reference(x), atol=1e-5, rtol=1e-4)


def resnet18_graph(size: int = 224) -> Graph:
    g = Graph()
    g.meta["title"] = "ResNet-18"
    g.add_node("Input", {"shape": [3, size, size], "name": "image"}, id="input")
    g.add_node("Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False}, id="conv1")
    g.add_node("BatchNorm", {}, id="bn1")
    g.add_node("ReLU", id="relu")
    g.add_node("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, id="maxpool")
    g.add_node("Residual", {"out_channels": 64, "repeat": 2}, id="layer1")
    chain = ["input", "conv1", "bn1", "relu", "maxpool", "layer1"]
    for i, c in ((2, 128), (3, 256), (4, 512)):
        g.add_node("Residual", {"out_channels": c, "stride": 2}, id=f"layer{i}_0")
        g.add_node("Residual", {"out_channels": c}, id=f"layer{i}_1")
        chain += [f"layer{i}_0", f"layer{i}_1"]
    g.add_node("AdaptiveAvgPool2d", {}, id="avgpool")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": 1000}, id="fc")
    g.chain(*chain, "avgpool", "flatten", "fc")
    return g


def test_forward_takes_the_input_names_and_returns_outputs_in_order():
    g = vae_graph()
    gm = compile_graph(g)
    assert list(inspect.signature(gm.forward).parameters) == ["image"]
    gm.eval()
    out = gm(torch.randn(3, 1, 8, 8))
    analysis = g.analyze()
    assert sorted(name for _, name in analysis.outputs) == ["logvar_out", "mu_out", "reconstruction"]
    assert isinstance(out, tuple) and [tuple(o.shape[1:]) for o in out] == \
        [analysis.output_shapes[name] for _, name in analysis.outputs]
    two = compile_graph(composite_graph())
    assert list(inspect.signature(two.forward).parameters) == ["left", "right"]


def test_code_reads_like_pytorch():
    code = compile_graph(load_graph("lenet5").graph).code
    assert "c1 = self.c1(image)" in code and "return output" in code
    vision = compile_graph(vision_graph())
    assert "torch.cat" in vision.inception_3a.code
    assert "+" in vision.layer2.code and "add = bn2 + downsample" in vision.layer2.code
    assert "add3 = add3_sum1 + side_b" in vision.code
    assert type(vision).__name__ == "EveryVisionBlock"


def test_lenet5_counts():
    gm = compile_graph(load_graph("lenet5").graph)
    assert sum(p.numel() for p in gm.parameters()) == 61706
    assert sum(p.numel() for n, p in gm.named_parameters() if n.endswith("weight")) == \
        (5 * 5) * 6 + (5 * 5 * 6) * 16 + (16 * 5 * 5) * 120 + 120 * 84 + 84 * 10 == 61470


def test_scripts_with_torchscript():
    for build in (vision_graph, vae_graph, composite_graph):
        gm = compile_graph(build()).eval()
        scripted = torch.jit.script(gm)
        x = inputs_for(gm)
        with torch.no_grad():
            a, b = gm(*x), scripted(*x)
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            torch.testing.assert_close(u, v)


# ---- several networks, frozen blocks, devices ---------------------------------------------------

def test_a_gan_document_compiles_to_a_module_dict():
    g = gan_graph()
    both = compile_graph(g)
    assert isinstance(both, nn.ModuleDict) and list(both) == ["generator", "discriminator"]
    assert type(both["generator"]).__name__ == "Generator"
    fake = both["generator"](torch.randn(5, 16))
    assert fake.shape == (5, 1, 8, 8)
    assert both["discriminator"](fake).shape == (5, 1)
    alone = compile_graph(g, network="discriminator")
    assert isinstance(alone, fx.GraphModule) and list(alone.state_dict())[0] == "d_conv.weight"
    with pytest.raises(CompileError, match="no network 'critic'"):
        compile_graph(g, network="critic")


def test_frozen_blocks_do_not_train():
    g = resnet18_graph(32)
    g.apply(SetField("conv1", "trainable", False))
    g.apply(SetField("layer1", "trainable", False))
    gm = compile_graph(g)
    assert not gm.conv1.weight.requires_grad
    assert not any(p.requires_grad for p in gm.layer1.parameters())
    assert gm.fc.weight.requires_grad
    assert sum(p.numel() for p in gm.parameters() if p.requires_grad) == g.analyze().trainable_params


def test_errors_refuse_with_the_node_messages():
    g = load_graph("lenet5").graph
    g.set_param("c5", "kernel_size", 7)
    with pytest.raises(CompileError) as caught:
        compile_graph(g)
    assert isinstance(caught.value, GraphError)
    assert [n for n, _ in caught.value.errors] == ["c5"]
    assert "c5" in str(caught.value) and "Traceback" not in str(caught.value)
    with pytest.raises(CompileError, match="empty"):
        compile_graph(Graph())


def test_a_node_named_like_a_module_method_is_refused_with_a_hint():
    g = Graph()
    g.add_node("Input", {"shape": [4], "name": "x"}, id="x")
    g.add_node("Linear", {"out_features": 2}, id="train")
    g.chain("x", "train")
    with pytest.raises(CompileError, match="rename"):
        compile_graph(g)


def test_unknown_or_missing_devices_are_one_line():
    with pytest.raises(CompileError, match="unknown device"):
        compile_graph(load_graph("lenet5").graph, device="tpu9")
    if not torch.cuda.is_available():
        with pytest.raises(CompileError, match="CUDA"):
            compile_graph(load_graph("lenet5").graph, device="cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_builds_directly_on_the_gpu():
    g = vision_graph()
    gm = compile_graph(g, device="cuda")
    assert all(p.is_cuda for p in gm.parameters())
    rec = Recorder(gm)
    with torch.no_grad():
        rec.run(torch.randn(2, 3, 16, 16, device="cuda"))
    check_against_analysis(g, g.analyze(), gm, rec)
