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


def torchvision_input(name: str) -> tuple[int, int, int]:
    """The input size torchvision evaluates NAME at (its weights' crop size; 224 when unknown)."""
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


def import_source(source, input_shape=None):
    from torch import nn
    from .fx_import import import_module
    shapes = _shapes(input_shape)
    title = ""
    if isinstance(source, nn.Module):
        module = source
    elif isinstance(source, (str, Path)):
        text = str(source)
        if text.startswith("torchvision:"):
            name = text.split(":", 1)[1]
            module = torchvision_model(name)
            shapes = shapes or [torchvision_input(name)]
            title = name
        elif ":" in text and text.rpartition(":")[0].endswith(".py"):
            module = python_class(text)
            title = text.rpartition(":")[2]
        else:
            suffix = Path(text).suffix.lower()
            raise ImportFailure(f"{text}: import reads torchvision:NAME, file.py:Class or an nn.Module; "
                                f"{suffix or 'this'} files are not read yet")
    else:
        raise ImportFailure(f"cannot import a {type(source).__name__}: give an nn.Module, torchvision:NAME or "
                            "file.py:Class")
    if shapes is None:
        raise ImportFailure(f"give the input shape of {type(module).__name__} (input_shape=(3, 224, 224), "
                            "or --input 3,224,224)")
    graph, weights, notes = import_module(module, shapes, title, copy=isinstance(source, nn.Module))
    return Imported(graph, weights, notes)
