"""`designer profile`: measured time per layer, peak memory per batch size, the largest batch.

The figures are checked against PyTorch itself (the compiled module's layers and parameter
counts), against arithmetic (the search and the computed largest batch), and against what
any real measurement must show (more memory for a larger batch, less time per image).
One thread for the maths: on a shared 2-core machine two threads wait on each other."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from designer import load_graph
from designer.__main__ import main
from designer.compile import compile_graph
from designer.graph.model import SetField, SetParam
from designer.train.profile import computed_largest, search_largest, structure_key

JSON_KEYS = {"device", "layers", "batches", "largest_batch", "largest_batch_method"}
QUICK = ["--device", "cpu", "--batch-sizes", "1,32", "--json", "--threads", "1", "--warmup", "1",
         "--iterations", "3"]


def profile_json(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["profile", *args]) == 0
    return json.loads(capsys.readouterr().out)


def check_measurement(data: dict, module: nn.Module, adam: bool):
    assert set(data) == JSON_KEYS
    assert data["device"].startswith("cpu")
    assert all(set(x) == {"name", "type", "forward_ms", "backward_ms"} for x in data["layers"])
    assert all(set(b) == {"batch_size", "step_ms", "images_per_s", "peak_bytes", "estimated_bytes"}
               for b in data["batches"])
    # every Conv2d and Linear of the network PyTorch builds appears, with positive times
    wanted = {name: type(m).__name__ for name, m in module.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
    found = {x["name"]: x for x in data["layers"]}
    assert wanted and set(wanted) <= set(found)
    for name, kind in wanted.items():
        assert found[name]["type"] == kind
        assert found[name]["forward_ms"] > 0 and found[name]["backward_ms"] > 0, found[name]
    one, many = data["batches"]
    assert (one["batch_size"], many["batch_size"]) == (1, 32)
    assert many["peak_bytes"] > one["peak_bytes"]
    assert many["step_ms"] / 32 < one["step_ms"]
    assert one["images_per_s"] == pytest.approx(1000 / one["step_ms"], rel=1e-3)
    # the peak holds at least the weights, their gradients and the optimizer's state
    params = sum(p.numel() for p in module.parameters())
    assert one["peak_bytes"] >= 4 * params * (4 if adam else 3)
    for b in data["batches"]:
        assert 0.5 <= b["estimated_bytes"] / b["peak_bytes"] <= 2, b
    assert data["largest_batch_method"] == "computed"
    assert data["largest_batch"] > 32


def test_lenet5_profile_on_the_cpu(capsys):
    data = profile_json(capsys, "lenet5", *QUICK)
    check_measurement(data, compile_graph(load_graph("lenet5").graph), adam=True)
    assert [x["name"] for x in data["layers"]] == ["c1", "c1_tanh", "s2", "c3", "c3_tanh", "s4", "c5", "c5_tanh",
                                                   "flatten", "f6", "f6_tanh", "output"]


@pytest.mark.slow
def test_resnet18_profile_at_112_on_the_cpu(capsys):
    data = profile_json(capsys, "resnet18", "--input", "3,112,112", *QUICK)
    module = compile_graph(load_graph("resnet18").graph, input_shape=(3, 112, 112))
    check_measurement(data, module, adam=False)   # the preset trains with SGD and momentum


def test_the_text_names_the_largest_batch_as_computed(capsys):
    capsys.readouterr()
    assert main(["profile", "lenet5", "--device", "cpu", "--batch-sizes", "2,4", "--threads", "1",
                 "--warmup", "0", "--iterations", "1"]) == 0
    out = capsys.readouterr().out
    assert "Per layer at batch 4" in out and "c3" in out and "Conv2d" in out
    assert "Largest batch that fits:" in out and "(computed, not tried:" in out
    assert "estimate: the analysis's activations (63.0 KB per sample) × batch" in out


def test_words_for_what_cannot_be_measured(capsys):
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["profile", "lenet5", "--batch-sizes", "8,x"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip() == \
        "error: --batch-sizes must read like 1,8,32 (whole numbers of 1 or more), not '8,x'"
    assert main(["profile", "lenet5", "--batch-sizes", "1", "--iterations", "0"]) == 2
    assert capsys.readouterr().err == "error: --iterations must be 1 or more, not 0\n"
    if not torch.cuda.is_available():
        assert main(["profile", "lenet5", "--device", "cuda", "--json"]) == 2
        assert capsys.readouterr().err.strip() == \
            "error: CUDA was asked for, but this PyTorch sees no CUDA GPU; use --device cpu or auto."


@pytest.mark.parametrize("limit", [1, 7, 32, 33, 1000, 4097])
def test_search_finds_the_largest_batch_that_fits(limit):
    tried = []

    def fits(b):
        tried.append(b)
        return b <= limit

    largest = search_largest(fits, 1, None)
    assert fits(largest) and not fits(int(largest * 1.25) + 1)
    assert len(tried) < 30
    # from a larger known fit: within the search's 5 % of the true limit, like the first
    for found in (largest, search_largest(lambda b: b <= limit, min(limit, 8), None)):
        assert limit * 0.95 <= found <= limit


def test_search_starts_from_a_known_failure():
    assert search_largest(lambda b: b <= 40, 32, 64) == 40


def test_computed_largest_from_two_batches():
    # 1 MB fixed, 10 KB per sample; 100 MB free plus 0.5 MB the model holds now
    largest, per_sample, fixed = computed_largest([(1, 1_010_000), (32, 1_320_000)], 100_000_000, 500_000)
    assert (per_sample, fixed) == (10_000, 1_000_000)
    assert largest == (100_000_000 + 500_000 - 1_000_000) // 10_000
    # two small batches whose peaks are mostly fixed temporaries: the analysis's 40 KB per sample
    # is taken rather than the 2 KB slope; a slope within 2× of the estimate is the measurement
    largest, per_sample, _ = computed_largest([(1, 1_010_000), (4, 1_016_000)], 100_000_000, 500_000, 40_000)
    assert per_sample == 40_000
    assert computed_largest([(1, 1_010_000), (32, 1_320_000)], 100_000_000, 500_000, 15_000)[1] == 10_000


def test_structure_key_follows_what_a_measurement_depends_on():
    graph = load_graph("lenet5").graph
    key = structure_key(graph)
    graph.apply(SetField("c1", "pos", (500.0, 20.0)))
    graph.apply(SetField("c1", "label", "first convolution"))
    assert structure_key(graph) == key
    assert structure_key(graph, input_shape=(1, 64, 64)) != key
    graph.apply(SetParam("c1", "out_channels", 8))
    assert structure_key(graph) != key


def test_one_step_fits_runs_a_training_step():
    from designer.train.profile import one_step_fits
    assert one_step_fits(load_graph("lenet5").graph, 2, device="cpu") is True


def test_layer_times_from_profiler_events():
    """The attribution rules on hand-made events: two steps (the least counts), an op that made no
    autograd node leaving its sequence number to the next op, the backward on another thread
    (as on a GPU), and a device-side copy of a range that must not count twice."""
    from types import SimpleNamespace

    from designer.train.profile import _layer_times

    def ev(name, start, dur, parent=None, seq=-1, thread=1, fwd_thread=0, device="DeviceType.CPU"):
        return SimpleNamespace(name=name, time_range=SimpleNamespace(start=start), cpu_time_total=dur,
                               device_time_total=dur / 2, cpu_parent=parent, sequence_nr=seq, thread=thread,
                               fwd_thread=fwd_thread, device_type=device)

    events = []
    for k, t0 in enumerate((0, 1000)):
        seq = 10 * k
        step = ev("profile::step", t0, 900 - 100 * k)
        fwd = ev("profile::forward", t0 + 1, 300, step)
        conv = ev("layer::conv", t0 + 2, 100 + k, fwd)
        bn = ev("layer::bn", t0 + 200, 50, fwd)
        events += [step, fwd, conv, ev("aten::conv2d", t0 + 3, 90, conv, seq=seq + 1), bn,
                   ev("aten::add_", t0 + 201, 1, bn, seq=seq + 2),            # made no node: seq+2 goes on
                   ev("aten::batch_norm", t0 + 202, 40, bn, seq=seq + 2),
                   ev("aten::add", t0 + 260, 5, fwd, seq=seq + 3),             # outside any layer
                   ev("layer::conv", t0 + 2, 100, None, device="DeviceType.CUDA"),   # the device's copy
                   ev("autograd::engine::evaluate_function: AddBackward0", t0 + 400, 7, None, seq + 3, 2, 1),
                   ev("autograd::engine::evaluate_function: NativeBatchNormBackward0", t0 + 410, 60 + k, None,
                      seq + 2, 2, 1),
                   ev("autograd::engine::evaluate_function: ConvolutionBackward0", t0 + 480, 200 - k, None,
                      seq + 1, 2, 1)]
    times, step_ms = _layer_times(events, cuda=False)
    assert times == {"conv": (0.1, 0.199), "bn": (0.05, 0.06)}
    assert step_ms == 0.8
    times, step_ms = _layer_times(events, cuda=True)   # the device's time of the host's events
    assert times["conv"] == (0.05, 0.0995) and step_ms == 0.4


@pytest.mark.filterwarnings("ignore:CUDA is not available")
def test_the_cuda_path_tries_batches_until_memory_runs_out(monkeypatch):
    """The GPU branch's bookkeeping on the CPU: the run is told it is on CUDA, the allocator's
    counters are stubbed, and any batch above 40 raises CUDA's out-of-memory error."""
    from designer.train import profile as P
    real_init, real_step = P._Run.__init__, P._Run.step

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.cuda = True

    def step(self, inputs, marked=False):
        if inputs[0].shape[0] > 40:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_step(self, inputs, marked)

    monkeypatch.setattr(P._Run, "__init__", init)
    monkeypatch.setattr(P._Run, "step", step)
    for name, stub in (("reset_peak_memory_stats", lambda device=None: None),
                       ("max_memory_allocated", lambda device=None: 123_456),
                       ("empty_cache", lambda: None), ("synchronize", lambda device=None: None)):
        monkeypatch.setattr(torch.cuda, name, stub)
    result = P.profile_graph(load_graph("lenet5").graph, [1, 8, 64], device="cpu", warmup=0, iterations=1,
                             threads=1)
    assert [b.batch_size for b in result.batches] == [1, 8]
    assert "batch 64 does not fit in the GPU's memory" in result.notes
    assert (result.largest_batch, result.largest_batch_method) == (40, "tried")
    assert result.largest_step_ms > 0 and result.largest_peak_bytes == 123_456
    assert result.layers_batch_size == 8 and {x.name for x in result.layers} >= {"c1", "c3", "output"}
    assert result.to_json()["largest_batch_method"] == "tried"
