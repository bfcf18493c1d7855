"""How fast is the live analysis? A ~150-node Inception-heavy network built from the
catalog, timed three ways, against torchinfo.summary of the same network in the
same run:

* cold: the first analysis in this process, every cache empty (what opening the
  first file costs);
* full: a fresh analysis of the whole document (a new analyser: no node result
  is reused), median of many runs, twice: with every composite's inside
  generated and analysed anew, and with the built-in composites' results
  remembered process-wide (they are pure functions of their parameters and
  input shape, so a running window has usually met them already);
* incremental: the re-analysis after one mid-graph Conv2d's out_channels is
  typed, a new value each run (what every keystroke costs), median of many runs;
  and the same after an edit that feeds an Inception module a new input shape.

Each timing is given as wall time and as this process's CPU time; on a shared,
busy machine the wall time also counts other programs' turns, and the CPU time
is the steadier figure. torchinfo.summary runs on the network compiled by
designer.compile (or, before that existed, a hand-built interpreter of each
block's own module), and its parameter count must equal the analysis'.

Targets (issue 2): full ≤ 2 ms, incremental ≤ 0.5 ms, ≥ 50× faster than
torchinfo.summary at 224×224.

    .venv/bin/python benchmarks/bench_analysis.py [--runs N] [--no-torchinfo]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from designer.graph import Graph  # noqa: E402
from designer.graph import composite  # noqa: E402

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


def clear_composite_memos():
    composite.clear_caches()


def timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds: on a shared machine the CPU time is the steadier of the two."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def median_ms(pairs, which: int) -> float:
    return statistics.median(p[which] for p in pairs) * 1000


def bench_analysis(runs: int):
    g, conv = build()
    clear_composite_memos()
    cold = timed(g.analyze)
    a = g.analyze()
    assert a.ok, a.errors[:3]

    def full():
        clear_composite_memos()
        g._analyzer = None
        g.analyze()

    def full_warm_memos():
        g._analyzer = None
        g.analyze()

    full_times = [timed(full) for _ in range(runs)]
    warm_times = [timed(full_warm_memos) for _ in range(runs)]
    g.analyze()
    incremental_times = []
    for i in range(runs):
        g.set_param(conv, "out_channels", 64 + i % 960)  # a new value each time, as typing gives
        incremental_times.append(timed(g.analyze))
    # the same edit, but upstream of every module: the next Inception sees a new input shape
    upstream_times = []
    for i in range(min(runs, 200)):
        g.set_param("conv2", "out_channels", 100 + i)
        upstream_times.append(timed(g.analyze))
    return g, a, conv, cold, full_times, warm_times, incremental_times, upstream_times


def hand_compiled(g: Graph):
    """The network as an nn.Module: the compiler when it exists, else each block's own
    module run in analysis order (composites through their inside)."""
    try:
        return g.compile(), "designer.compile"
    except ImportError:
        pass
    import torch
    from torch import nn
    from designer.graph.analysis import analyze_inner

    class Interpreted(nn.Module):
        def __init__(self, graph: Graph, shapes=None):
            super().__init__()
            self.graph, self.a = graph, graph.analyze(shapes)
            self.blocks = nn.ModuleDict()
            for node_id in self.a.order:
                spec, node = graph.spec(node_id), graph.nodes[node_id]
                if node.type in ("Input", "Output"):
                    continue
                ins = self.a.nodes[node_id].in_shapes
                if spec.is_composite:
                    inside = spec.expand(node.params, ins)
                    inner = analyze_inner(inside, ins)
                    self.blocks[node_id] = Interpreted(inside, {i: inner.nodes[i].out_shapes["out"]
                                                                for i, n in inside.nodes.items()
                                                                if n.type == "Input"})
                else:
                    self.blocks[node_id] = spec.build(node.params, ins)

        def forward(self, *xs):
            values, results, inputs = {}, [], iter(xs)
            for node_id in self.a.order:
                node = self.graph.nodes[node_id]
                feeds = [values[(e.src, e.src_port)] for e in self.graph.edges_into(node_id)]
                if node.type == "Input":
                    values[(node_id, "out")] = next(inputs)
                elif node.type == "Output":
                    results.append(feeds[0])
                else:
                    block = self.blocks[node_id]
                    y = block(feeds) if node.type in ("Add", "Concat") else block(*feeds)
                    values[(node_id, "out")] = y
            return tuple(results) if len(results) > 1 else results[0]

    with torch.no_grad():
        return Interpreted(g), "hand-built interpreter of each block's module"


def bench_torchinfo(g: Graph, runs: int):
    """(wall, CPU) pairs of torchinfo.summary. One torch thread, like the analysis: on a
    shared machine more threads only fight the other programs (and each other)."""
    import torch
    from torchinfo import summary
    torch.set_num_threads(1)
    model, how = hand_compiled(g)
    model.eval()
    times, stats = [], None

    def run():
        nonlocal stats
        with torch.no_grad():
            stats = summary(model, input_size=(1, 3, 224, 224), verbose=0, device="cpu")
    for _ in range(runs):
        times.append(timed(run))
    return times, stats.total_params, how


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="analyses per timing (median)")
    parser.add_argument("--torchinfo-runs", type=int, default=5)
    parser.add_argument("--no-torchinfo", action="store_true")
    args = parser.parse_args(argv)

    g, a, conv, cold, full, warm, incremental, upstream = bench_analysis(args.runs)
    inceptions = sum(1 for n in g.nodes.values() if n.type == "Inception")
    inner = sum(len(a.nodes[i].inner[0].nodes) for i in g.nodes if g.nodes[i].type == "Inception")
    print(f"network: {len(g.nodes)} top-level nodes ({inceptions} Inception modules, {inner} nodes inside them), "
          f"{len(g.edges)} edges, {a.total_params:,} parameters, {len(a.outputs)} outputs")
    print(f"{'':52}{'wall ms':>9}{'CPU ms':>9}")
    rows = [("cold: first analysis in this process", [cold], ""),
            (f"full, insides generated anew (median of {len(full)})", full, "target ≤ 2 ms"),
            ("full, composite results memoised (median)", warm, "target ≤ 2 ms"),
            (f"incremental: {conv} edited (median)", incremental, "target ≤ 0.5 ms"),
            ("incremental: conv2 edited, feeds Inception 3a", upstream, "")]
    for label, pairs, target in rows:
        print(f"{label:52}{median_ms(pairs, 0):9.3f}{median_ms(pairs, 1):9.3f}   {target}")
    if args.no_torchinfo:
        return 0
    fresh, _ = build()  # the timings above edited g
    expected = fresh.analyze().total_params
    try:
        info_times, info_params, how = bench_torchinfo(fresh, args.torchinfo_runs)
    except ImportError:
        print("torchinfo is not installed (pip install -e .[bench])")
        return 1
    assert info_params == expected, (info_params, expected)
    print(f"torchinfo.summary at 224×224, one thread ({how}), median of {args.torchinfo_runs}:"
          f"{median_ms(info_times, 0):9.1f}{median_ms(info_times, 1):9.1f}")
    print(f"  ({info_params:,} parameters, equal to the analysis)")
    print(f"{'torchinfo / analysis':52}{'wall':>9}{'CPU':>9}")
    for label, pairs in (("full, insides generated anew", full), ("full, composite results memoised", warm),
                         ("incremental", incremental)):
        print(f"{label:52}{median_ms(info_times, 0) / median_ms(pairs, 0):8.0f}×"
              f"{median_ms(info_times, 1) / median_ms(pairs, 1):8.0f}×   target ≥ 50×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
