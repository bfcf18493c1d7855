"""A user's own images: `folder:PATH` with one sub-folder per class (torchvision's
ImageFolder layout), read from disk batch by batch and fitted to the graph's
Input as they are read."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import TrainSetupError

PREFIX = "folder:"


class FitImage:
    """PIL image → uint8 C×H×W at the graph's size (picklable for DataLoader workers)."""

    def __init__(self, shape: tuple[int, int, int]):
        self.shape = tuple(shape)

    def __call__(self, image):
        import numpy as np
        c, h, w = self.shape
        image = image.convert("L" if c == 1 else "RGB")
        if image.size != (w, h):
            from PIL import Image
            image = image.resize((w, h), Image.BILINEAR)
        array = np.asarray(image, dtype=np.uint8)
        x = torch.from_numpy(array.copy())
        x = x[None] if x.dim() == 2 else x.permute(2, 0, 1)
        return x.expand(c, -1, -1).contiguous() if x.shape[0] != c else x


def folder_path(name: str) -> Path:
    return Path(name[len(PREFIX):]).expanduser()


def open_folder(name: str, shape: tuple[int, int, int]):
    """(ImageFolder dataset, labels tensor, class names); refuses a path that is not
    such a folder, in one sentence."""
    from torchvision.datasets import ImageFolder
    path = folder_path(name)
    layout = "one sub-folder of images per class, e.g. PATH/cat/1.jpg and PATH/dog/2.jpg"
    if not path.is_dir():
        raise TrainSetupError(f"There is no folder {path}; folder:PATH needs {layout}.")
    try:
        ds = ImageFolder(str(path), transform=FitImage(shape))
    except (FileNotFoundError, RuntimeError) as exc:
        raise TrainSetupError(f"{path} holds no images in class sub-folders ({exc}); it needs {layout}.") from None
    if len(ds.classes) < 2:
        raise TrainSetupError(f"{path} has {len(ds.classes)} class folder; training needs at least two.")
    return ds, torch.as_tensor(ds.targets, dtype=torch.int64), list(ds.classes)


def native_channels(name: str) -> int:
    """Colour unless the folder's first image is grey; a guess good enough to pick the
    Input's channels (any image is converted to what the graph wants anyway)."""
    path = folder_path(name)
    for image in sorted(path.glob("*/*")):
        try:
            from PIL import Image
            with Image.open(image) as im:
                return 1 if im.mode in ("L", "1", "I;16", "I") else 3
        except Exception:  # noqa: BLE001 - not an image: keep looking
            continue
    return 3
