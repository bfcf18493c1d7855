"""Top-5 for classifiers: which classes the network favours for one input, with
their probabilities and names."""
from __future__ import annotations

from dataclasses import dataclass

import torch

# what the last block already did to the scores
_PROBABILITIES, _LOG_PROBABILITIES = "Softmax", "LogSoftmax"
NOT_CLASSIFIER_TASKS = ("segmentation", "vae", "gan")


@dataclass(frozen=True)
class Prediction:
    index: int
    name: str
    probability: float


def classifier_output(graph, analysis, network: str | None = None) -> str | None:
    """The node whose output holds class scores, or None when the network is not a
    classifier (several outputs, an image output, a VAE, a GAN…)."""
    task = str((graph.meta.get("training") or {}).get("task", "auto"))
    if task in NOT_CLASSIFIER_TASKS or len(graph.networks()) > 1:
        return None
    outputs = [(i, n) for i, n in analysis.outputs if network is None or graph.nodes[i].network == network]
    if len(outputs) != 1:
        return None
    node_id = outputs[0][0]
    if graph.nodes[node_id].type == "Output":
        feeding = graph.edges_into(node_id)
        if not feeding:
            return None
        node_id = feeding[0].src
    shape = analysis.nodes[node_id].output_shape if node_id in analysis.nodes else None
    if shape is None or len(shape) != 1 or shape[0] < 2:
        return None
    return node_id


def class_names(graph, num_classes: int, given: list[str] | None = None) -> list[str]:
    """The names of the classes: those the example came with, else the training
    dataset's, else 0, 1, 2…"""
    names = list(given or [])
    if len(names) != num_classes:
        names = _dataset_names(str((graph.meta.get("training") or {}).get("dataset", "")))
    if len(names) != num_classes:
        names = [str(i) for i in range(num_classes)]
    return names


def _dataset_names(dataset: str) -> list[str]:
    from designer.train.datasets import digits, local_files, shapes
    if dataset == "digits":
        return list(digits.CLASSES)
    if dataset == "shapes":
        return list(shapes.CLASSES)
    if dataset in local_files.LOCAL_SETS:
        return list(local_files.LOCAL_SETS[dataset].classes)
    return []


def top_k(scores: torch.Tensor, names: list[str], k: int = 5, kind: str = "") -> list[Prediction]:
    """The k most probable classes. `kind` is the type of the block that produced
    `scores`: Softmax gives probabilities already, LogSoftmax their logarithms,
    anything else raw scores (logits) that softmax turns into probabilities."""
    scores = scores.detach().float().reshape(-1)
    if kind == _PROBABILITIES:
        probs = scores
    elif kind == _LOG_PROBABILITIES:
        probs = scores.exp()
    else:
        probs = torch.softmax(scores, dim=0)
    k = min(k, len(probs))
    values, indices = torch.topk(probs, k)
    return [Prediction(int(i), names[int(i)] if int(i) < len(names) else str(int(i)), float(v))
            for v, i in zip(values, indices)]
