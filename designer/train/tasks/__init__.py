"""Tasks: what is learnt from a graph and a dataset.

`choose_task` infers it (overridable with the `task` setting):
a document with networks "generator" and "discriminator" is a GAN; a graph with
a Reparameterize block is a VAE; a network that outputs maps (K×H×W) is a
segmentation; anything else is a classification.
"""
from __future__ import annotations

from ..errors import TrainSetupError
from .base import Batch, Meter, StepContext, Task
from .classification import Classification
from .gan import GAN, is_gan, network_input
from .segmentation import Segmentation
from .vae import VAE

TASKS = {"classification": Classification, "segmentation": Segmentation, "vae": VAE, "gan": GAN}


def choose_task(graph, analysis, requested: str = "auto") -> str:
    if requested != "auto":
        if requested == "gan" and not is_gan(graph):
            raise TrainSetupError('A GAN needs two networks named "generator" and "discriminator" in the document.')
        return requested
    if is_gan(graph):
        return "gan"
    if any(n.type == "Reparameterize" for n in graph.nodes.values()):
        return "vae"
    shapes = list(analysis.output_shapes.values())
    if len(shapes) == 1 and len(shapes[0]) == 3 and shapes[0][1] * shapes[0][2] > 1:
        return "segmentation"
    return "classification"


def data_input_shape(graph, analysis, kind: str) -> tuple:
    """The shape of the images the data must be fitted to."""
    if kind == "gan":
        return network_input(graph, analysis, "discriminator")
    if len(graph.networks()) > 1:
        raise TrainSetupError(f"This document holds the networks {', '.join(graph.networks())}; only a GAN "
                              '("generator" and "discriminator") trains more than one.')
    shapes = analysis.input_shapes
    if len(shapes) != 1:
        raise TrainSetupError(f"The network has {len(shapes)} Inputs; training feeds it one batch of images.")
    return tuple(next(iter(shapes.values())))


def make_task(kind: str, graph, source, config, analysis) -> Task:
    return TASKS[kind](graph, source, config, analysis)


__all__ = ["Batch", "Meter", "StepContext", "Task", "TASKS", "choose_task", "data_input_shape", "make_task"]
