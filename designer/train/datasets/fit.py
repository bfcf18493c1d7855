"""Fitting images to the graph's Input: channels adapted (grey ↔ RGB) and the size
changed, on whole batches at once."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from designer.graph.format import shape as fmt_shape

from ..errors import TrainSetupError

# ITU-R BT.601 luma, the weights PIL's convert("L") uses
_LUMA = (0.299, 0.587, 0.114)
MAX_FITTED_BYTES = 512 << 20  # larger fitted copies are made batch by batch instead


def image_target(input_shape: tuple, size_hw: tuple[int, int] | None, dataset: str,
                 native_channels: int) -> tuple[tuple[int, int, int], bool]:
    """The C×H×W the images are fitted to, and whether the graph wants them flattened."""
    if len(input_shape) == 3:
        c, h, w = input_shape
        if size_hw is not None:
            h, w = size_hw
        check_channels(native_channels, c, dataset)
        return (c, h, w), False
    if len(input_shape) == 1:
        features = input_shape[0]
        if size_hw is not None:
            h, w = size_hw
            for c in dict.fromkeys((native_channels, 1, 3)):
                if c * h * w == features:
                    return (c, h, w), True
            raise TrainSetupError(f"The network takes vectors of {features} values, but {dataset} images "
                                  f"of {h}×{w} give {native_channels * h * w}; set the Input to "
                                  f"{native_channels * h * w} or choose another image size.")
        for c in dict.fromkeys((native_channels, 1, 3)):
            side = math.isqrt(features // c) if features % c == 0 else 0
            if side and c * side * side == features:
                check_channels(native_channels, c, dataset)
                return (c, side, side), True
        raise TrainSetupError(f"The network takes vectors of {features} values, which no square "
                              f"{dataset} image makes (e.g. 64 = 8×8 or 784 = 28×28); change the Input "
                              "or give it an image shape C×H×W followed by a Flatten block.")
    raise TrainSetupError(f"The network's Input has the shape {fmt_shape(input_shape)}; "
                          "images need an Input of C×H×W, or of one length for flattened pixels.")


def check_channels(have: int, want: int, dataset: str) -> None:
    if have == want or have == 1 or (have == 3 and want == 1):
        return
    raise TrainSetupError(f"The network's Input has {want} channels, but {dataset} images have {have} "
                          "and can only be made grey (1) or colour (3).")


def adapt_channels(x: torch.Tensor, want: int) -> torch.Tensor:
    have = x.shape[1]
    if have == want:
        return x
    if have == 1:
        return x.expand(-1, want, -1, -1)
    if have == 3 and want == 1:
        w = torch.tensor(_LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * w).sum(1, keepdim=True)
    raise ValueError(f"cannot turn {have} channels into {want}")


def fit_float(x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """Float images N×c×h×w in [0, 1] → N×C×H×W in [0, 1]."""
    c, h, w = shape
    if x.shape[1] == 3 and c == 1:
        x = adapt_channels(x, 1)
    if tuple(x.shape[-2:]) != (h, w):
        shrink = h < x.shape[-2] or w < x.shape[-1]
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
        x = x.clamp_(0.0, 1.0)
    return adapt_channels(x, c)


def fit_uint8(x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """uint8 images → uint8 images of `shape`, unchanged when they fit already."""
    if tuple(x.shape[1:]) == tuple(shape):
        return x
    return to_uint8(fit_float(x.float() / 255.0, shape))


def fit_masks(m: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    if tuple(m.shape[-2:]) == tuple(hw):
        return m
    return F.interpolate(m[:, None].float(), size=hw, mode="nearest")[:, 0].to(torch.uint8)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    return (x * 255.0).round_().clamp_(0, 255).to(torch.uint8)


def fit_in_memory(images: torch.Tensor, shape: tuple[int, int, int], chunk: int = 2048):
    """Fit all images now when the result is small enough; else keep them as they are
    (fitted batch by batch later). Returns (images, fitted)."""
    if tuple(images.shape[1:]) == tuple(shape):
        return images, True
    if len(images) * math.prod(shape) > MAX_FITTED_BYTES:
        return images, False
    parts = [fit_uint8(images[i:i + chunk], shape) for i in range(0, len(images), chunk)]
    return torch.cat(parts).contiguous(), True
