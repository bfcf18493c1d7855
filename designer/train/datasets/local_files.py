"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision, from a local folder.

The folder is $DESIGNER_DATA, else ~/.cache/network-designer/data. A missing
dataset is downloaded only when DESIGNER_OFFLINE is not set and the download
host answers; otherwise one sentence says which files to put where.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..errors import TrainSetupError
from .imageset import RawImages


@dataclass(frozen=True)
class LocalSet:
    name: str
    title: str
    torchvision_class: str
    folder: str              # under the data folder, as torchvision lays it out
    files: tuple[str, ...]   # what must be in that folder
    host: str                # the download host, for the reachability check
    channels: int
    size: int                # training images
    classes: tuple[str, ...]


_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

LOCAL_SETS = {
    "mnist": LocalSet("mnist", "MNIST (28×28 handwritten digits)", "MNIST", "MNIST/raw", _MNIST_FILES,
                      "ossci-datasets.s3.amazonaws.com", 1, 60000, tuple(str(i) for i in range(10))),
    "fashion_mnist": LocalSet("fashion_mnist", "Fashion-MNIST (28×28 clothing)", "FashionMNIST",
                              "FashionMNIST/raw", _MNIST_FILES, "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
                              1, 60000, ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                         "Shirt", "Sneaker", "Bag", "Ankle boot")),
    "cifar10": LocalSet("cifar10", "CIFAR-10 (32×32 colour)", "CIFAR10", "cifar-10-batches-py",
                        ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                         "test_batch", "batches.meta"), "www.cs.toronto.edu", 3, 50000,
                        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")),
}


def data_dir() -> Path:
    env = os.environ.get("DESIGNER_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "network-designer" / "data"


def offline() -> bool:
    return os.environ.get("DESIGNER_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def present(spec: LocalSet) -> bool:
    folder = data_dir() / spec.folder
    return all((folder / f).is_file() for f in spec.files)


def _reachable(host: str, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def where_to_put(spec: LocalSet, why: str) -> str:
    folder = data_dir() / spec.folder
    return (f"{spec.title.split(' (')[0]} is not in {folder} and {why}: put "
            f"{', '.join(spec.files)} there (or point DESIGNER_DATA at a folder that holds {spec.folder}).")


def load(name: str) -> RawImages:
    spec = LOCAL_SETS[name]
    if not present(spec):
        if offline():
            raise TrainSetupError(where_to_put(spec, "downloads are off (DESIGNER_OFFLINE is set)"))
        if not _reachable(spec.host):
            raise TrainSetupError(where_to_put(spec, f"{spec.host} cannot be reached to download it"))
    else:
        check_files(spec)
    return _load(name, present(spec))


_IDX_MAGIC = {1: 0x801, 3: 0x803}   # dimensions → the magic number of MNIST's IDX files (unsigned bytes)


def check_files(spec: LocalSet) -> None:
    """Refuse, naming the file, a dataset file that is truncated or not what it should
    be: MNIST's IDX files by their header and length, CIFAR-10's by torchvision's MD5s."""
    folder = data_dir() / spec.folder
    name = spec.title.split(" (")[0]
    if spec.files == _MNIST_FILES:
        for file in spec.files:
            _check_idx(folder / file, name)
        return
    import hashlib
    import torchvision.datasets as tvd
    cls = getattr(tvd, spec.torchvision_class)
    sums = dict(cls.train_list + cls.test_list)
    sums[cls.meta["filename"]] = cls.meta["md5"]
    for file in spec.files:
        path = folder / file
        if file not in sums:
            continue
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sums[file]:
            raise TrainSetupError(f"The {name} file {path} is damaged (its MD5 is not the published one); "
                                  "delete it and download it again, or put a whole copy there.")


def _check_idx(path: Path, name: str) -> None:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(16)
    dims = 3 if "images" in path.name else 1
    if len(head) < 4 + 4 * dims or int.from_bytes(head[:4], "big") != _IDX_MAGIC[dims]:
        raise TrainSetupError(f"The {name} file {path} is not an MNIST data file (it lacks the IDX header); "
                              "delete it and download it again, or put a whole copy there.")
    shape = [int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    expected = 4 + 4 * dims + int(np.prod(shape))
    if size != expected:
        raise TrainSetupError(f"The {name} file {path} is damaged: it holds {size:,} bytes where its header "
                              f"promises {expected:,}; delete it and download it again, or put a whole copy there.")


@lru_cache(maxsize=2)
def _load(name: str, have_files: bool) -> RawImages:
    import torchvision.datasets as tvd
    spec = LOCAL_SETS[name]
    cls = getattr(tvd, spec.torchvision_class)
    try:
        ds = cls(str(data_dir()), train=True, download=not have_files)
    except Exception as exc:  # noqa: BLE001 - a failed download or a damaged file: say which
        if have_files:
            raise TrainSetupError(f"The {spec.title.split(' (')[0]} files in {data_dir() / spec.folder} cannot be "
                                  f"read ({exc}); delete them and download them again.") from None
        raise TrainSetupError(where_to_put(spec, f"downloading it failed ({exc})")) from None
    data = ds.data
    if isinstance(data, np.ndarray):       # CIFAR: N×H×W×3
        images = torch.from_numpy(data).permute(0, 3, 1, 2).contiguous()
    else:                                  # MNIST: N×H×W
        images = data[:, None].contiguous()
    labels = torch.as_tensor(ds.targets, dtype=torch.int64)
    return RawImages(images, labels, list(spec.classes))
