"""What the Feature Maps view shows and decides, without a widget.

A `FeatureMapSession` follows one document (graph, analysis, weights, selection)
and holds what the view shows: the input (a dataset's validation image, an image
file or a drawing, fitted to the network's Input), the weights to run with (fresh
with seed 0, the document's own, or a checkpoint a person opened), the block whose
maps are shown (the selected one, else the first convolution), the last forward
pass and the top-5 of a classifier. It decides which datasets fit the Input, when
a run is needed, what the run is (a `feature_map_runs.Job`), and how a block's
output is drawn: the maps as greys strongest first with their captions, or a
vector as one picture.

The view (designer.ui.feature_maps.FeatureMapPanel) forwards the controller's
signals and the person's choices to the session's methods, runs the jobs it
asks for in a worker thread, and redraws on the session's events (frozen
dataclasses below; subscribe with `subscribe`). While the view is hidden the
session only notes what changed and catches up when shown, so torch and the
datasets load only once the panel is on screen.

No Qt; torch and the datasets are imported only when an input is made.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from designer.observers import Observers

from .feature_map_runs import Job, Outcome

DATASET, FILE, DRAWING = "dataset", "file", "drawing"
SOURCES = {DATASET: "Dataset image", FILE: "Image file", DRAWING: "Drawing"}
SHARED, EACH = "shared", "each"
SCALES = {SHARED: "One scale for the block", EACH: "Each map on its own scale"}
INITIAL, DOCUMENT = "initial", "document"
INITIAL_LABEL, DOCUMENT_LABEL = "Initial weights (seed 0)", "The document's weights"
SELECT_HINT = "Select a block on the canvas to see its maps."
ENLARGE_HINT = "Click a map to enlarge it."


# ---- colouring maps (numpy only) --------------------------------------------------------------

def map_pictures(activation, scale: str = SHARED) -> tuple[np.ndarray, float, float]:
    """C×H×W activations → C×H×W greys in [0, 1], and the (low, high) values drawn black
    and white. Maps that are all ≥ 0 (after a ReLU) run from black at 0; signed maps
    (after tanh) put 0 at mid grey so that negative and positive read apart. `shared`
    uses one scale for the whole block, so weak channels look weak."""
    a = np.asarray(activation, dtype=np.float64)
    signed = bool((a < 0).any())
    if scale == SHARED:
        peak = np.abs(a).max() if a.size else 0.0
        peaks = np.full((a.shape[0], 1, 1), peak)
    else:
        peaks = np.abs(a).reshape(a.shape[0], -1).max(axis=1).reshape(-1, 1, 1)
    safe = np.where(peaks > 0, peaks, 1.0)
    pictures = (a / safe + 1.0) / 2.0 if signed else a / safe
    peak = float(peaks.max()) if peaks.size else 0.0
    return np.clip(pictures, 0.0, 1.0), (-peak if signed else 0.0), peak


def vector_picture(values) -> np.ndarray:
    """A vector laid out as a near-square grid of cells, one per unit (as the Deep
    Visualization Toolbox draws fully connected layers); unused cells are left dark."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    side = int(np.ceil(np.sqrt(len(v)))) or 1
    rows = int(np.ceil(len(v) / side)) or 1
    pictures, _lo, _hi = map_pictures(v.reshape(-1, 1, 1))
    grid = np.zeros(rows * side)
    grid[:len(v)] = pictures.reshape(-1)
    return grid.reshape(rows, side)


# ---- what the view is told ----------------------------------------------------------------------

@dataclass(frozen=True)
class InputChoice:
    """The input controls: where the example comes from and what may be chosen."""
    source: str                                  # DATASET, FILE or DRAWING
    datasets: tuple[tuple[str, str], ...]        # (name, title) of the datasets that fit the Input
    dataset: str | None
    index: int                                   # validation image, from 0
    dataset_size: int                            # how many there are (at least 1)
    file: Path | None
    drawing_allowed: bool                        # a drawing pad makes sense for grey (digit) networks
    pad_side: int                                # 28 or 32: the drawing's resolution


@dataclass(frozen=True)
class WeightChoice:
    choices: tuple[tuple[str, str], ...]         # (key, label): INITIAL, DOCUMENT, "file:…"
    current: str


