"""Graph -> PyTorch: the compiler (torch.fx), exports, safe loading and weight transfer.

    compile_graph(graph, network=None, device=None, input_shape=None, weights=None)  -> nn.Module
    load_weights(module, path_or_state_dict, strict=False)   -> WeightsReport
    load_torch_file(path)       every .pt the product reads (weights_only=True)

    designer.compile.export.export(graph, path, format=None, network=None, module=None, weights=None)
    designer.compile.checkpoint   weights files (graph + state_dict); fit_weights(graph, source)
                                  gives the entries that fit a drawing (a Document keeps them)
    designer.compile.pretrained   torchvision's ImageNet weights from torch hub's cache (fetch, read)
"""
from .compiler import compile_graph
from .errors import CompileError, ExportError, UnsafeFileError, WeightsFileError
from .safe_load import load_torch_file
from .transfer import WeightsReport, load_weights

__all__ = ["compile_graph", "CompileError", "ExportError", "UnsafeFileError", "WeightsFileError",
           "load_torch_file", "WeightsReport", "load_weights"]
