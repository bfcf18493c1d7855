"""Small uint8 pictures for epoch events: grids of images, coloured masks. Plain
numpy arrays (H×W×3) travel through a multiprocessing queue cheaply."""
from __future__ import annotations

import numpy as np
import torch

# background black, then distinct colours for classes 1, 2, 3, …
PALETTE = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                    [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60],
                    [250, 190, 212], [0, 128, 128]], dtype=np.uint8)


def to_rgb_uint8(x: torch.Tensor, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Images N×C×H×W (C = 1 or 3, values in [low, high]) → uint8 N×H×W×3."""
    x = x.detach().float().cpu()
    if x.dim() == 3:
        x = x[:, None]
    x = ((x - low) / (high - low)).clamp(0, 1)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] != 3:
        x = x[:, :1].expand(-1, 3, -1, -1)  # show the first channel of unusual images
    return (x * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def colour_masks(masks: torch.Tensor) -> np.ndarray:
    """Class ids N×H×W → uint8 N×H×W×3."""
    ids = masks.detach().cpu().numpy().astype(np.int64) % len(PALETTE)
    return PALETTE[ids]


def grid(images: np.ndarray, columns: int, pad: int = 2) -> np.ndarray:
    """uint8 N×H×W×3 → one uint8 picture, `columns` images a row, `pad` grey pixels apart."""
    n, h, w, c = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, c), 64, np.uint8)
    for i in range(n):
        r, k = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        out[y:y + h, x:x + w] = images[i]
    return out


def pad_to(images: np.ndarray, h: int, w: int) -> np.ndarray:
    """Centre smaller pictures on a black canvas h×w (U-Net outputs are smaller than inputs)."""
    n, ih, iw, c = images.shape
    if (ih, iw) == (h, w):
        return images
    out = np.zeros((n, h, w, c), np.uint8)
    top, left = (h - ih) // 2, (w - iw) // 2
    out[:, top:top + ih, left:left + iw] = images
    return out