@dataclass(frozen=True, eq=False)  # holds arrays: compare the fields, not the objects
class Enlarged:
    """The tile shown large beside the grid."""
    picture: np.ndarray | None                   # greys in [0, 1]; None: nothing
    caption: str
    selected: int | None = None                  # the grid tile it is (None: no tile is marked)


@dataclass(frozen=True, eq=False)
class BlockMaps:
    """What the grid shows for one block."""
    node_id: str | None
    title: str
    pictures: tuple = ()                         # greys in [0, 1], one per tile, in the order shown
    captions: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    columns: int | None = None                   # None: as square as the count allows
    order: tuple[int, ...] = ()                  # the channel of each tile (strongest first)
    status: str | None = None                    # the line under the grid (None: leave it as it is)
    enlarged: Enlarged = Enlarged(None, ENLARGE_HINT)


# events, each carrying what the view redraws
@dataclass(frozen=True)
class InputChoiceChanged:
    choice: InputChoice


@dataclass(frozen=True)
class ExampleChanged:
    example: object                              # designer.introspection.inputs.Example


@dataclass(frozen=True)
class WeightChoiceChanged:
    choice: WeightChoice


@dataclass(frozen=True)
class MessageChanged:
    text: str                                    # one line; "" hides it


@dataclass(frozen=True)
class MapsChanged:
    maps: BlockMaps


@dataclass(frozen=True)
class EnlargedChanged:
    enlarged: Enlarged


@dataclass(frozen=True)
class PredictionsChanged:
    predictions: tuple | None                    # designer.introspection.predictions.Prediction; None: not a classifier


@dataclass(frozen=True)
class RunScheduled:
    """Something the run depends on changed: run once changes settle (edits come in bursts)."""


@dataclass(frozen=True)
class RunRequested:
    job: Job


SessionEvent = (InputChoiceChanged | ExampleChanged | WeightChoiceChanged | MessageChanged | MapsChanged
                | EnlargedChanged | PredictionsChanged | RunScheduled | RunRequested)


# ---- the session ----------------------------------------------------------------------------------

@dataclass
class _Shown:
    """The block on screen: its maps, which tile is large."""
    maps: BlockMaps
    values: np.ndarray | None = None             # C×H×W activations behind the tiles (None for a vector)
    selected: int | None = None


