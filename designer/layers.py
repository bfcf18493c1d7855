"""The few modules PyTorch lacks as layers. Each is small, scriptable and
readable in exported code."""
from __future__ import annotations

import torch
from torch import nn


def center_crop(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    top = (x.shape[-2] - h) // 2
    left = (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


class Concat(nn.Module):
    """Concatenates along the channel axis; with crop, larger maps are centre-cropped
    to the smallest first (U-Net's crop-and-concat)."""

    def __init__(self, crop: bool = False):
        super().__init__()
        self.crop = crop

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        if self.crop and xs[0].dim() == 4:
            h = min([x.shape[-2] for x in xs])
            w = min([x.shape[-1] for x in xs])
            xs = [center_crop(x, h, w) for x in xs]
        return torch.cat(xs, 1)


class Reparameterize(nn.Module):
    """z = μ + σ·ε with σ = exp(½·log σ²); the mean itself when not training."""

    def forward(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return mu
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
