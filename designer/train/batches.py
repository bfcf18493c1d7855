"""Batches for one process: which images, in which order, on which device.

The order of an epoch is torch's DistributedSampler with the run's seed (one
process is simply one replica), so a torchrun job with N processes sees, step for
step, the same images as one process does with the same global batch, and a
resumed run can skip exactly the batches it has done.

In-memory datasets are indexed as tensors (on a GPU the whole set is copied over
once when it fits); image folders go through a DataLoader with workers.
"""
from __future__ import annotations

import torch
from torch.utils.data import DataLoader, DistributedSampler

from .datasets.fit import fit_float
from .datasets.imageset import FileSet, ImageSet

GPU_RESIDENT_BYTES = 1 << 30  # datasets up to this size live on the GPU for the whole run


def epoch_order(n: int, epoch: int, seed: int, rank: int, world: int) -> torch.Tensor:
    sampler = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return torch.tensor(list(iter(sampler)), dtype=torch.int64)


def shard(n: int, rank: int, world: int) -> torch.Tensor:
    """Validation indices of one process: every world-th image, no padding, so the
    summed metrics over processes count each image exactly once."""
    return torch.arange(rank, n, world, dtype=torch.int64)


def chunks(order: torch.Tensor, batch_size: int, skip: int = 0) -> list[torch.Tensor]:
    """Batches of `order`; a last batch of one image is dropped (BatchNorm cannot train on it)."""
    parts = list(torch.split(order, batch_size))
    if len(parts) > 1 and len(parts[-1]) == 1:
        parts.pop()
    return parts[skip:]


class Batches:
    """Yields (uint8 or float images on the device, labels, masks or None)."""

    def __init__(self, split: ImageSet | FileSet, device: torch.device, pin: bool, workers: int):
        self.split = split
        self.device = device
        self.pin = pin and device.type == "cuda"
        self.workers = workers
        self.on_device = False
        if isinstance(split, ImageSet) and device.type != "cpu":
            size = split.images.numel() + (split.masks.numel() if split.masks is not None else 0)
            if size <= GPU_RESIDENT_BYTES:
                self.split = ImageSet(split.images.to(device), split.labels.to(device),
                                      None if split.masks is None else split.masks.to(device), split.fitted)
                self.on_device = True

    def __len__(self) -> int:
        return len(self.split)

    def iterate(self, batches: list[torch.Tensor]):
        split = self.split
        if isinstance(split, FileSet):
            yield from self._from_files(batches)
            return
        if self.on_device and batches:
            # one upload of the epoch's order: a per-batch copy from pageable memory
            # would make the host wait for the GPU at every step
            sizes = [len(b) for b in batches]
            for idx in torch.split(torch.cat(batches).to(self.device), sizes):
                yield split.images[idx], split.labels[idx], None if split.masks is None else split.masks[idx]
            return
        for idx in batches:
            x, y = split.images[idx], split.labels[idx]
            m = None if split.masks is None else split.masks[idx]
            yield self._to_device(x), self._to_device(y), None if m is None else self._to_device(m)

    def _to_device(self, t: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cpu":
            return t
        if self.pin:
            t = t.pin_memory()
        return t.to(self.device, non_blocking=True)

    def _from_files(self, batches):
        split: FileSet = self.split
        index = [[split.indices[int(i)] for i in b] for b in batches]
        loader = DataLoader(split.dataset, batch_sampler=index, num_workers=self.workers,
                            pin_memory=self.pin, persistent_workers=False)
        for x, y in loader:
            yield self._to_device(x), self._to_device(y), None


def prepare(x: torch.Tensor, fitted: bool, shape: tuple[int, int, int]) -> torch.Tensor:
    """uint8 batch → float N×C×H×W in [0, 1] at the graph's size."""
    x = x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()
    return x if fitted else fit_float(x, shape)
