"""One example to show a network: a dataset image, an image file, or a drawing,
fitted to the network's Input the way the training engine fits its batches
(same size change, same grey ↔ colour rule, pixels in [0, 1])."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from designer.graph.errors import GraphError
from designer.graph.format import shape as fmt_shape


class InputError(GraphError):
    """An example that cannot be made into the network's input; one sentence."""


@dataclass
class Example:
    """What the network is fed, and what a person is shown."""
    tensor: torch.Tensor                # the network's input, without the batch dimension
    picture: np.ndarray                 # H×W (grey) or H×W×3 floats in [0, 1], for display
    source: str                         # "digits, validation image 12", "seven.png", "your drawing"
    label: int | None = None
    class_names: list[str] | None = None

    @property
    def label_name(self) -> str | None:
        if self.label is None:
            return None
        if self.class_names and 0 <= self.label < len(self.class_names):
            return self.class_names[self.label]
        return str(self.label)


def input_shape(graph, network: str | None = None) -> tuple:
    """The shape of the (first) Input block of `network`."""
    for node in graph.nodes.values():
        if node.type == "Input" and (network is None or node.network == network):
            return tuple(node.params["shape"])
    raise InputError("the network has no Input block")


def image_shape(shape: tuple) -> tuple[int, int, int]:
    """The picture behind an Input: C×H×W itself, or the square image a vector flattens."""
    from designer.train.datasets.fit import image_target
    from designer.train.errors import TrainSetupError
    try:
        target, _flatten = image_target(tuple(shape), None, "this image", 1)
    except TrainSetupError as exc:
        raise InputError(str(exc)) from None
    return target


def _finish(images: torch.Tensor, shape: tuple, source: str, label=None, class_names=None) -> Example:
    """images: 1×C×H×W floats in [0, 1] already fitted to image_shape(shape)."""
    picture = images[0].permute(1, 2, 0).numpy()
    picture = picture[..., 0] if picture.shape[2] == 1 else picture
    tensor = images[0].reshape(shape) if len(shape) == 1 else images[0]
    return Example(tensor.contiguous(), np.clip(picture, 0.0, 1.0), source, label, class_names)


def fit_picture(picture: np.ndarray, shape: tuple, source: str) -> Example:
    """A grey H×W or colour H×W×3 array of [0, 1] values fitted to the Input `shape`."""
    from designer.train.datasets.fit import fit_float
    array = np.asarray(picture, dtype=np.float32)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3) or min(array.shape[:2]) < 1:
        raise InputError(f"an image must be H×W or H×W×3, not {fmt_shape(array.shape)}")
    if not np.isfinite(array).all():
        raise InputError("the image holds values that are not numbers")
    target = image_shape(shape)
    x = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None].clamp(0.0, 1.0)
    if x.shape[1] == 3 and target[0] not in (1, 3):
        raise InputError(f"the network's Input has {target[0]} channels; a colour image can only be "
                         "made grey (1) or colour (3)")
    return _finish(fit_float(x, target), shape, source)


def from_drawing(drawing: np.ndarray, shape: tuple) -> Example:
    """A drawing pad's grid (white ink on black, values in [0, 1]), like the digits' scans."""
    return fit_picture(drawing, shape, "your drawing")


def from_file(path, shape: tuple) -> Example:
    """An image file (PNG, JPEG, …) resized and made grey or colour to fit the Input."""
    from PIL import Image, UnidentifiedImageError
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            mode = "L" if img.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB"
            array = np.asarray(img.convert(mode), dtype=np.float32) / 255.0
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnidentifiedImageError:
        raise InputError(f"{path.name}: not an image file that can be read") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path.name}: cannot read it ({str(exc).splitlines()[0] if str(exc) else 'damaged'})") \
            from None
    return fit_picture(array, shape, path.name)


@lru_cache(maxsize=4)
def _validation_images(name: str, shape: tuple):
    """The validation split of a dataset fitted to the Input: images the training
    engine held out, so a prediction on them is an honest one."""
    from designer.train.datasets import ImageSet, open_dataset
    source = open_dataset(name, shape)
    split = source.val if len(source.val) else source.train
    return source, split, isinstance(split, ImageSet)


def dataset_size(name: str, shape: tuple) -> int:
    return len(_open(name, shape)[1])


def _open(name: str, shape: tuple):
    from designer.train.errors import TrainSetupError
    try:
        return _validation_images(name, tuple(shape))
    except TrainSetupError as exc:
        raise InputError(str(exc)) from None


def from_dataset(name: str, index: int, shape: tuple) -> Example:
    """Validation image `index` of dataset `name` (digits, shapes, …), fitted to `shape`."""
    from designer.train.datasets.fit import fit_uint8
    source, split, in_memory = _open(name, shape)
    if not len(split):
        raise InputError(f"the {name} dataset has no images")
    index %= len(split)
    if in_memory:
        image = split.images[index:index + 1]
        label = int(split.labels[index])
    else:
        image, label = split.dataset[split.indices[index]]
        image, label = image[None], int(label)
    image = fit_uint8(image, source.image_shape).float() / 255.0
    return _finish(image, shape, f"{name}, validation image {index + 1} of {len(split)}", label,
                   list(source.class_names))
