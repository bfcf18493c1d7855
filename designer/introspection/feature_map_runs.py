"""One forward pass for the feature-map view, away from the window.

A `Job` carries a copy of the document's graph (so an edit made meanwhile cannot
disturb it), the network to run, the weights to run it with and the example to
feed; a `ForwardRunner` prepares the model — compiled with seed 0 and the
document's weights, or with a checkpoint's weights loaded on top, and the input
normalised the way the checkpoint's training run fed its images — then records
every node's output (`activations.capture`) and answers with an `Outcome`.
The compiled model is kept while the job's `model_key` (structure + weights) stays
the same, so stepping through examples or blocks does not rebuild it.

Qt-free: the window runs a ForwardRunner in its worker thread
(designer.ui.feature_maps); tests and scripts call `run` directly. torch is
imported only when a job runs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Job:
    number: int
    graph: object                # a copy: the runner never touches the document being edited
    network: str | None
    model_key: tuple             # structure + weights: the compiled model is reused while it matches
    checkpoint: object           # designer.introspection.weights.Checkpoint to load, or None
    example: object              # designer.introspection.inputs.Example
    macs: int                    # multiply-adds of one forward pass: how many threads are worth it
    weights: dict | None = None  # the document's weights to compile with (name -> tensor), or None


@dataclass
class Outcome:
    number: int
    network: str | None
    example: object
    activations: object = None   # designer.introspection.activations.Activations
    compile_seconds: float = 0.0
    weights_note: str = ""
    error: str = ""


class ForwardRunner:
    """Runs jobs one after another (in whichever thread calls `run`)."""

    def __init__(self, import_torch: Callable[[], None] | None = None):
        self.latest = 0                  # the newest job asked for: older ones are skipped
        self._import_torch = import_torch  # how the first import of torch must happen in this thread
        self._model = None
        self._model_key = None
        self._normalisation = None  # (mean, std) the checkpoint's run fed its images with
        self._note = ""             # what loading the weights had to say, shown with every run

    def run(self, job: Job) -> Outcome | None:
        """The outcome of `job`, errors included as one line; None when a newer job is waiting."""
        if job.number < self.latest:
            return None
        outcome = Outcome(job.number, job.network, job.example)
        try:
            if self._import_torch is not None:
                self._import_torch()
            outcome.compile_seconds, outcome.weights_note = self._prepare(job)
            import torch

            from designer.introspection.activations import capture, forward_threads
            torch.set_num_threads(forward_threads(job.macs))
            x = normalised(job.example.tensor, self._normalisation)
            outcome.activations = capture(self._model, job.graph, x, job.network)
        except Exception as exc:  # noqa: BLE001 - shown as one line in the view, never a traceback
            outcome.error = one_line(exc)
        return outcome

    def _prepare(self, job: Job) -> tuple[float, str]:
        if self._model is not None and self._model_key == job.model_key:
            return 0.0, self._note
        import torch

        from designer.compile import compile_graph
        start = time.perf_counter()
        self._model = None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # "initial weights" are the same draw every time
            model = compile_graph(job.graph, network=job.network, device="cpu", weights=job.weights)
        note = ""
        self._normalisation = None
        if job.checkpoint is not None:
            note, self._normalisation = load_checkpoint(model, job.graph, job.network, job.checkpoint)
        self._model, self._model_key, self._note = model, job.model_key, note
        return time.perf_counter() - start, note


def load_checkpoint(model, graph, network: str | None, checkpoint) -> tuple[str, object]:
    """Load a checkpoint's weights into `model` (the graph compiled for `network`), by name
    and shape. Returns (a note when only some fitted, else "", the (mean, std) its run
    normalised images with, or None). Raises ValueError when none of them fit."""
    from designer.compile.transfer import load_matching, network_share
    from designer.introspection.inputs import input_shape
    from designer.introspection.weights import input_normalisation
    state = checkpoint.state
    if network and len(graph.networks()) > 1:
        state = network_share(state, network) or state  # else a file of this network alone
    report = load_matching(model, state)
    if not report.matched:
        raise ValueError(f"none of the checkpoint's weights fit this network ({report})")
    note = "" if report.ok else f"weights partly loaded: {report}"
    return note, input_normalisation(checkpoint, input_shape(graph, network))


def normalised(x, normalisation):
    """The example as the run fed its images: minus the mean, over the deviation, per channel."""
    if normalisation is None:
        return x
    mean, std = normalisation
    if x.dim() == 1:  # a flattened image: normalise it as the image it was
        c = mean.shape[0]
        side = int(round((x.numel() // c) ** 0.5))
        return ((x.reshape(c, side, side) - mean) / std).reshape(-1)
    return (x - mean) / std


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
