"""Exports: TorchScript that loads where only torch is installed, the standalone Python
source, weights files that restore graph and weights, ONNX, and the export command."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from designer import load_graph, save_graph
from designer.__main__ import main
from designer.compile import ExportError, compile_graph
from designer.compile.export import export, export_onnx, export_python, export_torchscript
from designer.graph.fileformat import dumps
from designer.graph.model import Graph
from test_compile import ALL_GRAPHS, gan_graph, inputs_for, resnet18_graph, vae_graph, vision_graph

ROOT = Path(__file__).resolve().parents[1]


def skip_and_inception_graph() -> Graph:
    """Skip connections (Residual, and an Add drawn by hand) and an Inception block."""
    g = Graph()
    g.meta["title"] = "Skip and Inception"
    g.add_node("Input", {"shape": [3, 24, 24], "name": "image"}, id="input")
    g.add_node("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, id="stem")
    g.add_node("ReLU", id="stem_relu")
    g.add_node("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, id="branch")
    g.add_node("Add", {}, id="skip")
    g.chain("input", "stem", "stem_relu", "branch", "skip")
    g.connect("stem_relu", "skip")
    g.add_node("Residual", {"out_channels": 24, "stride": 2}, id="layer1")
    g.add_node("Inception", {"c1x1": 8, "c3x3_reduce": 8, "c3x3": 12, "c5x5_reduce": 4, "c5x5": 6,
                             "pool_proj": 6}, id="inception_3a")
    g.add_node("AdaptiveAvgPool2d", {}, id="avgpool")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": 10}, id="fc")
    g.chain("skip", "layer1", "inception_3a", "avgpool", "flatten", "fc")
    return g


def trained_like(module: nn.Module, seed: int = 1) -> nn.Module:
    """Non-default weights and running statistics, so that equal outputs mean something."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=gen) * 0.5 + (0.5 if "running_var" in name else -0.25))
    return module.eval()


ONLY_TORCH = r"""
import sys
class NoDesigner:
    def find_spec(self, name, path=None, target=None):
        if name == "designer" or name.startswith("designer."):
            raise ImportError("designer is not importable here")
sys.meta_path.insert(0, NoDesigner())
repo = sys.argv.pop()
sys.path = [p for p in sys.path if p not in ("", ".", repo)]
try:
    import designer
except ImportError:
    pass
else:
    raise SystemExit("designer must not be importable")
import torch
model = torch.jit.load(sys.argv[1])
x = torch.load(sys.argv[2], weights_only=True)
with torch.no_grad():
    torch.save(model(x), sys.argv[3])
assert not any(m == "designer" or m.startswith("designer.") for m in sys.modules)
"""


def test_torchscript_loads_with_only_torch_and_gives_the_same_outputs(tmp_path):
    graph = skip_and_inception_graph()
    module = trained_like(compile_graph(graph))
    path = export_torchscript(module, tmp_path / "model.pt")
    x = torch.randn(3, 3, 24, 24)
    torch.save(x, tmp_path / "x.pt")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", "-c", ONLY_TORCH, str(path), str(tmp_path / "x.pt"),
                           str(tmp_path / "y.pt"), str(ROOT)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with torch.no_grad():
        expected = module(x)
    assert torch.allclose(torch.load(tmp_path / "y.pt", weights_only=True), expected, atol=1e-6)
    assert module.training is False


def run_python_export(path: Path):
    """Executes the file in a fresh namespace, as `python file.py` would."""
    text = path.read_text(encoding="utf-8")
    namespace = {"__name__": "exported"}
    exec(compile(text, str(path), "exec"), namespace)
    return text, namespace


def imported_modules(text: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add((node.module or "").split(".")[0])
    return found


def test_python_source_export_loads_the_state_dict_and_gives_equal_outputs(tmp_path):
    graph = skip_and_inception_graph()
    module = trained_like(compile_graph(graph))
    path = export_python(graph, tmp_path / "net.py")
    text, namespace = run_python_export(path)
    assert imported_modules(text) == {"torch"}
    assert "class SkipAndInception(nn.Module):" in text and "class Inception(nn.Module):" in text
    assert "# N x 24 x 12 x 12" in text  # torchvision-style shape comments
    rebuilt = namespace["SkipAndInception"]()
    assert sum(p.numel() for p in rebuilt.parameters()) == sum(p.numel() for p in module.parameters())
    rebuilt.load_state_dict(module.state_dict())  # strict: the same keys and shapes
    rebuilt.eval()
    x = torch.randn(2, 3, 24, 24)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), module(x))


