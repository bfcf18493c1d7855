"""Where the weights of one block come from: freshly initialised, attached to the
document (opened from a weights file), or read from a checkpoint a person picks.

Files are read only through `designer.compile.load_torch_file` (weights_only), and
unwrapped by the compile layer's `state_dict_of`, so a training checkpoint, a
weights file and a bare state dict all work.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from designer.graph.format import shape as fmt_shape

from .filters import FilterError


def initial_weight(graph, node_id: str, seed: int = 0) -> torch.Tensor:
    """The block's weight as PyTorch initialises it, seeded so it is the same every
    time the view opens (the values a training run would start from, give or take
    the seed)."""
    node = graph.nodes[node_id]
    info = graph.analyze().nodes.get(node_id)
    if info is None or not info.ok:
        raise FilterError(f"{node.title} has no shape yet: " + (info.errors[0] if info and info.errors else
                                                                "fix the blocks before it"))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = graph.spec(node).build(node.params, info.in_shapes)
    return module.weight.detach()


def has_node_weight(state: dict, graph, node_id: str) -> bool:
    """Does `state` (a document's weights) hold this block's weight?"""
    try:
        node_weight(state, graph, node_id)
    except FilterError:
        return False
    return True


@dataclass
class Checkpoint:
    """Weights read from a file, and how the run that wrote them fed its images."""
    state: dict[str, torch.Tensor]
    name: str                           # for menus: "run3/best.pt"
    config: dict | None = None          # a training run's settings, when the file is a run checkpoint

    @property
    def normalized(self) -> bool:
        """Did training subtract the images' mean and divide by their deviation?"""
        return bool(self.config) and "normalize" in (self.config.get("augment") or []) \
            and self.config.get("task") != "gan"


def read_checkpoint(path) -> Checkpoint:
    """The weights in a .pt file: a training run's checkpoint (last.pt, best.pt), a
    weights file, or a bare state dict. Raises WeightsFileError with one line."""
    from designer.compile.safe_load import load_torch_file
    from designer.compile.transfer import state_dict_of
    path = Path(path)
    data = load_torch_file(path)
    name = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    # a run's checkpoint keeps its networks under "nets" and its settings under "config"
    run = isinstance(data, dict) and isinstance(data.get("nets"), dict) and bool(data["nets"])
    config = data.get("config") if run and isinstance(data.get("config"), dict) else None
    return Checkpoint(state_dict_of(data, path.name), name, config)


def input_normalisation(checkpoint: Checkpoint, input_shape: tuple):
    """(mean, std) per channel, shaped C×1×1, that the run subtracted and divided by,
    measured again exactly as the engine measures them (its first training images);
    None when the run fed images as they are."""
    if not checkpoint.normalized:
        return None
    from designer.train.augment import channel_stats
    from designer.train.batches import prepare
    from designer.train.datasets import FileSet, open_dataset
    from designer.train.engine import NORMALIZE_SAMPLE
    cfg = checkpoint.config
    size = cfg.get("image_size")
    size_hw = None if size is None else (tuple(size) if isinstance(size, (list, tuple)) else (size, size))
    source = open_dataset(cfg.get("dataset", "digits"), tuple(input_shape), val_fraction=cfg.get("val_fraction", 0.2),
                          limit=cfg.get("limit"), size_hw=size_hw)
    split = source.train
    if isinstance(split, FileSet):
        images = torch.stack([split.dataset[i][0] for i in split.indices[:500]]).float() / 255
    else:
        images = prepare(split.images[:NORMALIZE_SAMPLE], split.fitted, source.image_shape)
    mean, std = channel_stats(images)
    return mean[0], std[0]


def node_weight(state: dict, graph, node_id: str) -> torch.Tensor:
    """The weight of `node_id` in a state dict, checked against the block's shape."""
    node = graph.nodes[node_id]
    # in a document of several networks the keys start with the network's name (generator.c1.weight)
    candidates = [f"{node_id}.weight", f"{node.network}.{node_id}.weight"]
    found = next((state[k] for k in candidates if k in state), None)
    if found is None:
        raise FilterError(f"the checkpoint has no weights for {node.title} (no {candidates[0]!r}); "
                          "was it saved from another network?")
    expected = expected_shape(graph, node_id)
    if expected is not None and tuple(found.shape) != expected:
        raise FilterError(f"the checkpoint's {candidates[0]} is {fmt_shape(tuple(found.shape))}, but "
                          f"{node.title} has {fmt_shape(expected)} weights: it was trained on another network")
    return found.detach()


def expected_shape(graph, node_id: str) -> tuple | None:
    """out × in/groups × kh × kw for a Conv2d node whose input shape is known."""
    node = graph.nodes[node_id]
    info = graph.analyze().nodes.get(node_id)
    if node.type != "Conv2d" or info is None or not info.ok:
        return None
    from designer.graph.params import pair
    cin = info.resolved.get("in_channels")
    if cin is None:
        return None
    kh, kw = pair(node.params["kernel_size"])
    return (node.params["out_channels"], cin // node.params["groups"], kh, kw)
