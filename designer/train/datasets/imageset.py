"""What a dataset hands to the engine: images kept as uint8 tensors in memory
(digits, shapes, MNIST, CIFAR-10 all fit), or a list of image files read from
disk batch by batch (a user's folder)."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ImageSet:
    """N images in memory. `images` is uint8 N×C×h×w, either already at the size the
    graph wants (`fitted`) or at the dataset's own size, fitted batch by batch when
    fitting everything at once would take too much memory."""
    images: torch.Tensor
    labels: torch.Tensor                  # int64 N
    masks: torch.Tensor | None = None     # uint8 N×h×w class ids (segmentation), or None
    fitted: bool = True

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: torch.Tensor) -> "ImageSet":
        return ImageSet(self.images[index], self.labels[index],
                        None if self.masks is None else self.masks[index], self.fitted)


@dataclass
class FileSet:
    """Images read from disk: a torch Dataset yielding (uint8 C×H×W already at the
    graph's size, label), and the indices of it that belong to this split."""
    dataset: object
    indices: list[int]
    labels: torch.Tensor = field(default=None)

    def __len__(self) -> int:
        return len(self.indices)


@dataclass
class DataSource:
    """A dataset opened for one graph: the training and validation splits, the class
    names, and the image shape C×H×W that every batch is fitted to."""
    name: str
    train: ImageSet | FileSet
    val: ImageSet | FileSet
    class_names: list[str]
    image_shape: tuple[int, int, int]
    flatten: bool = False                 # the graph takes vectors: batches are flattened
    mask_classes: int = 0                 # classes in the masks (background included); 0: no masks
    note: str = ""                        # how the images were adapted, for the log
    warnings: list[str] = field(default_factory=list)   # files skipped or ignored, one line each

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def has_masks(self) -> bool:
        return self.mask_classes > 0

    @property
    def input_shape(self) -> tuple:
        c, h, w = self.image_shape
        return (c * h * w,) if self.flatten else self.image_shape


@dataclass
class RawImages:
    """A dataset as loaded, before the split and before fitting to a graph."""
    images: torch.Tensor                  # uint8 N×c×h×w
    labels: torch.Tensor                  # int64 N
    class_names: list[str]
    masks: torch.Tensor | None = None     # uint8 N×h×w
    mask_classes: int = 0
