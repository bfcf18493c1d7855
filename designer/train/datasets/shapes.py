"""Synthetic shapes: one circle, square or triangle per image at a random place,
size, angle and contrast over a noisy background; a class label per image and a
mask per pixel (0 background, 1 circle, 2 square, 3 triangle). Generated from a
seed, so every run sees the same images, at exactly the size the graph wants."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from .imageset import RawImages

TITLE = "Shapes (synthetic: circle, square, triangle; with masks)"
CLASSES = ["circle", "square", "triangle"]
MASK_CLASSES = len(CLASSES) + 1  # background is class 0
PIXEL_BUDGET = 8 << 20           # fewer images when they are large


def default_count(h: int, w: int) -> int:
    return int(min(2000, max(200, PIXEL_BUDGET // (h * w))))


def load(shape: tuple[int, int, int], count: int | None = None, seed: int = 0) -> RawImages:
    c, h, w = shape
    n = count or default_count(h, w)
    images, labels, masks = _generate(n, c, h, w, seed)
    return RawImages(images, labels, list(CLASSES), masks, MASK_CLASSES)


@lru_cache(maxsize=4)
def _generate(n: int, c: int, h: int, w: int, seed: int):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy += 0.5
    xx += 0.5
    images = np.empty((n, c, h, w), np.uint8)
    masks = np.empty((n, h, w), np.uint8)
    labels = np.arange(n) % len(CLASSES)  # balanced classes
    rng.shuffle(labels)
    side = min(h, w)
    for i in range(n):
        r = rng.uniform(0.18, 0.38) * side
        cy = rng.uniform(r, h - r) if h > 2 * r else h / 2
        cx = rng.uniform(r, w - r) if w > 2 * r else w / 2
        inside = _inside(labels[i], yy - cy, xx - cx, r, rng.uniform(0, 2 * math.pi))
        fg = rng.uniform(0.55, 1.0, size=(c, 1, 1))
        bg = rng.uniform(0.0, 0.35, size=(c, 1, 1))
        img = np.where(inside[None], fg, bg) + rng.normal(0, 0.05, size=(c, h, w))
        images[i] = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
        masks[i] = inside * (labels[i] + 1)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)), torch.from_numpy(masks)


def _inside(kind: int, dy: np.ndarray, dx: np.ndarray, r: float, angle: float) -> np.ndarray:
    if kind == 0:
        return dy * dy + dx * dx <= r * r
    # rotate the plane so the square / triangle can be drawn upright
    cos, sin = math.cos(angle), math.sin(angle)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy
    if kind == 1:
        half = r / math.sqrt(2) * 1.15  # a square of about the circle's area
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    # an equilateral triangle inscribed in a circle of radius 1.2 r: three half-planes
    rr = 1.2 * r
    inside = np.ones_like(u, dtype=bool)
    for k in range(3):
        a = 2 * math.pi * k / 3
        inside &= (math.cos(a) * u + math.sin(a) * v) <= rr / 2
    return inside
