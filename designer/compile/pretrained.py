"""torchvision's ImageNet weights for the networks that are torchvision's.

A document whose layers are named as one of torchvision's builders says so in
`meta["torchvision"]` (the presets vgg11/13/16/19, resnet18/34/50 and the transfer
preset; imported torchvision models). Its ImageNet weights are the file torchvision
itself uses: the URL and file name of the builder's `IMAGENET1K_V1` weights
(`resnet18-f37072fd.pth`), kept in torch hub's cache (`$TORCH_HOME/hub/checkpoints`,
`torch.hub.get_dir()`), where `torchvision.models.resnet18(weights=...)` looks too.

When the file is not there it is downloaded with a progress bar and its hash
checked (torch hub's convention: the name's suffix is the start of the file's
SHA-256); offline (`DESIGNER_OFFLINE` set, or the download fails) one sentence names
the file and the folder to put it in. The file is read with `weights_only=True`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from designer.graph.presets import PRETRAINED_WEIGHTS as WEIGHTS, torchvision_model  # noqa: F401 (re-exported)
from .errors import WeightsFileError

_HASH = re.compile(r"-([a-f0-9]*)\.")   # torch.hub's HASH_REGEX: resnet18-f37072fd.pth -> f37072fd


class PretrainedUnavailable(WeightsFileError):
    """The weights file is neither in the cache nor downloadable; the message says where to put it."""


@dataclass(frozen=True)
class Pretrained:
    """Where torchvision's ImageNet weights of one builder live."""
    model: str          # the torchvision builder: resnet18
    weights: str        # IMAGENET1K_V1
    url: str
    folder: Path        # torch hub's checkpoints folder

    @property
    def file_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def path(self) -> Path:
        return self.folder / self.file_name

    @property
    def cached(self) -> bool:
        return self.path.is_file()

    def missing_sentence(self, why: str) -> str:
        return (f"{self.file_name} (torchvision's {self.model} {self.weights} weights) is not in {self.folder} "
                f"and {why}: put it there (from {self.url}).")


def hub_folder() -> Path:
    """torch hub's checkpoints folder, read now (TORCH_HOME may change between calls)."""
    import torch.hub
    return Path(torch.hub.get_dir()) / "checkpoints"


def pretrained_for(model: str, weights: str = WEIGHTS) -> Pretrained:
    """The weights `weights` of torchvision's builder `model` (no download, no torch import beyond hub)."""
    from torchvision.models import get_model_weights
    try:
        enum = get_model_weights(model)
    except (ValueError, KeyError):
        raise WeightsFileError(f"torchvision has no network {model!r}") from None
    try:
        entry = enum[weights]
    except KeyError:
        known = ", ".join(w.name for w in enum)
        raise WeightsFileError(f"torchvision's {model} has no weights {weights!r} (it has {known})") from None
    return Pretrained(model, weights, entry.url, hub_folder())


def offline() -> bool:
    """Downloads are off (the same switch as the datasets': DESIGNER_OFFLINE)."""
    return os.environ.get("DESIGNER_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def fetch(model: str, weights: str = WEIGHTS, progress: bool = True) -> Path:
    """The cached weights file of `model`, downloaded first (progress bar on stderr, hash
    checked) when it is not cached; PretrainedUnavailable with one sentence when it cannot be."""
    entry = pretrained_for(model, weights)
    if entry.cached:
        return entry.path
    if offline():
        raise PretrainedUnavailable(entry.missing_sentence("downloads are off (DESIGNER_OFFLINE is set)"))
    import torch.hub
    match = _HASH.search(entry.file_name)
    try:
        entry.folder.mkdir(parents=True, exist_ok=True)
        # writes to a temporary file beside the target and renames it only when the hash agrees
        torch.hub.download_url_to_file(entry.url, str(entry.path), match.group(1) if match else None,
                                       progress=progress)
    except RuntimeError as exc:   # torch.hub's "invalid hash value"
        raise PretrainedUnavailable(entry.missing_sentence(f"the download was damaged ({exc})")) from None
    except OSError as exc:        # URLError, a timeout, a full disk
        reason = getattr(exc, "reason", None) or exc
        raise PretrainedUnavailable(entry.missing_sentence(f"could not be downloaded ({reason})")) from None
    return entry.path


def read(model: str, weights: str = WEIGHTS, progress: bool = True) -> dict:
    """torchvision's state dict of `model`'s weights, fetched as `fetch` does and read safely."""
    from .transfer import read_state
    return read_state(fetch(model, weights, progress))