@pytest.mark.parametrize("name", sorted(ALL_GRAPHS))
def test_python_source_export_covers_every_block(tmp_path, name):
    graph = ALL_GRAPHS[name]()
    compiled = compile_graph(graph)
    text, namespace = run_python_export(export_python(graph, tmp_path / f"{name}.py"))
    assert imported_modules(text) == {"torch"}
    networks = compiled.items() if isinstance(compiled, nn.ModuleDict) else [(None, compiled)]
    for _, module in networks:
        trained_like(module)
        rebuilt = namespace[type(module).__name__]().eval()
        rebuilt.load_state_dict(module.state_dict())
        x = inputs_for(module)
        with torch.no_grad():
            a, b = module(*x), rebuilt(*x)
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            assert torch.equal(u, v)


def test_python_export_shares_one_class_between_blocks_of_one_kind(tmp_path):
    g = resnet18_graph(32)
    text, namespace = run_python_export(export_python(g, tmp_path / "resnet.py"))
    assert text.count("class Residual") == 2  # with and without the projection shortcut
    assert "class ResidualDownsample(nn.Module):" in text
    assert "def __init__(self, in_channels: int, out_channels: int) -> None:" in text
    assert "self.layer1 = nn.Sequential(Residual(64), Residual(64))" in text
    model = namespace["ResNet18"]()
    assert sum(p.numel() for p in model.parameters()) == g.analyze().total_params


def test_state_dict_export_restores_graph_and_weights(tmp_path):
    graph = vision_graph()
    module = trained_like(compile_graph(graph))
    path = export(graph, tmp_path / "vision.pt", format="state_dict", module=module)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "network-designer-weights" and raw["graph"] == dumps(graph)
    assert list(raw["state_dict"]) == list(module.state_dict())
    restored = load_graph(path)
    assert dumps(restored.graph) == dumps(graph)
    again = restored.compile()
    for key, value in module.state_dict().items():
        assert torch.equal(again.state_dict()[key], value), key
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        for u, v in zip(module(x), again.eval()(x)):
            assert torch.equal(u, v)


def test_state_dict_export_of_a_gan_keeps_both_networks(tmp_path):
    graph = gan_graph()
    both = trained_like(compile_graph(graph))
    path = export(graph, tmp_path / "gan.pt", format="state_dict", module=both)
    restored = load_graph(path)
    generator = restored.compile(network="generator")
    assert torch.equal(generator.g_fc.weight, both["generator"].g_fc.weight)
    assert torch.equal(restored.compile()["discriminator"].d_fc.bias, both["discriminator"].d_fc.bias)


def test_torchscript_and_onnx_need_one_network(tmp_path):
    with pytest.raises(ExportError, match="choose one"):
        export(gan_graph(), tmp_path / "gan.pt")
    path = export(gan_graph(), tmp_path / "generator.pt", network="generator")
    assert torch.jit.load(str(path))(torch.randn(2, 16)).shape == (2, 1, 8, 8)


