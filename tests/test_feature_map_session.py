"""The Feature Maps view's decisions without a widget: designer.introspection's
FeatureMapSession (what is shown, which input, which weights, when to run) and
ForwardRunner (the forward pass, compiled with the document's or a checkpoint's
weights), held against PyTorch computing the same things directly.

No Qt here: the session is driven the way the panel drives it (open, select,
analysis_changed, weights_changed, run_now, finished) and its events are read
as the panel reads them. tests/test_ui_feature_maps.py drives the real panel."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from designer import load_graph
from designer.bundled import samples_dir
from designer.compile import compile_graph
from designer.document import Document
from designer.graph.model import SetParam
from designer.introspection.feature_map_runs import ForwardRunner, Job, normalised, one_line
from designer.introspection.feature_map_session import (DATASET, DOCUMENT, DRAWING, EACH, FILE, INITIAL, SELECT_HINT,
                                                        EnlargedChanged, ExampleChanged, FeatureMapSession,
                                                        InputChoiceChanged, MapsChanged,
                                                        PredictionsChanged, RunRequested, RunScheduled,
                                                        WeightChoiceChanged, map_pictures, vector_picture)
from designer.introspection.weights import Checkpoint
from graphs import module_outputs, tiny_gan


class Driver:
    """What the panel does, without Qt: run each requested job at once and hand the outcome back."""

    def __init__(self, document):
        self.document = document
        self.session = FeatureMapSession(document)
        self.runner = ForwardRunner()
        self.events = []
        self.session.subscribe(self.events.append)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def run(self):
        """The debounce timer fired: run the job, show its outcome."""
        job = self.session.run_now()
        assert job is not None, self.session.message
        outcome = self.runner.run(job)
        assert not outcome.error, outcome.error
        assert self.session.finished(outcome)
        return outcome


@pytest.fixture
def lenet():
    driver = Driver(load_graph("lenet5"))
    driver.session.set_visible(True)
    driver.run()
    return driver


def test_a_hidden_session_waits_then_catches_up():
    driver = Driver(load_graph("lenet5"))
    session = driver.session
    session.select(["c3"])
    session.analysis_changed()
    session.weights_changed()
    assert driver.events == [] and session.example is None  # nothing loaded while off screen
    session.set_visible(True)
    choice = driver.of(InputChoiceChanged)[-1].choice
    assert choice.source == DATASET and choice.dataset == "digits" and choice.pad_side == 32
    assert choice.drawing_allowed and choice.dataset_size > 1
    assert "digits" in dict(choice.datasets)
    assert driver.of(ExampleChanged)[-1].example is session.example
    assert tuple(session.example.tensor.shape) == (1, 32, 32)
    assert driver.of(WeightChoiceChanged)[-1].choice.choices == ((INITIAL, "Initial weights (seed 0)"),)
    assert driver.of(RunScheduled)
    driver.run()
    assert session.shown_node() == "c1"  # the selection was cleared with the new document


def test_the_first_convolution_is_shown_until_a_block_is_selected(lenet):
    session, x = lenet.session, lenet.session.example.tensor
    maps = lenet.of(MapsChanged)[-1].maps
    expected = module_outputs(session.graph, x)["c1"]
    assert maps.node_id == "c1" and maps.title == "C1: 6 maps of 28×28, strongest first"
    assert maps.status.startswith("Showing the first convolution")
    strengths = expected.abs().mean(dim=(1, 2))
    assert list(maps.order) == torch.argsort(strengths, descending=True, stable=True).tolist()
    assert maps.captions[0] == f"{maps.order[0] + 1} · {strengths[maps.order[0]]:.2g}"
    pictures, _lo, _hi = map_pictures(expected.numpy())
    np.testing.assert_allclose(maps.pictures[0], pictures[maps.order[0]], atol=1e-6)
    assert maps.enlarged.selected == 0 and maps.enlarged.caption.startswith(f"Channel {maps.order[0] + 1}, rank 1")
    session.select(["c3"])
    maps = lenet.of(MapsChanged)[-1].maps
    assert maps.node_id == "c3" and len(maps.pictures) == 16 and not maps.status.startswith("Showing")
    torch.testing.assert_close(session.outcome.activations.of("c3"), module_outputs(session.graph, x)["c3"])


def test_top5_equals_torch(lenet):
    session = lenet.session
    scores = module_outputs(session.graph, session.example.tensor)["__result__"]
    values, indices = torch.topk(torch.softmax(scores, 0), 5)
    predictions = lenet.of(PredictionsChanged)[-1].predictions
    assert [p.name for p in predictions] == [str(i) for i in indices.tolist()]
    assert [p.probability for p in predictions] == pytest.approx(values.tolist(), abs=1e-6)
    assert session.predictions == list(predictions)


def test_vectors_scales_and_enlarging(lenet):
    session = lenet.session
    session.select(["f6"])
    maps = lenet.of(MapsChanged)[-1].maps
    assert maps.title == "F6: a vector of 84 values" and maps.columns == 1 and len(maps.pictures) == 1
    assert maps.enlarged.caption.startswith("Values from") and maps.enlarged.selected is None
    assert session.enlarge(0).caption == maps.enlarged.caption and session.enlarge(1) is None
    session.select(["c1"])
    enlarged = session.enlarge(2)
    channel = session.channel_order()[2]
    assert session.enlarged_channel() == channel and enlarged.caption.startswith(f"Channel {channel + 1}, rank 3")
    assert isinstance(lenet.events[-1], EnlargedChanged)
    session.set_scale(EACH)
    maps = lenet.of(MapsChanged)[-1].maps
    assert "each map stretched to its own largest |value|" in maps.status
    assert all(float(np.abs(p - 0.5).max()) == pytest.approx(0.5) for p in maps.pictures)  # tanh: signed maps


def test_nothing_to_show_says_why(lenet):
    session = lenet.session
    session.outcome = None
    session.select([])
    assert lenet.of(MapsChanged)[-1].maps.title == ""  # the first convolution, before any run
    empty = Driver(Document())
    empty.session.set_visible(True)
    assert empty.session.shown_node() is None
    assert empty.of(MapsChanged)[-1].maps.title == SELECT_HINT
    assert empty.session.message == "the network has no Input block"


def test_inputs_from_a_file_and_a_drawing(lenet):
    session = lenet.session
    session.set_image_file(samples_dir() / "digit_seven.png")
    assert lenet.of(InputChoiceChanged)[-1].choice.source == FILE
    assert session.example.source == "digit_seven.png" and tuple(session.example.tensor.shape) == (1, 32, 32)
    session.set_source(DRAWING)
    assert float(session.example.tensor.abs().sum()) == 0  # a blank pad
    drawing = np.zeros((32, 32), np.float32)
    drawing[6:27, 15:18] = 1
    session.set_drawing(drawing)
    assert session.example.source == "your drawing" and session.example.tensor[0, 16, 16] == 1
    session.set_image_file(Path("/nonexistent/picture.png"))
    assert "no such file" in session.message and session.example.source == "your drawing"
    session.set_dataset_sample("digits", 5)
    assert session.example.source.startswith("digits, validation image 6 of")
    assert lenet.of(InputChoiceChanged)[-1].choice.index == 5


def test_an_error_in_the_network_is_said_instead_of_run(lenet):
    session, document = lenet.session, lenet.document
    document.edit("break", [SetParam("c5", "kernel_size", 7)])
    document.refresh_analysis()
    session.analysis_changed()
    assert session.run_now() is None
    assert session.message.startswith("The network has 1 error") and "\n" not in session.message


def test_a_new_input_size_refits_the_example(lenet):
    session, document = lenet.session, lenet.document
    document.edit("bigger", [SetParam("input", "shape", [1, 36, 36])])
    document.refresh_analysis()
    session.analysis_changed()
    assert tuple(session.example.tensor.shape) == (1, 36, 36)
    lenet.run()
    session.select(["c1"])
    assert lenet.of(MapsChanged)[-1].maps.title == "C1: 6 maps of 32×32, strongest first"


def test_an_older_outcome_is_not_shown(lenet):
    session = lenet.session
    old = session.run_now()
    new = session.run_now()
    assert new.number == old.number + 1
    assert not session.finished(lenet.runner.run(old))
    assert session.finished(lenet.runner.run(new))


def test_the_documents_weights_are_offered_used_and_dropped(lenet):
    session, document = lenet.session, lenet.document
    torch.manual_seed(5)
    weights = compile_graph(document.graph).state_dict()
    document.set_weights(weights)
    session.weights_changed()
    choice = lenet.of(WeightChoiceChanged)[-1].choice
    assert choice.choices[0] == (DOCUMENT, "The document's weights") and choice.current == DOCUMENT
    job = session.run_now()
    assert job.weights is not None and job.weights is not document.weights and job.checkpoint is None
    outcome = lenet.runner.run(job)
    assert session.finished(outcome) and outcome.compile_seconds > 0
    x = session.example.tensor[None]
    torch.testing.assert_close(outcome.activations.of("c1"), F.conv2d(x, weights["c1.weight"], weights["c1.bias"])[0])
    again = lenet.runner.run(session.run_now())
    assert again.compile_seconds == 0  # the same weights: the model is kept
    document.set_weights({k: v * 2 for k, v in weights.items()})
    session.weights_changed()
    assert lenet.runner.run(session.run_now()).compile_seconds > 0  # new weights: built again
    document.set_weights(None)
    session.weights_changed()
    choice = lenet.of(WeightChoiceChanged)[-1].choice
    assert choice.current == INITIAL and DOCUMENT not in dict(choice.choices)
    assert lenet.of(RunScheduled)
    assert session.run_now().weights is None


def test_a_checkpoint_is_loaded_on_top_and_its_normalisation_used(lenet, tmp_path):
    session = lenet.session
    torch.manual_seed(3)
    trained = compile_graph(session.graph).state_dict()
    session.add_checkpoint("file:x", Checkpoint(trained, "run/best.pt"))
    choice = lenet.of(WeightChoiceChanged)[-1].choice
    assert choice.current == "file:x" and choice.choices[-1] == ("file:x", "Checkpoint run/best.pt")
    lenet.run()
    x = session.example.tensor
    torch.testing.assert_close(session.outcome.activations.of("c1"), module_outputs(session.graph, x, state=trained)["c1"])
    session.choose_weights(INITIAL)
    lenet.run()
    torch.testing.assert_close(session.outcome.activations.of("c1"), module_outputs(session.graph, x)["c1"])
    with pytest.raises(ValueError):
        session.choose_weights("file:nothing")

    bad = tmp_path / "junk.pt"
    bad.write_text("not a checkpoint")
    assert not session.load_checkpoint(bad) and session.message
    elsewhere = Checkpoint({"fc.weight": torch.zeros(3, 3)}, "other.pt")
    session.add_checkpoint("file:other", elsewhere)
    outcome = lenet.runner.run(session.run_now())
    assert outcome.error.startswith("none of the checkpoint's weights fit this network")


def test_a_colour_network_offers_no_drawing():
    driver = Driver(load_graph("resnet18"))
    driver.session.set_visible(True)
    choice = driver.of(InputChoiceChanged)[-1].choice
    assert not choice.drawing_allowed and tuple(driver.session.example.tensor.shape) == (3, 224, 224)
    assert driver.session.shown_node() == "conv1"


def test_each_network_of_a_gan_gets_its_own_input():
    driver = Driver(Document(tiny_gan()))
    session = driver.session
    session.set_visible(True)
    first = session.network()
    other = "discriminator" if first == "generator" else "generator"
    node = next(i for i, n in session.graph.nodes.items() if n.network == other and n.type != "Input")
    session.select([node])
    assert session.network() == other
    expected = next(tuple(n.params["shape"]) for n in session.graph.nodes.values()
                    if n.type == "Input" and n.network == other)
    assert tuple(session.example.tensor.shape) == expected
    job = session.run_now()
    assert job.network == other
    outcome = driver.runner.run(job)
    assert not outcome.error and outcome.activations.of(node) is not None
    assert driver.session.finished(outcome)
    assert driver.of(PredictionsChanged)[-1].predictions is None  # a GAN is not a classifier


def test_the_runner_skips_superseded_jobs_and_reports_errors_in_one_line(lenet):
    session = lenet.session
    job = session.run_now()
    runner = ForwardRunner()
    runner.latest = job.number + 1
    assert runner.run(job) is None
    assert one_line(ValueError("first\nsecond")) == "first" and one_line(KeyError()) == "KeyError"
    x = torch.ones(1, 2, 2)
    mean, std = torch.tensor([0.5]).reshape(1, 1, 1), torch.tensor([0.25]).reshape(1, 1, 1)
    torch.testing.assert_close(normalised(x, (mean, std)), torch.full((1, 2, 2), 2.0))
    torch.testing.assert_close(normalised(x.reshape(-1), (mean, std)), torch.full((4,), 2.0))
    assert normalised(x, None) is x


def test_map_colouring():
    relu = np.array([[[0.0, 2.0]], [[1.0, 0.0]]])
    pictures, lo, hi = map_pictures(relu)
    assert (lo, hi) == (0.0, 2.0) and pictures[1, 0, 0] == 0.5
    pictures, lo, hi = map_pictures(relu, EACH)
    assert pictures[1, 0, 0] == 1.0
    pictures, lo, hi = map_pictures(-relu)
    assert (lo, hi) == (-2.0, 2.0) and pictures[0, 0, 0] == 0.5 and pictures[0, 0, 1] == 0.0
    grid = vector_picture(np.arange(5.0))
    assert grid.shape == (2, 3) and grid[1, 2] == 0 and grid[1, 1] == 1.0


def test_the_session_imports_neither_qt_nor_torch():
    code = ("import sys\nfrom designer.introspection.feature_map_session import FeatureMapSession\n"
            "from designer.introspection import feature_map_runs\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'}))")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60,
                         check=True).stdout
    assert out.strip() == "[]"


def test_the_job_copies_the_document(lenet):
    job = lenet.session.run_now()
    assert isinstance(job, Job) and job.graph is not lenet.document.graph
    assert lenet.of(RunRequested)[-1].job is job
    lenet.document.edit("wider", [SetParam("c1", "out_channels", 8)])
    assert job.graph.nodes["c1"].params["out_channels"] == 6
