"""Getting a network out of the application, in the forms PyTorch users expect.

    torchscript  .pt    torch.jit.load works with only torch installed
    program      .pt2   a torch.export ExportedProgram (torch.export.load), batch axis dynamic
    state_dict   (.pt)  weights + the drawing (checkpoint.py); load_graph() reads it back
    onnx         .onnx  batch axis dynamic; needs the `onnx` extra (onnx, onnxscript)
    python       .py    one standalone file, `class <Name>(nn.Module)`, importing only torch

`export(graph, path)` picks the format from the suffix. Networks are exported in
evaluation mode (dropout off, batch norm on running statistics); the module
passed in keeps its own mode. Every file is written atomically.
"""
from __future__ import annotations

import importlib.util
import io
import warnings
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import fx, nn

from designer.atomic import atomic_folder, atomic_path
from designer.graph.fileformat import EMBEDDED_DRAWING
from .checkpoint import require_weights, save_weights_file
from .compiler import compile_graph
from .errors import ExportError, first_line

FORMATS = ("torchscript", "program", "state_dict", "onnx", "python")
BY_SUFFIX = {".pt": "torchscript", ".pt2": "program", ".pth": "state_dict", ".onnx": "onnx", ".py": "python"}
DRAWING = EMBEDDED_DRAWING   # the drawing's name inside .pt and .pt2 files
MESSAGE_LIMIT = 300  # characters of a scripting or exporter error kept in its one line


def format_for(path, format: str | None = None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise ExportError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
        return format
    suffix = Path(path).suffix.lower()
    if suffix not in BY_SUFFIX:
        raise ExportError(f"cannot tell the format from {Path(path).name!r}: name it .pt (TorchScript), "
                          ".pt2 (torch.export), .pth (weights with the graph), .onnx or .py, or give the format")
    return BY_SUFFIX[suffix]


def export(graph, path, format: str | None = None, network: str | None = None, module=None,
           input_shape=None, source: str = "", weights=None) -> Path:
    """Write `graph`'s network to `path`. `module`: an already built (trained) network
    to write instead of compiling `graph` afresh with `weights` (a document's state dict,
    or None for fresh initialisation); `input_shape` overrides the Input's; `source`
    names the document in the Python export's header."""
    fmt = format_for(path, format)
    path = Path(path)
    if network is not None and network not in graph.networks():
        raise ExportError(f"there is no network {network!r}; this document holds {', '.join(graph.networks())}")
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent}: no such folder")
    if fmt == "python":
        return export_python(graph, path, network=network, input_shape=input_shape, source=source)
    if fmt == "state_dict":
        if module is None:
            module = compile_graph(graph, input_shape=input_shape, weights=weights)
        return save_weights_file(graph, path, module)
    module = _one_network(graph, network, module, input_shape, weights)
    drawing = _drawing(graph, network)
    if fmt == "torchscript":
        return export_torchscript(module, path, drawing)
    if fmt == "program":
        return export_program(module, path, drawing)
    return export_onnx(module, path, output_names=_output_names(graph, network, input_shape))


def _one_network(graph, network, module, input_shape, weights) -> nn.Module:
    nets = graph.networks()
    if network is None and len(nets) > 1:
        raise ExportError(f"this document holds the networks {', '.join(nets)}: choose one to export")
    if module is None:
        module = compile_graph(graph, network=network, input_shape=input_shape, weights=weights)
    elif isinstance(module, nn.ModuleDict):
        if network not in module:
            raise ExportError(f"there is no network {network!r}; this document holds {', '.join(module)}")
        module = module[network]
    return module


def _drawing(graph, network) -> str:
    """The document as JSON text, stored inside a .pt/.pt2 so that importing the file gives it back
    (only for a single-network document: the file holds one network)."""
    from designer.graph.fileformat import dumps
    return dumps(graph) if network is None or len(graph.networks()) == 1 else ""


def _output_names(graph, network, input_shape) -> list[str]:
    analysis = graph.analyze(input_shape)
    return [name for node_id, name in analysis.outputs
            if network is None or graph.nodes[node_id].network == network]


def _device_of(module: nn.Module) -> torch.device:
    return next((t.device for t in module.state_dict().values()), torch.device("cpu"))


@contextmanager
def eval_mode(module: nn.Module):
    """The module (and every submodule) in eval mode for the block, put back as it was afterwards."""
    modes = {m: m.training for m in module.modules()}
    module.eval()
    try:
        yield module
    finally:
        for m, training in modes.items():
            m.training = training


