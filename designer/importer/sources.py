"""What a user names as a source, read into a module (or refused in one line)."""
from __future__ import annotations

from pathlib import Path

from .errors import ImportFailure, Imported, first_line


def _shapes(input_shape) -> list[tuple] | None:
    if input_shape is None:
        return None
    if isinstance(input_shape, str):
        input_shape = [int(v) for v in input_shape.replace("×", ",").split(",") if v.strip()]
    items = list(input_shape)
    if items and all(isinstance(v, int) for v in items):
        return [tuple(items)]
    return [tuple(int(v) for v in s) for s in items]


def torchvision_input(name: str, module=None) -> tuple[int, int, int]:
    """The input size torchvision evaluates NAME at: a model that fixes its size says it
    (`image_size`: vit_h_14 built without weights takes 224, though its weights' crop is 518);
    else its weights' crop size; 224 when unknown."""
    if isinstance(getattr(module, "image_size", None), int):
        return (3, module.image_size, module.image_size)
    import torchvision.models as tvm
    try:
        weights = tvm.get_model_weights(name)
        first = next(iter(weights))
        size = first.transforms.keywords.get("crop_size", 224)
    except (ValueError, StopIteration, AttributeError, KeyError):
        size = 224
    size = size[0] if isinstance(size, (list, tuple)) else size
    return (3, int(size), int(size))


def torchvision_model(name: str):
    import torchvision.models as tvm
    known = tvm.list_models()
    if name not in known:
        raise ImportFailure(f"torchvision has no model {name!r} (see torchvision.models.list_models())")
    return tvm.get_model(name, weights=None)


def python_class(spec: str):
    """file.py:Class -> an instance built with no arguments. This runs the file's code: the one
    source that does, because the user named a Python class to build."""
    import importlib.util
    import sys
    path_text, _, cls_name = spec.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise ImportFailure(f"{path}: no such file")
    module_name = f"_designer_import_{path.stem}"
    loader_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's file: say what it raised
        raise ImportFailure(f"{path.name} raised {type(exc).__name__} when it was run: {first_line(exc)}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise ImportFailure(f"{path.name} defines no {cls_name}")
    try:
        return cls()
    except Exception as exc:  # noqa: BLE001
        raise ImportFailure(f"{cls_name}() cannot be built without arguments: {first_line(exc)}") from None


def exported_file(path: Path, shapes: list[tuple] | None = None):
    """A TorchScript .pt or torch.export .pt2. One Network Designer wrote carries its drawing, the
    weights are the file's own; one written elsewhere is read operation by operation (TorchScript
    through torch.export's converter, which needs `shapes`: the file does not record them).
    Neither format runs Python when it is read."""
    import warnings
    import torch
    from designer.compile.export import DRAWING
    from designer.graph.errors import GraphFileError
    from designer.graph.fileformat import loads
    if not path.is_file():
        raise ImportFailure(f"{path}: no such file")
    extra = {DRAWING: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch.jit is deprecated from torch 2.14 and says so
            if path.suffix.lower() == ".pt2":
                program = torch.export.load(str(path), extra_files=extra)
                state = {**program.state_dict, **program.constants}
            else:
                state = torch.jit.load(str(path), map_location="cpu", _extra_files=extra).state_dict()
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file: one line
        raise ImportFailure(f"{path.name}: not a {'torch.export program' if path.suffix == '.pt2' else 'TorchScript'}"
                            f" file PyTorch can read ({first_line(exc)})") from None
    text = extra[DRAWING]
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    if not text and path.suffix.lower() == ".pt2":   # a program written elsewhere: its operations are read
        from .fx_import import import_module
        from .program_source import program_module
        module, shapes = program_module(program)
        graph, weights, notes = import_module(module, shapes, path.stem, copy=False)
        return Imported(graph, weights, notes)
    if not text:
        from .fx_import import import_module
        from .program_source import program_module, torchscript_program
        program = torchscript_program(path, shapes)
        module, shapes = program_module(program)
        graph, weights, notes = import_module(module, shapes, path.stem, copy=False)
        notes.append(f"{path.name} is TorchScript, which keeps no module hierarchy that can be read back: "
                     "its layers are drawn side by side, without composites")
        return Imported(graph, weights, notes)
    try:
        graph = loads(text)
    except GraphFileError as exc:
        raise ImportFailure(f"{path.name}: its drawing is damaged: {exc}") from None
    return Imported(graph, {k: v.detach().cpu() for k, v in state.items()})


def pretrained_model(name: str, weights: str):
    """torchvision's NAME holding its `weights` (IMAGENET1K_V1) from torch hub's cache,
    downloaded there first when missing; one sentence when they cannot be had."""
    from designer.compile.errors import WeightsFileError
    from designer.compile.pretrained import read
    module = torchvision_model(name)
    try:
        module.load_state_dict(read(name, weights))
    except WeightsFileError as exc:
        raise ImportFailure(str(exc)) from None
    except RuntimeError as exc:   # a file of another network under the expected name
        raise ImportFailure(f"torchvision's {name} {weights} weights do not fit its layers: "
                            f"{str(exc).splitlines()[0]}") from None
    return module


def import_source(source, input_shape=None, weights: str | None = None):
    from torch import nn
    from .fx_import import import_module
    if weights and not (isinstance(source, (str, Path)) and str(source).startswith("torchvision:")):
        raise ImportFailure(f"weights {weights!r} are torchvision's: only a torchvision:NAME source takes them "
                            "(a module or file brings its own)")
    shapes = _shapes(input_shape)
    title = ""
    if isinstance(source, nn.Module):
        module = source
    elif isinstance(source, (str, Path)):
        text = str(source)
        if text.startswith("torchvision:"):
            name = text.split(":", 1)[1]
            module = pretrained_model(name, weights) if weights else torchvision_model(name)
            shapes = shapes or [torchvision_input(name, module)]
            title = name
        elif ":" in text and text.rpartition(":")[0].endswith(".py"):
            module = python_class(text)
            title = text.rpartition(":")[2]
        elif Path(text).suffix.lower() in (".pt", ".pt2"):
            return exported_file(Path(text), shapes)
        elif Path(text).suffix.lower() == ".onnx":
            from .onnx_source import onnx_module
            if not Path(text).is_file():
                raise ImportFailure(f"{text}: no such file")
            module, shapes = onnx_module(Path(text))
            title = Path(text).stem
        else:
            suffix = Path(text).suffix.lower()
            raise ImportFailure(f"{text}: import reads torchvision:NAME, file.py:Class, an nn.Module, an .onnx "
                                f"file, a TorchScript .pt or a torch.export .pt2; {suffix or 'this'} files are "
                                "not read")
    else:
        raise ImportFailure(f"cannot import a {type(source).__name__}: give an nn.Module, torchvision:NAME or "
                            "file.py:Class")
    if shapes is None:
        raise ImportFailure(f"give the input shape of {type(module).__name__} (input_shape=(3, 224, 224), "
                            "or --input 3,224,224)")
    graph, weights, notes = import_module(module, shapes, title, copy=isinstance(source, nn.Module))
    return Imported(graph, weights, notes)
