"""The train/validation split: stratified by class and fixed by the dataset's name
alone, so every run, every seed, every resume and every process of a torchrun job
holds out the same images; a validation image is never trained on."""
from __future__ import annotations

import zlib

import torch


def split_seed(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stratified_split(labels: torch.Tensor, val_fraction: float, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, validation indices), each sorted; per class, round(fraction × count)
    images go to validation (at least one when the class has two or more)."""
    g = torch.Generator().manual_seed(split_seed(name))
    train, val = [], []
    labels = labels.to(torch.int64)
    for cls in torch.unique(labels).tolist():
        members = torch.nonzero(labels == cls).flatten()
        members = members[torch.randperm(len(members), generator=g)]
        k = int(round(val_fraction * len(members)))
        if val_fraction > 0 and k == 0 and len(members) >= 2:
            k = 1
        val.append(members[:k])
        train.append(members[k:])
    train_idx = torch.sort(torch.cat(train)).values if train else torch.empty(0, dtype=torch.int64)
    val_idx = torch.sort(torch.cat(val)).values if val else torch.empty(0, dtype=torch.int64)
    return train_idx, val_idx


def limit_indices(n: int, limit: int | None, name: str) -> torch.Tensor:
    """A fixed random subset of `limit` of n items (all of them, in order, without a limit)."""
    if limit is None or limit >= n:
        return torch.arange(n)
    g = torch.Generator().manual_seed(split_seed(name) + 1)
    return torch.sort(torch.randperm(n, generator=g)[:limit]).values
