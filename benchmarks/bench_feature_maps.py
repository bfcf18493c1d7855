"""How long one feature-map forward pass takes on this machine's CPU.

    .venv/bin/python benchmarks/bench_feature_maps.py [--repeat 20] [PRESET ...]

For each network (default: lenet5 and resnet18 at their own input sizes) it runs
the preset through the panel's own `designer.introspection.feature_map_runs.ForwardRunner`
(which builds the network once, with seed 0, and then records every node's output
with `activations.capture`, with the panel's thread count), and times those
forward passes against a plain `model(x)` of the same module. The budget is
200 ms per forward pass; exit status 1 when a median exceeds it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BUDGET_S = 0.200


def bench(preset: str, repeat: int) -> dict:
    import numpy as np
    import torch

    from designer import load_graph
    from designer.compile import compile_graph
    from designer.introspection.activations import forward_threads
    from designer.introspection.feature_map_runs import ForwardRunner, Job
    from designer.introspection.inputs import Example, input_shape

    graph = load_graph(preset).graph
    analysis = graph.analyze()
    threads = forward_threads(analysis.macs)
    x = torch.rand(input_shape(graph))
    example = Example(x, np.zeros((1, 1)), "random")
    runner = ForwardRunner()
    jobs = (Job(n, graph, None, ("bench",), None, example, analysis.macs) for n in range(1, repeat + 2))
    first = runner.run(next(jobs))  # builds the network; the first pass pays for allocator and kernel warm-up
    if first.error:
        raise SystemExit(f"{preset}: {first.error}")
    outcomes = [runner.run(job) for job in jobs]
    captured = [o.activations.seconds for o in outcomes]
    torch.set_num_threads(threads)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = compile_graph(graph, device="cpu").eval()
    plain = []
    with torch.inference_mode():
        model(x[None])
        for _ in range(repeat):
            t = time.perf_counter()
            model(x[None])
            plain.append(time.perf_counter() - t)
    return {"preset": preset, "input": "×".join(map(str, input_shape(graph))), "macs": analysis.macs,
            "threads": threads, "compile_s": first.compile_seconds, "nodes": len(outcomes[-1].activations.outputs),
            "capture_median_s": statistics.median(captured), "capture_max_s": max(captured),
            "plain_median_s": statistics.median(plain)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", default=["lenet5", "resnet18"])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    import torch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads available by default")
    print(f"{'network':<10} {'input':<10} {'MACs':>14} {'thr':>3} {'build':>8} {'nodes':>5} "
          f"{'capture med':>12} {'capture max':>12} {'model(x) med':>13}")
    slow = []
    for preset in args.presets:
        r = bench(preset, args.repeat)
        print(f"{r['preset']:<10} {r['input']:<10} {r['macs']:>14,} {r['threads']:>3} {r['compile_s'] * 1e3:>6.0f}ms "
              f"{r['nodes']:>5} {r['capture_median_s'] * 1e3:>10.1f}ms {r['capture_max_s'] * 1e3:>10.1f}ms "
              f"{r['plain_median_s'] * 1e3:>11.1f}ms")
        if r["capture_median_s"] > BUDGET_S:
            slow.append(preset)
    if slow:
        print(f"over the {BUDGET_S * 1e3:.0f} ms budget: {', '.join(slow)}")
        return 1
    print(f"every median within the {BUDGET_S * 1e3:.0f} ms budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