@contextmanager
def _quiet():
    # torch.jit and the ONNX exporter print deprecation notes and progress a user cannot act on
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def export_torchscript(module: nn.Module, path, drawing: str = "") -> Path:
    """torch.jit.script of the module, in evaluation mode, with its weights on the CPU so
    that the file loads on any machine (`torch.jit.load`, no need for this package). A
    module on a GPU is moved for the export and put back."""
    require_weights(module, "export")
    device = _device_of(module)
    try:
        try:
            with _quiet(), eval_mode(module):
                scripted = torch.jit.script(module.cpu())
        except Exception as exc:  # noqa: BLE001 - any scripting failure becomes one line
            raise ExportError(f"TorchScript could not compile this network: {first_line(exc, MESSAGE_LIMIT)}") from None
        # written whole in memory first: torch.jit.save straight to a file that the disk refuses
        # (full, over the size limit) aborts the process from C++ instead of raising
        buffer = io.BytesIO()
        with _quiet():
            torch.jit.save(scripted, buffer, _extra_files={DRAWING: drawing} if drawing else None)
        data = buffer.getvalue()
        with atomic_path(path, size_hint=len(data)) as tmp:
            tmp.write_bytes(data)
    finally:
        module.to(device)
    return Path(path)


def export_program(module: fx.GraphModule, path, drawing: str = "") -> Path:
    """torch.export of the module in evaluation mode (the successor of TorchScript: torch.jit is
    deprecated from torch 2.14), the batch axis of every input dynamic; `torch.export.load` reads it
    with only torch installed."""
    require_weights(module, "export")
    inputs = example_inputs(module)
    names = [n.target for n in module.graph.nodes if n.op == "placeholder"]
    batch = torch.export.Dim("batch", min=1)
    try:
        with _quiet(), eval_mode(module):
            program = torch.export.export(module, inputs, dynamic_shapes={n: {0: batch} for n in names})
    except Exception as exc:  # noqa: BLE001 - any export failure becomes one line
        raise ExportError(f"torch.export could not export this network: {first_line(exc, MESSAGE_LIMIT)}") from None
    buffer = io.BytesIO()   # written whole first: the archive names its folder after the file it is given
    with _quiet():
        torch.export.save(program, buffer, extra_files={DRAWING: drawing} if drawing else None)
    data = buffer.getvalue()
    with atomic_path(path, size_hint=len(data)) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def example_inputs(module: fx.GraphModule, batch: int = 2) -> tuple[torch.Tensor, ...]:
    """Random inputs of the analysed shapes (recorded on the placeholders by the compiler)."""
    device = _device_of(module)
    shapes = [n.meta.get("shape") for n in module.graph.nodes if n.op == "placeholder"]
    if any(s is None for s in shapes):
        raise ExportError("the module was not compiled by Network Designer; its input shapes are unknown")
    return tuple(torch.randn(batch, *s, device=device) for s in shapes)


def _onnx_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxscript"))


def export_onnx(module: fx.GraphModule, path, output_names: list[str] | None = None) -> Path:
    """ONNX through torch.export, the batch axis of every input and output dynamic;
    checked with onnx.checker before it replaces `path`."""
    if not _onnx_available():
        raise ExportError("ONNX export needs the onnx extra: pip install 'network-designer[onnx]' "
                          "(the onnx and onnxscript packages)")
    require_weights(module, "export")
    path = Path(path)
    inputs = example_inputs(module)
    names = [n.target for n in module.graph.nodes if n.op == "placeholder"]
    batch = torch.export.Dim("batch", min=1)
    dynamic = {name: {0: batch} for name in names}
    try:
        with _quiet(), eval_mode(module):
            program = torch.onnx.export(module, inputs, dynamo=True, dynamic_shapes=dynamic, input_names=names,
                                        output_names=output_names or None, verbose=False)
    except Exception as exc:  # noqa: BLE001
        raise ExportError(f"ONNX export failed: {first_line(exc, MESSAGE_LIMIT)}") from None
    import onnx
    # a file above protobuf's 2 GB limit keeps its weights beside it, in <name>.data
    large = sum(t.numel() * t.element_size() for t in module.state_dict().values()) > 1.8e9
    with atomic_folder(path) as folder:
        with _quiet():
            program.save(str(folder / path.name), external_data=large)
        try:
            onnx.checker.check_model(str(folder / path.name))
        except onnx.checker.ValidationError as exc:
            raise ExportError(f"the ONNX model did not pass onnx.checker: {first_line(exc, MESSAGE_LIMIT)}") from None
    return path


def export_python(graph, path, network: str | None = None, input_shape=None, source: str = "") -> Path:
    """One .py file with a class per network (all of them unless `network` names one)."""
    from .compiler import compile_graph
    from .pysource import python_source
    compiled = compile_graph(graph, network=network, device="meta", input_shape=input_shape)
    nets = [network] if network is not None else graph.networks()
    modules = [compiled] if not isinstance(compiled, nn.ModuleDict) else [compiled[n] for n in nets]
    description = str(graph.meta.get("description") or "")
    cite = ", ".join(str(graph.meta[k]) for k in ("authors", "paper", "year") if graph.meta.get(k))
    docs = []
    for net, gm in zip(nets, modules):
        title = str(graph.meta.get("title") or "") if len(nets) == 1 else f"The {net} network."
        docs.append("\n\n".join(t for t in (title, description if len(nets) == 1 else "", cite) if t))
    text = python_source(list(zip(modules, docs)), str(graph.meta.get("title") or ""), source,
                         keys=nets if isinstance(compiled, nn.ModuleDict) else None)
    compile(text, str(path), "exec")  # never write a file that does not parse
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)