def test_onnx_has_a_dynamic_batch_and_computes_the_same(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from onnx.reference import ReferenceEvaluator
    graph = vae_graph()
    module = trained_like(compile_graph(graph))
    path = export(graph, tmp_path / "vae.onnx", module=module)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == [name for _, name in graph.analyze().outputs]
    for value in list(model.graph.input) + list(model.graph.output):
        batch = value.type.tensor_type.shape.dim[0]
        assert batch.dim_param and not batch.HasField("dim_value"), value.name
    x = torch.randn(5, 1, 8, 8)  # another batch size than the export's example
    with torch.no_grad():
        expected = module(x)
    got = ReferenceEvaluator(model).run(None, {"image": x.numpy()})
    for e, g in zip(expected, got):
        assert torch.allclose(torch.from_numpy(g), e, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vae.onnx"]  # no temporary left behind


def test_onnx_without_the_extra_says_how_to_get_it(tmp_path, monkeypatch):
    import designer.compile.export as exporting
    monkeypatch.setattr(exporting, "_onnx_available", lambda: False)
    with pytest.raises(ExportError, match=r"pip install 'network-designer\[onnx\]'"):
        export_onnx(compile_graph(vae_graph()), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_a_failed_export_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "model.pt"
    target.write_bytes(b"the previous export")

    real_write = Path.write_bytes

    def broken_write(self, data):   # the file is written from memory: half of it, then the disk fails
        real_write(self, data[: len(data) // 2])
        raise OSError("disk full")
    monkeypatch.setattr(Path, "write_bytes", broken_write)
    with pytest.raises(OSError):
        export_torchscript(compile_graph(load_graph("lenet5").graph), target)
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_meta_modules_have_no_weights_to_export(tmp_path):
    with pytest.raises(ExportError, match="meta"):
        export_torchscript(compile_graph(load_graph("lenet5").graph, device="meta"), tmp_path / "m.pt")


# ---- the command --------------------------------------------------------------------------------

def test_export_command_formats_by_suffix(tmp_path, capsys):
    assert main(["export", "lenet5", "-o", str(tmp_path / "lenet5.pt")]) == 0
    assert "torchscript" in capsys.readouterr().out
    scripted = torch.jit.load(str(tmp_path / "lenet5.pt"))
    assert scripted(torch.randn(1, 1, 32, 32)).shape == (1, 10)
    assert main(["export", "lenet5", "-o", str(tmp_path / "lenet5.py")]) == 0
    _, namespace = run_python_export(tmp_path / "lenet5.py")
    assert sum(p.numel() for p in namespace["LeNet5"]().parameters()) == 61706
    assert main(["export", "lenet5", "-o", str(tmp_path / "weights.pt"), "--format", "state_dict"]) == 0
    raw = torch.load(tmp_path / "weights.pt", weights_only=True)
    assert raw["graph"] == dumps(load_graph("lenet5").graph) and "c1.weight" in raw["state_dict"]


def test_export_command_input_override_and_weights(tmp_path, capsys):
    source = compile_graph(load_graph("lenet5").graph)
    trained_like(source)
    export(load_graph("lenet5").graph, tmp_path / "trained.pt", format="state_dict", module=source)
    # a weights file stands in for the document: the export carries the trained weights
    assert main(["export", str(tmp_path / "trained.pt"), "-o", str(tmp_path / "scripted.pt")]) == 0
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(tmp_path / "scripted.pt"))(x), source(x))
    assert main(["export", "lenet5", "-o", str(tmp_path / "l.pt"), "--weights", str(tmp_path / "trained.pt")]) == 0
    assert "loaded 10 of 10 tensors" in capsys.readouterr().err
    with torch.no_grad():
        assert torch.allclose(torch.jit.load(str(tmp_path / "l.pt"))(x), source(x))


def test_export_command_bad_input_is_one_line(tmp_path, capsys):
    cases = [
        (["export", "lenet5", "-o", str(tmp_path / "x.txt")], "cannot tell the format"),
        (["export", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.pt")], "cannot read"),
        (["export", "lenet5", "-o", str(tmp_path / "no" / "such" / "x.pt")], "no such folder"),
        (["export", "lenet5", "-o", str(tmp_path / "x.pt"), "--input", "3,abc"], "--input"),
        (["export", "lenet5", "-o", str(tmp_path / "x.pt"), "--network", "critic"], "no network 'critic'"),
    ]
    for argv, expected in cases:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert expected in err and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err


def test_export_command_lists_graph_errors_and_exits_1(tmp_path, capsys):
    g = load_graph("lenet5").graph
    g.set_param("c5", "kernel_size", 7)
    save_graph(g, tmp_path / "broken.json")
    assert main(["export", str(tmp_path / "broken.json"), "-o", str(tmp_path / "b.pt")]) == 1
    err = capsys.readouterr().err
    assert "error at c5" in err and "Traceback" not in err
    assert not (tmp_path / "b.pt").exists()


def test_export_command_end_to_end_in_a_subprocess(tmp_path):
    """The real command line, as a user types it."""
    out = tmp_path / "lenet5.pt"
    done = subprocess.run([sys.executable, "-m", "designer", "export", "lenet5", "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote") and done.stderr == ""  # no deprecation noise for the user
    assert sum(p.numel() for p in torch.jit.load(str(out)).parameters()) == 61706


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_gpu_network_exports_weights_that_load_on_the_cpu(tmp_path):
    graph = skip_and_inception_graph()
    module = trained_like(compile_graph(graph, device="cuda"))
    export(graph, tmp_path / "model.pt", module=module)
    export(graph, tmp_path / "model.onnx", module=module)
    assert all(p.is_cuda for p in module.parameters())  # put back where it was
    loaded = torch.jit.load(str(tmp_path / "model.pt"))
    assert all(p.device.type == "cpu" for p in loaded.parameters())
    x = torch.randn(2, 3, 24, 24)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), module(x.cuda()).cpu(), atol=1e-4, rtol=1e-4)


def test_exported_files_are_readable_by_others_not_private_temporaries(tmp_path):
    import stat
    from designer import load_graph
    from designer.compile.export import export
    out = export(load_graph("lenet5").graph, tmp_path / "lenet5.pt")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
