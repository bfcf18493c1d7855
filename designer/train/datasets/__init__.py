"""The datasets a graph can be trained on, offline first.

    digits          scikit-learn's 1,797 handwritten digits (8×8), no download
    shapes          synthetic circles / squares / triangles, labels and masks, no download
    mnist, fashion_mnist, cifar10
                    through torchvision from $DESIGNER_DATA (default ~/.cache/network-designer/data)
    folder:PATH     a user's images, one sub-folder per class

`open_dataset` fits a dataset to a graph's Input (size, grey ↔ RGB, flattened for
vector inputs) and splits it; `available_datasets` lists what can be picked now;
`preview_samples` fetches a few images for a picker.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from designer.graph.format import shape as fmt_shape

from ..config import DATASETS
from ..errors import TrainSetupError
from . import digits, folder, local_files, shapes
from .fit import fit_in_memory, fit_masks, fit_uint8, image_target
from .imageset import DataSource, FileSet, ImageSet, RawImages
from .split import limit_indices, stratified_split

BUILTIN = DATASETS


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    num_classes: int
    size: int | None          # training images (shapes: how many are generated at 32×32)
    channels: int
    has_masks: bool
    available: bool           # can be opened right now
    note: str                 # why not, or where it comes from


def available_datasets() -> list[DatasetInfo]:
    """Every built-in dataset, available or not (the note says why not); no download
    is attempted and no network is touched."""
    out = [DatasetInfo("digits", digits.TITLE, len(digits.CLASSES), digits.SIZE, 1, False, True,
                       "bundled with scikit-learn"),
           DatasetInfo("shapes", shapes.TITLE, len(shapes.CLASSES), shapes.default_count(32, 32), 1, True,
                       True, "generated on the spot, at the graph's input size")]
    for spec in local_files.LOCAL_SETS.values():
        here = local_files.present(spec)
        if here:
            note = f"in {local_files.data_dir() / spec.folder}"
        elif local_files.offline():
            note = local_files.where_to_put(spec, "downloads are off (DESIGNER_OFFLINE is set)")
        else:
            note = f"downloaded into {local_files.data_dir()} on first use"
        out.append(DatasetInfo(spec.name, spec.title, len(spec.classes), spec.size, spec.channels, False,
                               here or not local_files.offline(), note))
    return out


def native_channels(name: str) -> int:
    if name.startswith(folder.PREFIX):
        return folder.native_channels(name)
    if name in local_files.LOCAL_SETS:
        return local_files.LOCAL_SETS[name].channels
    return 1


def check_name(name: str) -> None:
    if name in BUILTIN or name.startswith(folder.PREFIX):
        return
    raise TrainSetupError(f"There is no dataset {name!r}; choose one of {', '.join(BUILTIN)} "
                          "or folder:PATH for your own images.")


def _raw(name: str, shape: tuple[int, int, int], limit: int | None) -> RawImages:
    if name == "digits":
        return digits.load()
    if name == "shapes":
        return shapes.load(shape, count=limit)
    return local_files.load(name)


def open_dataset(name: str, input_shape: tuple, *, val_fraction: float = 0.2, limit: int | None = None,
                 size_hw: tuple[int, int] | None = None) -> DataSource:
    """The dataset fitted to a graph whose Input has `input_shape`, split into training
    and validation images. Raises TrainSetupError, in one sentence, when it cannot be."""
    check_name(name)
    shape, flatten = image_target(tuple(input_shape), size_hw, name, native_channels(name))
    if name.startswith(folder.PREFIX):
        ds, labels, classes, warnings = folder.open_folder(name, shape)
        keep = limit_indices(len(labels), limit, name)
        train_idx, val_idx = stratified_split(labels[keep], val_fraction, name)
        train_idx, val_idx = keep[train_idx], keep[val_idx]
        return DataSource(name, FileSet(ds, train_idx.tolist(), labels[train_idx]),
                          FileSet(ds, val_idx.tolist(), labels[val_idx]), classes, shape, flatten,
                          note=f"{len(labels)} images read from disk as {fmt_shape(shape)}", warnings=warnings)
    raw = _raw(name, shape, limit)
    keep = limit_indices(len(raw.labels), limit, name)
    labels = raw.labels[keep]
    images, fitted = fit_in_memory(raw.images[keep], shape)
    masks = None if raw.masks is None else fit_masks(raw.masks[keep], shape[1:])
    whole = ImageSet(images, labels, masks, fitted)
    train_idx, val_idx = stratified_split(labels, val_fraction, name)
    native, target = fmt_shape(raw.images.shape[1:]), fmt_shape(shape)
    note = f"{len(labels)} images, {native} → {target}" + (" flattened" if flatten else "")
    return DataSource(name, whole.subset(train_idx), whole.subset(val_idx), raw.class_names, shape,
                      flatten, raw.mask_classes, note)


def preview_samples(name: str, count: int = 16, shape: tuple | None = None) -> dict:
    """A few training images for a picker: {"images": uint8 N×H×W×C, "labels": [int],
    "class_names": [str], "masks": uint8 N×H×W or None, "warnings": [str] (files skipped
    or ignored, e.g. "1 unreadable image skipped: cat/broken.png")}. `shape` is the graph's Input
    (when None: 28×28 for MNIST and Fashion-MNIST, 32×32 otherwise)."""
    check_name(name)
    if shape is None:
        spec = local_files.LOCAL_SETS.get(name)
        side = 28 if spec is not None and spec.channels == 1 else 32  # MNIST's own size, else 32
        shape = (native_channels(name), side, side)
    source = open_dataset(name, shape, val_fraction=0.0, limit=max(count, 2) if name != "digits" else None)
    split = source.train
    if isinstance(split, FileSet):
        pairs = [split.dataset[i] for i in split.indices[:count]]
        images = torch.stack([p[0] for p in pairs])
        labels = [int(p[1]) for p in pairs]
        masks = None
    else:
        images = fit_uint8(split.images[:count], source.image_shape)
        labels = split.labels[:count].tolist()
        masks = None if split.masks is None else split.masks[:count].numpy()
    return {"images": images.permute(0, 2, 3, 1).contiguous().numpy(), "labels": labels,
            "class_names": source.class_names, "masks": masks, "warnings": list(source.warnings)}


__all__ = ["DataSource", "DatasetInfo", "FileSet", "ImageSet", "available_datasets", "open_dataset",
           "preview_samples", "BUILTIN"]
