"""Augmentation and normalisation on whole batches, on the device the network runs
on (no per-image Python, no worker processes needed for in-memory datasets).

    random_crop          pad `crop_padding` zeros on each side, crop back at a random place
    random_resized_crop  a random 8–100 % area, aspect 3/4–4/3, resized back (Inception / AlexNet style)
    hflip                mirror half of the images left–right (AlexNet's "horizontal reflections")
    normalize            subtract the training images' mean and divide by their deviation, per channel

Geometric changes apply to segmentation masks too, with nearest-neighbour sampling.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class Augmenter:
    def __init__(self, names, crop_padding: int = 4, mean=None, std=None):
        self.names = list(names)
        self.crop_padding = crop_padding
        self.mean = mean  # per-channel tensors shaped 1×C×1×1, set when normalising
        self.std = std

    @property
    def geometric(self) -> bool:
        return any(n in self.names for n in ("random_crop", "random_resized_crop", "hflip"))

    def train(self, x: torch.Tensor, mask: torch.Tensor | None):
        """x: N×C×H×W float in [0, 1]; mask: N×H×W integer class ids or None."""
        if "random_resized_crop" in self.names:
            x, mask = random_resized_crop(x, mask)
        if "random_crop" in self.names and self.crop_padding > 0:
            x, mask = random_crop(x, mask, self.crop_padding)
        if "hflip" in self.names:
            x, mask = hflip(x, mask)
        return x, mask

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        if self.mean is None:
            return x
        return (x - self.mean.to(x.device)) / self.std.to(x.device)


def channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and deviation of float images N×C×H×W in [0, 1]."""
    x = images.float().transpose(0, 1).reshape(images.shape[1], -1)
    mean = x.mean(1)
    std = x.std(1).clamp_min(1e-3)
    return mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)


def hflip(x, mask):
    flip = torch.rand(x.shape[0], device=x.device) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
    if mask is not None:
        mask = torch.where(flip.view(-1, 1, 1), mask.flip(-1), mask)
    return x, mask


def random_crop(x, mask, pad: int):
    n, c, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None])          # N×H
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None])          # N×W
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = xp.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    if mask is not None:
        mp = F.pad(mask, (pad, pad, pad, pad))
        mask = mp[batch, rows[:, :, None], cols[:, None, :]]
    return out.contiguous(), mask


def random_resized_crop(x, mask, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
    n, _, h, w = x.shape
    dev = x.device
    area = torch.empty(n, device=dev).uniform_(*scale)
    log_r = torch.empty(n, device=dev).uniform_(math.log(ratio[0]), math.log(ratio[1]))
    aspect = torch.exp(log_r)
    # box width and height as fractions of the image, kept inside it
    bw = torch.sqrt(area * aspect).clamp(max=1.0)
    bh = torch.sqrt(area / aspect).clamp(max=1.0)
    cx = (torch.rand(n, device=dev) * 2 - 1) * (1 - bw)
    cy = (torch.rand(n, device=dev) * 2 - 1) * (1 - bh)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 2] = bw, cx
    theta[:, 1, 1], theta[:, 1, 2] = bh, cy
    grid = F.affine_grid(theta, (n, 1, h, w), align_corners=False)
    out = F.grid_sample(x, grid.to(x.dtype), mode="bilinear", padding_mode="border", align_corners=False)
    if mask is not None:
        m = F.grid_sample(mask[:, None].float(), grid, mode="nearest", padding_mode="border", align_corners=False)
        mask = m[:, 0].to(mask.dtype)
    return out, mask
