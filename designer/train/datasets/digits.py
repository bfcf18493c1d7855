"""scikit-learn's bundled handwritten digits: 1,797 grey 8×8 images of 0–9, on
disk with scikit-learn itself, so training works with no download at all."""
from __future__ import annotations

from functools import lru_cache

import torch

from .imageset import RawImages

TITLE = "Digits (scikit-learn, 8×8)"
CLASSES = [str(i) for i in range(10)]
SIZE = 1797


@lru_cache(maxsize=1)
def _load() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits
    bunch = load_digits()
    # pixel values are 0..16 counts of set bits in 4×4 blocks of the 32×32 scans
    images = torch.from_numpy(bunch.images).float().div_(16.0).mul_(255.0).round_().to(torch.uint8)
    return images[:, None].contiguous(), torch.from_numpy(bunch.target).to(torch.int64)


def load() -> RawImages:
    images, labels = _load()
    return RawImages(images, labels, list(CLASSES))
