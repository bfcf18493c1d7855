"""The document model: no Qt, and no torch at import time."""
from .block import BlockSpec, Inference, all_blocks, get_block
from .errors import (ConnectError, CycleError, DuplicateInputError, GraphError, GraphFileError, ParamError,
                     PortError, ShapeError)
from .model import Edge, Graph, Node

__all__ = ["BlockSpec", "Inference", "all_blocks", "get_block", "ConnectError", "CycleError",
           "DuplicateInputError", "GraphError", "GraphFileError", "ParamError", "PortError", "ShapeError",
           "Edge", "Graph", "Node"]