class FeatureMapSession:
    """The state of the Feature Maps view and every decision about it. `document` is any
    object with `graph`, `analysis`, `weights` and `selection` (a designer.document.Document)."""

    def __init__(self, document=None):
        self.document = document
        self.visible = False
        self.example = None                      # designer.introspection.inputs.Example
        self.outcome: Outcome | None = None
        self.predictions: list = []
        self.message = ""
        self.scale = SHARED
        self.node_id: str | None = None          # the selected block (None: the first convolution)
        self.job_number = 0
        # the input
        self.source = DATASET
        self.datasets: list[tuple[str, str]] = []
        self.dataset: str | None = None
        self.index = 0
        self.dataset_size = 1
        self.file: Path | None = None
        self.drawing: np.ndarray | None = None   # the pad's grid; None: blank
        self.drawing_allowed = True
        self.pad_side = 28
        # the weights
        self.weight_choices: list[tuple[str, str]] = [(INITIAL, INITIAL_LABEL)]
        self.weights_key = INITIAL
        self._checkpoints: dict[str, object] = {}  # key -> Checkpoint
        self._weights_revision = 0               # a new one each time the document's weights change
        self._shown = _Shown(BlockMaps(None, ""))
        # while hidden, what changed is only noted
        self._stale_document = True
        self._stale_run = False
        self._listeners: Observers[SessionEvent] = Observers()

    # ---- observing ------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[SessionEvent], None]) -> Callable[[], None]:
        return self._listeners.subscribe(callback)

    def _emit(self, event) -> None:
        self._listeners.emit(event)

    # ---- the document -----------------------------------------------------------------------------
    @property
    def graph(self):
        return self.document.graph

    def network(self) -> str | None:
        """The network of the block shown (a GAN document holds two)."""
        nets = self.graph.networks()
        if len(nets) <= 1:
            return None
        node = self.graph.nodes.get(self.node_id or "")
        return node.network if node else nets[0]

    def input_shape(self) -> tuple:
        from designer.introspection.inputs import input_shape
        return input_shape(self.graph, self.network())

    def open(self, document) -> None:
        """Another document, or the same one with another graph: start again."""
        self.document = document
        self.outcome = None
        self.node_id = None
        if self._hidden(document=True):
            return
        self._stale_document = self._stale_run = False
        self._checkpoints = {}
        self.weight_choices = [(INITIAL, INITIAL_LABEL)]
        self.weights_key = INITIAL
        self._offer_document_weights(announce=False)
        self._emit(WeightChoiceChanged(self.weight_choice()))
        self._fill_datasets()
        self.select(list(document.selection))
        self._dataset_changed()

    def select(self, ids) -> None:
        """The canvas selection changed: show the first selected block."""
        ids = [i for i in ids if i in self.graph.nodes]
        before = self.network()
        self.node_id = ids[0] if ids else None
        if self._hidden():
            return
        if self.network() != before:
            self._load_example()  # another network of the document: another Input
        self.show_node()

    def analysis_changed(self) -> None:
        """An edit was analysed: refit the example if the Input changed, and run again."""
        if self.node_id and self.node_id not in self.graph.nodes:
            self.node_id = None
        if self._hidden():
            return  # torch loads only once the view is shown
        from designer.introspection.inputs import InputError
        self._stale_run = False
        try:
            shape = self.input_shape()
        except InputError as exc:
            self._show_message(str(exc))
            return
        if self.example is None or tuple(self.example.tensor.shape) != tuple(shape):
            self._fill_datasets()  # the Input changed: another size, maybe grey ↔ colour
            if self.source == DATASET:
                self._dataset_changed()
            else:
                self._load_example()
        else:
            self.schedule_run()

    def weights_changed(self) -> None:
        """The document's weights were loaded, merged or dropped: offer them, and run with them."""
        self._weights_revision += 1
        if self._hidden():
            return
        ran_with_them = self.weights_key == DOCUMENT
        self._offer_document_weights()
        if ran_with_them or self.weights_key == DOCUMENT:
            self.schedule_run()

    # ---- being on screen ----------------------------------------------------------------------------
    def set_visible(self, visible: bool) -> None:
        """The view was shown (catch up on what changed meanwhile) or hidden."""
        self.visible = visible
        if not visible:
            return
        if self._stale_document:
            self.open(self.document)
        elif self._stale_run:
            self.analysis_changed()
            self.show_node()

    def _hidden(self, document: bool = False) -> bool:
        """True (and the change noted for later) while the view is not on screen."""
        if self.visible:
            return False
        self._stale_document |= document
        self._stale_run = True
        return True

    # ---- the input ----------------------------------------------------------------------------------
    def input_choice(self) -> InputChoice:
        return InputChoice(self.source, tuple(self.datasets), self.dataset, self.index, self.dataset_size,
                           self.file, self.drawing_allowed, self.pad_side)

    def set_source(self, source: str) -> None:
        if source not in SOURCES:
            raise ValueError(f"unknown input source {source!r}")
        self.source = source
        self._emit(InputChoiceChanged(self.input_choice()))
        self._load_example()

    def set_dataset(self, name: str) -> None:
        self.dataset = name
        self._dataset_changed()

    def set_index(self, index: int) -> None:
        """Validation image `index` (from 0) of the dataset chosen."""
        self.index = min(max(int(index), 0), self.dataset_size - 1)
        self._load_example()

    def set_dataset_sample(self, name: str, index: int) -> None:
        """Show validation image `index` (from 0) of dataset `name`."""
        self.source = DATASET
        names = [n for n, _title in self.datasets]
        self.dataset = name if name in names else (names[0] if names else None)
        self._dataset_changed(load=False)
        self.index = min(max(int(index), 0), self.dataset_size - 1)
        self._emit(InputChoiceChanged(self.input_choice()))
        self._load_example()

    def set_image_file(self, path) -> None:
        self.file = Path(path)
        self.source = FILE
        self._emit(InputChoiceChanged(self.input_choice()))
        self._load_example()

    def set_drawing(self, grid) -> None:
        """The drawing pad's grid after a stroke (white ink on black, values in [0, 1])."""
        self.drawing = np.asarray(grid, dtype=np.float32)
        self._load_example()

    def _fill_datasets(self) -> None:
        """The datasets whose images fit the Input, the one its training uses first."""
        from designer.introspection.inputs import InputError, image_shape
        from designer.train.datasets import available_datasets
        try:
            channels, height, _width = image_shape(self.input_shape())
        except InputError:
            channels, height = 1, 28
        preferred = str((self.graph.meta.get("training") or {}).get("dataset", "digits"))
        # grey images can become colour and colour grey; nothing else converts
        usable = [d for d in available_datasets()
                  if d.available and (d.channels in (1, channels) or channels == 1)]
        self.datasets = [(info.name, info.title) for info in usable]
        names = [info.name for info in usable]
        self.dataset = preferred if preferred in names else (names[0] if names else None)
        self.drawing_allowed = channels == 1
        side = 32 if height >= 32 else 28
        if side != self.pad_side:
            self.pad_side, self.drawing = side, None  # a pad of another size starts blank
        self._emit(InputChoiceChanged(self.input_choice()))

    def _dataset_changed(self, load: bool = True) -> None:
        from designer.graph.errors import GraphError
        from designer.introspection.inputs import dataset_size
        if not self.dataset:
            return
        try:
            size = dataset_size(self.dataset, self.input_shape())
        except GraphError as exc:
            self._show_message(str(exc))
            return
        self.dataset_size = max(1, size)
        self.index = min(self.index, self.dataset_size - 1)
        self._emit(InputChoiceChanged(self.input_choice()))
        if load:
            self._load_example()

    def _load_example(self) -> None:
        from designer.graph.errors import GraphError
        from designer.introspection import inputs
        try:
            shape = self.input_shape()
            if self.source == DATASET:
                if not self.dataset:
                    return
                example = inputs.from_dataset(self.dataset, self.index, shape)
            elif self.source == FILE:
                if self.file is None:
                    self._show_message("Choose an image file.")
                    return
                example = inputs.from_file(self.file, shape)
            else:
                drawing = self.drawing if self.drawing is not None else np.zeros((self.pad_side,) * 2, np.float32)
                example = inputs.from_drawing(drawing, shape)
        except GraphError as exc:
            self._show_message(str(exc))
            return
        self._show_message("")
        self.example = example
        self._emit(ExampleChanged(example))
        self.schedule_run()

    # ---- the weights --------------------------------------------------------------------------------
    def weight_choice(self) -> WeightChoice:
        return WeightChoice(tuple(self.weight_choices), self.weights_key)

    def choose_weights(self, key: str) -> None:
        if key not in dict(self.weight_choices):
            raise ValueError(f"no weights {key!r} to choose")
        self.weights_key = key
        self.schedule_run()

    def add_checkpoint(self, key: str, checkpoint) -> None:
        """Offer a checkpoint's weights (designer.introspection.weights.Checkpoint) and choose them."""
        self._checkpoints[key] = checkpoint
        if key not in dict(self.weight_choices):
            self.weight_choices.append((key, f"Checkpoint {checkpoint.name}"))
        self.weights_key = key
        self._emit(WeightChoiceChanged(self.weight_choice()))
        self.schedule_run()

    def load_checkpoint(self, path) -> bool:
        """Read a .pt file (a run's best.pt or last.pt, a weights file) and run with it."""
        from designer.graph.errors import GraphError
        from designer.introspection.weights import read_checkpoint
        try:
            checkpoint = read_checkpoint(path)
        except GraphError as exc:
            self._show_message(str(exc))
            return False
        self.add_checkpoint(f"file:{Path(path).resolve()}", checkpoint)
        return True

    def _offer_document_weights(self, announce: bool = True) -> None:
        """The document's weights (opened from a weights file, or loaded into the drawing by
        fine-tuning) are offered, and chosen when they first appear."""
        keys = dict(self.weight_choices)
        has = bool(self.document.weights)
        if has and DOCUMENT not in keys:
            self.weight_choices.insert(0, (DOCUMENT, DOCUMENT_LABEL))
            self.weights_key = DOCUMENT
        elif not has and DOCUMENT in keys:
            self.weight_choices = [c for c in self.weight_choices if c[0] != DOCUMENT]
            if self.weights_key == DOCUMENT:
                self.weights_key = self.weight_choices[0][0]
        else:
            return
        if announce:
            self._emit(WeightChoiceChanged(self.weight_choice()))

    # ---- running ------------------------------------------------------------------------------------
    def schedule_run(self) -> None:
        self._emit(RunScheduled())

    def run_now(self) -> Job | None:
        """The job that sends the current example through the network (announced as RunRequested),
        or None when there is nothing to run or the network has errors (then said in the message)."""
        if self.example is None:
            return None
        analysis = self.document.analysis
        network = self.network()
        errors = [m for i, m in analysis.errors if i is None or network is None
                  or self.graph.nodes[i].network == network]
        if errors:
            self._show_message(f"The network has {len(errors)} error{'s' if len(errors) > 1 else ''} "
                               f"({errors[0]}); fix {'them' if len(errors) > 1 else 'it'} to see its maps.")
            return None
        self._offer_document_weights()
        key = self.weights_key
        document_weights = key == DOCUMENT and bool(self.document.weights)
        self.job_number += 1
        # the document's weights are compiled in; a checkpoint is loaded onto a fresh model
        weights_key = (key, self._weights_revision if document_weights else None)
        job = Job(self.job_number, self.graph.copy(), network, (structure_key(self.graph), weights_key),
                  self._checkpoints.get(key), self.example, analysis.macs,
                  dict(self.document.weights) if document_weights else None)
        self._emit(RunRequested(job))
        return job

    def finished(self, outcome: Outcome) -> bool:
        """A run came back; False (and nothing shown) when a newer one was asked for meanwhile."""
        if outcome.number != self.job_number:
            return False
        if outcome.error:
            self._show_message(outcome.error)
            self.outcome = None
        else:
            self._show_message(outcome.weights_note)
            self.outcome = outcome
            self._show_predictions()
            self.show_node()
        return True

    # ---- what is shown ------------------------------------------------------------------------------
    def shown_node(self) -> str | None:
        """The block whose maps are shown: the selected one, else the first convolution."""
        if self.node_id:
            return self.node_id
        for node_id, node in self.graph.nodes.items():
            if node.type == "Conv2d" and (self.network() is None or node.network == self.network()):
                return node_id
        return None

    def channel_order(self) -> list[int]:
        """The channels in the order the grid shows them (strongest first)."""
        return list(self._shown.maps.order)

    def enlarged_channel(self) -> int | None:
        index, order = self._shown.selected, self._shown.maps.order
        return order[index] if index is not None and index < len(order) else None

    def set_scale(self, scale: str) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}")
        self.scale = scale
        self.show_node()

    def show_node(self) -> BlockMaps:
        """Draw the shown block's output from the last run (announced as MapsChanged)."""
        maps, values = self._block_maps()
        self._shown = _Shown(maps, values, maps.enlarged.selected)
        self._emit(MapsChanged(maps))
        return maps

    def _block_maps(self) -> tuple[BlockMaps, np.ndarray | None]:
        node_id = self.shown_node()
        if self.outcome is None or node_id is None:
            return BlockMaps(node_id, SELECT_HINT if node_id is None else ""), None
        node = self.graph.nodes[node_id]
        value = self.outcome.activations.of(node_id)
        if value is None:
            return BlockMaps(node_id, f"{node.title}: nothing to show (it is not part of the network that ran)."), None
        acts = self.outcome.activations
        hint = "" if self.node_id else "Showing the first convolution: click a block on the canvas to choose. "
        timing = f"One forward pass: {acts.seconds * 1000:.1f} ms on the CPU"
        if self.outcome.compile_seconds:
            timing += f" (building the network: {self.outcome.compile_seconds * 1000:.0f} ms)"
        values = value.numpy() if value.dim() == 3 else None
        if values is not None:
            maps = self._maps(node_id, node, values)
        else:
            maps = self._vector(node_id, node, value.numpy().reshape(-1))
        return replace(maps, status=f"{hint}{maps.status} {timing}."), values

    def _maps(self, node_id: str, node, maps: np.ndarray) -> BlockMaps:
        import torch

        from designer.introspection.activations import channel_strengths, strongest_first
        strengths = channel_strengths(torch.from_numpy(maps)).numpy()
        order = strongest_first(torch.from_numpy(maps))
        pictures, lo, hi = map_pictures(maps, self.scale)
        tiles = tuple(pictures[c] for c in order)
        captions = tuple(f"{c + 1} · {strengths[c]:.2g}" for c in order)
        tips = tuple(f"channel {c + 1}: mean |activation| {strengths[c]:.4g}, from {maps[c].min():.4g} "
                     f"to {maps[c].max():.4g}" for c in order)
        c, h, w = maps.shape
        title = f"{node.title}: {c} map{'s' if c != 1 else ''} of {h}×{w}, strongest first"
        zero = f"black {lo:.3g}, mid grey 0, white {hi:.3g}" if lo < 0 else f"black 0, white {hi:.3g}"
        if self.scale == EACH:
            zero = "each map stretched to its own largest |value|" + ("; 0 is mid grey" if lo < 0 else "")
        enlarged = _enlarged_map(maps, order, tiles, 0) if tiles else Enlarged(None, ENLARGE_HINT)
        return BlockMaps(node_id, title, tiles, captions, tips, None, tuple(order),
                         f"Under each map: channel · mean |activation|; {zero}.", enlarged)

    def _vector(self, node_id: str, node, values: np.ndarray) -> BlockMaps:
        picture = vector_picture(values)
        top = np.argsort(-np.abs(values))[:3]
        tip = ("one cell per value, row by row; largest |value| at "
               + ", ".join(f"{i + 1} ({values[i]:.3g})" for i in top))
        return BlockMaps(node_id, f"{node.title}: a vector of {len(values)} values", (picture,),
                         (f"{len(values)} values",), (tip,), 1, (), "One cell per value, row by row.",
                         Enlarged(picture, f"Values from {values.min():.4g} to {values.max():.4g}"))

    def enlarge(self, index: int) -> Enlarged | None:
        """Show tile `index` (as ordered on screen) large beside the grid (announced as EnlargedChanged)."""
        shown = self._shown
        if not 0 <= index < len(shown.maps.pictures):
            return None
        shown.selected = index
        if shown.values is not None:
            enlarged = _enlarged_map(shown.values, shown.maps.order, shown.maps.pictures, index)
        else:  # a vector's one picture: the caption stays
            enlarged = Enlarged(shown.maps.pictures[index], shown.maps.enlarged.caption, index)
        self._emit(EnlargedChanged(enlarged))
        return enlarged

    def _show_predictions(self) -> None:
        from designer.introspection.predictions import class_names, classifier_output, top_k
        node_id = classifier_output(self.graph, self.document.analysis, self.network())
        scores = self.outcome.activations.of(node_id) if node_id else None
        self.predictions = []
        if scores is None:
            self._emit(PredictionsChanged(None))
            return
        names = class_names(self.graph, scores.numel(), self.example.class_names)
        self.predictions = top_k(scores, names, 5, self.graph.nodes[node_id].type)
        self._emit(PredictionsChanged(tuple(self.predictions)))

    def _show_message(self, text: str) -> None:
        self.message = text
        self._emit(MessageChanged(text))


def _enlarged_map(maps: np.ndarray, order, pictures, index: int) -> Enlarged:
    c = order[index]
    m = maps[c]
    caption = (f"Channel {c + 1}, rank {index + 1}\n{m.shape[0]}×{m.shape[1]}, {m.min():.3g} to {m.max():.3g}\n"
               f"mean |activation| {np.abs(m).mean():.3g}")
    return Enlarged(pictures[index], caption, index)


def structure_key(graph) -> tuple:
    """Changes whenever the compiled network would: nodes, their settings, edges, and the
    insides of the document's own composite blocks (an edit inside one leaves the
    revisions of the blocks using it as they were)."""
    return _wiring(graph), tuple((name, _wiring(d.graph)) for name, d in sorted(graph.composites.items()))


def _wiring(graph) -> tuple:
    return tuple((i, n.type, n.revision, n.network) for i, n in graph.nodes.items()), tuple(graph.edges), id(graph)
