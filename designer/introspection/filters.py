"""A convolution's kernels as pictures, as the lecture shows AlexNet's first layer.

A Conv2d weight is out × (in / groups) × kh × kw. A first layer that reads an RGB
image has three numbers per kernel tap, which are drawn as one colour pixel;
deeper layers have as many as their input has maps, which are drawn one input
channel at a time (the channel picker).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PER_KERNEL, GLOBAL = "kernel", "global"
NORMALISE_MODES = (PER_KERNEL, GLOBAL)
FILTER_BLOCKS = ("Conv2d",)


class FilterError(ValueError):
    """A node whose kernels cannot be drawn; one sentence."""


@dataclass
class KernelGrid:
    """Kernels ready to draw: `tiles` is N×kh×kw×3 (colour) or N×kh×kw (grey), in [0, 1]."""
    tiles: np.ndarray
    colour: bool
    channel: int | None          # the input channel drawn; None: all three as colour
    depth: int                   # input channels per kernel (in / groups)
    normalise: str
    low: float                   # the weight drawn black (global mode), for a legend
    high: float                  # the weight drawn white

    @property
    def count(self) -> int:
        return int(self.tiles.shape[0])

    @property
    def kernel_size(self) -> tuple[int, int]:
        return int(self.tiles.shape[1]), int(self.tiles.shape[2])


def check_filter_node(graph, node_id: str) -> None:
    if node_id not in graph.nodes:
        raise FilterError(f"there is no block {node_id!r}")
    node = graph.nodes[node_id]
    if node.type not in FILTER_BLOCKS:
        raise FilterError(f"{node.title} is a {node.type} block; filters are shown for Conv2d blocks")


def as_array(weight) -> np.ndarray:
    """A torch tensor or an array → float64 numpy, checked to be a conv weight."""
    if hasattr(weight, "detach"):
        weight = weight.detach().float().cpu().numpy()
    array = np.asarray(weight, dtype=np.float64)
    if array.ndim != 4:
        raise FilterError(f"a convolution weight has 4 axes (out, in, height, width), not {array.ndim}")
    return array


def kernel_grid(weight, channel: int | None = None, normalise: str = PER_KERNEL) -> KernelGrid:
    """The kernels of `weight` as pictures. channel None draws RGB kernels in colour
    (3 input channels) and channel 0 otherwise; an int draws that input channel in grey.
    normalise "kernel" stretches each kernel from its own smallest to its largest weight,
    "global" uses the smallest and largest of all, so kernels can be compared."""
    w = as_array(weight)
    if normalise not in NORMALISE_MODES:
        raise FilterError(f"normalise must be one of {', '.join(NORMALISE_MODES)}, not {normalise!r}")
    depth = w.shape[1]
    colour = channel is None and depth == 3
    if channel is None and not colour:
        channel = 0
    if channel is not None and not 0 <= channel < depth:
        raise FilterError(f"input channel {channel} does not exist; each kernel has {depth}")
    tiles = w.transpose(0, 2, 3, 1) if colour else w[:, channel]  # N×kh×kw×3 or N×kh×kw
    flat = tiles.reshape(len(tiles), -1)
    if normalise == GLOBAL:
        lo = np.full(len(tiles), flat.min() if flat.size else 0.0)
        hi = np.full(len(tiles), flat.max() if flat.size else 0.0)
    else:
        lo, hi = flat.min(axis=1), flat.max(axis=1)
    span = hi - lo
    flat_out = np.where(span[:, None] > 0, (flat - lo[:, None]) / np.where(span > 0, span, 1)[:, None], 0.5)
    return KernelGrid(flat_out.reshape(tiles.shape), colour, None if colour else channel, depth, normalise,
                      float(lo.min()) if len(lo) else 0.0, float(hi.max()) if len(hi) else 0.0)


def grid_columns(n: int) -> int:
    """Columns of a roughly square grid, a bit wider than tall: 6 → 3 (3×2), 96 → 12 (12×8)."""
    if n <= 0:
        return 1
    columns = int(np.ceil(np.sqrt(n * 1.5)))
    return max(1, min(n, columns))
