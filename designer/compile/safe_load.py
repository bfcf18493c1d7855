"""The one way the product reads a .pt file: `torch.load(..., weights_only=True)`.

A pickle may name any Python callable to run while it is read (a `__reduce__`
returning `exec`, `os.system`…). The weights-only unpickler accepts tensors and
plain containers and refuses every other global before calling anything, so a
hostile file is turned away having run nothing. Training checkpoints, weights
files and `load_graph("x.pt")` all come through here.
"""
from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path

import torch

from .errors import UnsafeFileError, WeightsFileError, first_line

_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.<>]+)")
MESSAGE_LIMIT = 200  # characters of torch's own complaint kept in the one line


def load_torch_file(path, map_location="cpu"):
    """The content of a file written by torch.save, with tensors on `map_location`.
    Raises UnsafeFileError for a file that would run code, WeightsFileError for
    anything else that is not a plain-data torch file; each message is one line."""
    path = Path(path)
    if not path.exists():
        raise WeightsFileError(f"{path}: no such file")
    if not path.is_file():
        raise WeightsFileError(f"{path}: is not a file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _GLOBAL.search(str(exc))
        if found:
            raise UnsafeFileError(
                f"{path.name}: refused: loading it would call {found.group(1)}, which could run code; "
                "only tensors and plain data are accepted") from None
        raise WeightsFileError(f"{path.name}: refused: not a PyTorch weights file of tensors and plain data "
                               "(only files written by torch.save in its zip format are read)") from None
    except RuntimeError as exc:
        if "TorchScript" in str(exc):
            raise WeightsFileError(f"{path.name}: is a TorchScript model, not a weights file "
                                   "(open it with torch.jit.load)") from None
        raise WeightsFileError(f"{path.name}: not a PyTorch weights file ({first_line(exc, MESSAGE_LIMIT)})") \
            from None
    except Exception as exc:  # noqa: BLE001 - junk, a truncated zip, a damaged record…: whatever breaks, one line
        what = "the file is empty or cut short" if isinstance(exc, EOFError) else first_line(exc, MESSAGE_LIMIT)
        raise WeightsFileError(f"{path.name}: cannot read it as a PyTorch file ({what})") from None
