"""How fast is the live analysis? A ~150-node Inception-heavy network built from the
catalog, timed against torchinfo.summary of the same network in the same run:

* cold: the first analysis in this process, every cache empty (what opening the
  first file costs);
* full from scratch: a freshly loaded copy of the document (no analyser, no node
  result to reuse) with every composite cache emptied first
  (designer.graph.composite.clear_caches: each Inception's inside is generated and
  analysed anew), median of many runs: the target figure;
* full, composite caches warm: the same, but the built-in composites' results are
  remembered from earlier runs (they are pure functions of their parameters and
  input shape, so a running window has usually met them already);
* incremental: the re-analysis after one mid-graph Conv2d's out_channels is typed,
  a new value each run (what every keystroke costs), median of many runs; and, for
  information, the same after an edit that feeds an Inception module a new shape.

Only `analyze()` is timed. Loading the copy, emptying the caches and collecting the
garbage the loading left behind are set-up; the collections the analysis' own
objects cause are timed. Formulas are written when first read (NodeInfo.shape_formula
and the like), so one more line, for information, times a from-scratch analysis
followed by reading every node's formulas, the first full summary table's worth.

Each timing is given as wall time and as this process's CPU time; on a shared, busy
machine the wall time also counts other programs' turns, so the targets are judged
on the CPU time. torchinfo.summary runs on the network compiled by designer.compile,
and its parameter count must equal the analysis'.

Targets (issue 2): full ≤ 2 ms, incremental ≤ 0.5 ms, ≥ 50× faster than
torchinfo.summary at 224×224.

    .venv/bin/python benchmarks/bench_analysis.py [--runs N] [--torchinfo-runs N] [--no-torchinfo]
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from designer.graph import Graph  # noqa: E402
from designer.graph import composite  # noqa: E402
from designer.graph.fileformat import dumps, loads  # noqa: E402

FULL_MS, INCREMENTAL_MS, RATIO = 2.0, 0.5, 50

# GoogLeNet's Inception table (#1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj), with four
# more 4c-like modules in the middle of stage 4 to make the network Inception-heavy.
STAGE3 = [("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64))]
STAGE4 = [("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)),
          ("4c", (128, 128, 256, 24, 64, 64))] + \
         [(f"4c{i}", (128, 128, 256, 24, 64, 64)) for i in range(1, 5)] + \
         [("4d", (112, 144, 288, 32, 64, 64)), ("4e", (256, 160, 320, 32, 128, 128))]
STAGE5 = [("5a", (256, 160, 320, 32, 128, 128)), ("5b", (384, 192, 384, 48, 128, 128))]
KEYS = ("c1x1", "c3x3_reduce", "c3x3", "c5x5_reduce", "c5x5", "pool_proj")


def build() -> tuple[Graph, str]:
    """The network, and the id of the Conv2d the incremental timing edits."""
    g = Graph()
    last = [None]

    def add(node_id, type_name, params=None, src=None):
        g.add_node(type_name, params or {}, id=node_id)
        if src or last[0]:
            g.connect(src or last[0], node_id)
        last[0] = node_id
        return node_id

    add("input", "Input", {"shape": [3, 224, 224], "name": "image"})
    add("conv1", "Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3})
    add("conv1_relu", "ReLU")
    add("pool1", "MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True})
    add("norm1", "LocalResponseNorm")
    add("conv2_reduce", "Conv2d", {"out_channels": 64, "kernel_size": 1})
    add("conv2_reduce_relu", "ReLU")
    add("conv2", "Conv2d", {"out_channels": 192, "kernel_size": 3, "padding": 1})
    add("conv2_relu", "ReLU")
    add("norm2", "LocalResponseNorm")
    add("pool2", "MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True})
    heads = []
    for stage_no, stage in ((3, STAGE3), (4, STAGE4), (5, STAGE5)):
        if stage_no > 3:
            add(f"pool{stage_no}", "MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True})
        for name, numbers in stage:
            trunk = add(f"inception_{name}", "Inception", dict(zip(KEYS, numbers)))
            # a side head after every module (GoogLeNet has two; many make it Inception-heavy)
            h = f"head_{name}"
            add(f"{h}_pool", "AvgPool2d", {"kernel_size": 5, "stride": 3, "ceil_mode": True}, src=trunk)
            add(f"{h}_conv", "Conv2d", {"out_channels": 128, "kernel_size": 1})
            add(f"{h}_relu", "ReLU")
            add(f"{h}_flatten", "Flatten")
            add(f"{h}_fc", "Linear", {"out_features": 1024})
            add(f"{h}_fc_relu", "ReLU")
            add(f"{h}_dropout", "Dropout", {"p": 0.7})
            add(f"{h}_classifier", "Linear", {"out_features": 1000})
            add(f"{h}_out", "Output", {"name": f"aux_{name}"})
            heads.append(h)
            last[0] = trunk
    add("avgpool", "AdaptiveAvgPool2d")
    add("dropout", "Dropout", {"p": 0.4})
    add("flatten", "Flatten")
    add("fc", "Linear", {"out_features": 1000})
    add("logits", "Output", {"name": "logits"})
    return g, f"{heads[len(heads) // 2]}_conv"


def timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def median_ms(pairs, which: int) -> float:
    return statistics.median(p[which] for p in pairs) * 1000


def read_every_formula(a):
    for info in a.nodes.values():
        info.shape_formula, info.param_formula, info.weight_formula  # noqa: B018 - written on first read
        for inner in info.inner:
            read_every_formula(inner)


def bench_analysis(runs: int) -> dict:
    g, conv = build()
    text = dumps(g)
    composite.clear_caches()
    times = {"cold": [timed(g.analyze)]}
    assert g.analyze().ok, g.analyze().errors[:3]

    def fresh_copies(scratch: bool, then=None):
        """Times of analyze() on freshly loaded copies, with every composite cache emptied first
        when `scratch`; `then(analysis)` runs inside the timing."""
        pairs = []
        for _ in range(runs):
            fresh = loads(text)
            if scratch:
                composite.clear_caches()
            gc.collect()
            pairs.append(timed(fresh.analyze if then is None else lambda doc=fresh: then(doc.analyze())))
        return pairs

    times["full"] = fresh_copies(scratch=True)
    times["warm"] = fresh_copies(scratch=False)
    times["full+formulas"] = fresh_copies(scratch=True, then=read_every_formula)
    g.analyze()
    incremental = []
    for i in range(runs):
        g.set_param(conv, "out_channels", 64 + i % 960)  # a new value each time, as typing gives
        incremental.append(timed(g.analyze))
    times["incremental"] = incremental
    upstream = []  # the same kind of edit, upstream of every module: Inception 3a sees a new shape
    for i in range(min(runs, 200)):
        g.set_param("conv2", "out_channels", 100 + i)
        upstream.append(timed(g.analyze))
    times["upstream"] = upstream
    return {"times": times, "conv": conv}


def bench_torchinfo(runs: int):
    """(wall, CPU) pairs of torchinfo.summary of the compiled network, and its parameter
    count. One torch thread, like the analysis: on a shared machine more threads only
    fight the other programs (and each other)."""
    import torch
    from torchinfo import summary

    from designer.compile import compile_graph   # torch: only here, so the analysis runs on a small heap
    torch.set_num_threads(1)
    g, _ = build()
    model = compile_graph(g)
    model.eval()
    times, stats = [], None

    def run():
        nonlocal stats
        with torch.no_grad():
            stats = summary(model, input_size=(1, 3, 224, 224), verbose=0, device="cpu")
    for _ in range(runs):
        times.append(timed(run))
    return times, stats.total_params, g.analyze().total_params


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="analyses per timing (median)")
    parser.add_argument("--torchinfo-runs", type=int, default=5)
    parser.add_argument("--no-torchinfo", action="store_true")
    args = parser.parse_args(argv)

    result = bench_analysis(args.runs)
    t, conv = result["times"], result["conv"]
    g, _ = build()
    a = g.analyze()
    inceptions = [i for i, n in g.nodes.items() if n.type == "Inception"]
    inner = sum(len(a.nodes[i].inner[0].nodes) for i in inceptions)
    print(f"network: {len(g.nodes)} top-level nodes ({len(inceptions)} Inception modules, {inner} nodes inside "
          f"them), {len(g.edges)} edges, {a.total_params:,} parameters, {len(a.outputs)} outputs")
    print("targets judged on CPU time (wall time on a shared machine also counts other programs' turns)")
    print(f"{'':58}{'wall ms':>9}{'CPU ms':>9}")
    rows = [("cold: first analysis in this process", "cold", None),
            ("full from scratch: fresh load, composite caches empty", "full", FULL_MS),
            ("full, composite caches warm", "warm", FULL_MS),
            (f"incremental: {conv} edited", "incremental", INCREMENTAL_MS),
            ("  (for information) incremental: conv2 edited, feeds 3a", "upstream", None),
            ("  (for information) full from scratch + every formula read", "full+formulas", None)]
    misses = 0
    for label, key, target in rows:
        cpu = median_ms(t[key], 1)
        line = f"{label:58}{median_ms(t[key], 0):9.3f}{cpu:9.3f}"
        if target is not None:
            line += f"   target ≤ {target:g} ms  {verdict(cpu <= target)}"
            misses += cpu > target
        print(line)
    print(f"(medians of {args.runs} runs; cold is one run)")
    if args.no_torchinfo:
        return 1 if misses else 0
    try:
        info_times, info_params, expected = bench_torchinfo(args.torchinfo_runs)
    except ImportError as exc:
        print(f"torchinfo is not installed (pip install -e .[bench]): {exc}")
        return 1
    assert info_params == expected, (info_params, expected)
    print(f"{f'torchinfo.summary at 224×224, one thread, median of {args.torchinfo_runs}':58}"
          f"{median_ms(info_times, 0):9.1f}{median_ms(info_times, 1):9.1f}")
    print(f"  ({info_params:,} parameters, equal to the analysis)")
    print(f"{'torchinfo / analysis':58}{'wall':>9}{'CPU':>9}")
    for label, key, judged in (("full from scratch", "full", True), ("full, composite caches warm", "warm", False),
                               ("incremental", "incremental", False)):
        wall = median_ms(info_times, 0) / median_ms(t[key], 0)
        cpu = median_ms(info_times, 1) / median_ms(t[key], 1)
        line = f"{label:58}{wall:8.0f}×{cpu:8.0f}×"
        if judged:
            line += f"   target ≥ {RATIO}×  {verdict(cpu >= RATIO)}"
            misses += cpu < RATIO
        print(line)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
