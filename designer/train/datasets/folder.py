"""A user's own images: `folder:PATH` with one sub-folder per class (torchvision's
ImageFolder layout), read from disk batch by batch and fitted to the graph's
Input as they are read.

The folder is scanned before training: files whose extension is not an image
one are ignored (and counted), image files that cannot be decoded are listed and
skipped, and a class with no readable image, or fewer than two classes, is
refused before the first step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ..errors import TrainSetupError, TrainStepError

PREFIX = "folder:"
# torchvision.datasets.folder.IMG_EXTENSIONS: what ImageFolder takes for an image
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
NAMED = 5   # unreadable files named in the note; the rest are counted
LAYOUT = "one sub-folder of images per class, e.g. PATH/cat/1.jpg and PATH/dog/2.jpg"


class UnreadableImage(TrainStepError):
    """An image that decoded when the folder was scanned and fails now (changed since)."""


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


@dataclass(frozen=True)
class FolderScan:
    root: Path
    classes: tuple[str, ...]
    samples: tuple[tuple[str, int], ...]    # (path, class index) of every readable image
    unreadable: tuple[str, ...]             # paths relative to root, e.g. "cat/broken.png"
    ignored: int                            # files that are not images by their extension

    def notes(self) -> list[str]:
        """What a person should hear about the folder: the skipped and the ignored files."""
        out = []
        if self.unreadable:
            n = len(self.unreadable)
            named = ", ".join(self.unreadable[:NAMED]) + (f" and {n - NAMED} more" if n > NAMED else "")
            out.append(f"{n} unreadable image{'s' if n != 1 else ''} skipped: {named}")
        if self.ignored:
            out.append(f"{self.ignored} file{'s' if self.ignored != 1 else ''} that "
                       f"{'are' if self.ignored != 1 else 'is'} not an image ignored")
        return out


class ImageFiles(torch.utils.data.Dataset):
    """(uint8 C×H×W, label) of the readable images of a scanned folder."""

    def __init__(self, scan: FolderScan, transform: FitImage):
        self.root = scan.root
        self.samples = list(scan.samples)
        self.targets = [label for _path, label in self.samples]
        self.classes = list(scan.classes)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        from PIL import Image
        path, label = self.samples[index]
        try:
            with Image.open(path) as image:
                x = self.transform(image)
        except (OSError, ValueError, SyntaxError) as exc:   # PIL's decoders raise these
            rel = os.path.relpath(path, self.root)
            raise UnreadableImage(f"{rel} in {self.root} cannot be read any more ({exc}); it was readable "
                                  "when training began: check the file, then run again.") from None
        return x, label


def folder_path(name: str) -> Path:
    return Path(name[len(PREFIX):]).expanduser()


def readable(path: str) -> bool:
    """Whether PIL decodes the image (JPEGs at a reduced scale: a quick, whole check);
    remembered while the file keeps its size and time."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return _readable(path, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=1 << 17)
def _readable(path: str, _size: int, _mtime: int) -> bool:
    from PIL import Image
    try:
        with Image.open(path) as image:
            image.draft(image.mode, (64, 64))
            image.load()
        return True
    except Exception:  # noqa: BLE001 - any decoder error means the image cannot be used
        return False


def scan(path: Path) -> FolderScan:
    """Class folders, readable images, unreadable ones and ignored files, in ImageFolder's
    order (classes and files sorted)."""
    root = str(path)
    try:
        classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    except OSError as exc:
        raise TrainSetupError(f"The folder {path} cannot be read: {exc.strerror}.") from None
    samples, unreadable, ignored = [], [], 0
    for label, name in enumerate(classes):
        for folder, _dirs, files in sorted(os.walk(os.path.join(root, name), followlinks=True)):
            for file in sorted(files):
                full = os.path.join(folder, file)
                if not file.lower().endswith(IMAGE_SUFFIXES):
                    ignored += 1
                elif readable(full):
                    samples.append((full, label))
                else:
                    unreadable.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return FolderScan(Path(root), tuple(classes), tuple(samples), tuple(unreadable), ignored)


def open_folder(name: str, shape: tuple[int, int, int]):
    """(dataset, labels tensor, class names, notes); refuses, in one sentence, a path
    that is not such a folder, a class without a readable image, and fewer than two classes."""
    path = folder_path(name)
    if not path.is_dir():
        raise TrainSetupError(f"There is no folder {path}; folder:PATH needs {LAYOUT}.")
    found = scan(path)
    if not found.classes:
        raise TrainSetupError(f"{path} holds no class sub-folders; it needs {LAYOUT}.")
    counts = [0] * len(found.classes)
    for _path, label in found.samples:
        counts[label] += 1
    empty = [c for c, n in zip(found.classes, counts) if n == 0]
    if empty:
        bad = [u for u in found.unreadable if u.split("/")[0] in empty]
        why = f" ({len(bad)} could not be decoded: {', '.join(bad[:NAMED])})" if bad else ""
        raise TrainSetupError(f"The class folder {path / empty[0]} has no readable image{why}; "
                              "every class needs at least one.")
    if len(found.classes) < 2:
        raise TrainSetupError(f"{path} has {len(found.classes)} class folder; training needs at least two.")
    ds = ImageFiles(found, FitImage(shape))
    return ds, torch.as_tensor(ds.targets, dtype=torch.int64), list(found.classes), found.notes()


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
