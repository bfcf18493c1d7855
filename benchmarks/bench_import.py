"""Import time of torchvision models against torch.fx.symbolic_trace of the same model in the
same run.

    .venv/bin/python benchmarks/bench_import.py [--models resnet50,vit_b_16] [--repeats 5]

Each model is built once (random weights). Then, alternating, with the order rotated every
round: `torch.fx.symbolic_trace(model)` (tracing alone), and `designer.importer.import_network
(model, shape)` (tracing, the two shape runs on the meta device, mapping onto blocks, composites
and their shared definitions, the layout, and the analysis of the result). Medians of wall and
CPU time are printed with their ratio; the import's weights are the model's own tensors copied
once, which the figures include.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torchvision.models as tvm
from torch import fx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from designer.importer import import_network  # noqa: E402
from designer.importer.sources import torchvision_input  # noqa: E402


def timed(f):
    w, c = time.perf_counter(), time.process_time()
    result = f()
    return time.perf_counter() - w, time.process_time() - c, result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet50,vit_b_16")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; medians of {args.repeats} runs")
    print(f"{'model':<12} {'symbolic_trace':>16} {'import':>16} {'ratio':>7}   result")
    for name in args.models.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = tvm.get_model(name, weights=None).eval()
        shape = torchvision_input(name, model)
        runs = {"trace": [], "import": []}
        imported = None
        for i in range(args.repeats):
            order = ["trace", "import"] if i % 2 == 0 else ["import", "trace"]
            for kind in order:
                if kind == "trace":
                    w, c, _ = timed(lambda: fx.symbolic_trace(model))
                else:
                    w, c, imported = timed(lambda: import_network(model, shape))
                    imported.graph.analyze()
                runs[kind].append((w, c))

        def med(kind, k):
            return statistics.median(r[k] for r in runs[kind])

        a = imported.graph.analyze()
        result = (f"{a.total_params:,} parameters, {len(imported.graph.nodes)} top-level blocks, "
                  f"{len(imported.graph.composites)} definitions")
        print(f"{name:<12} {med('trace', 0) * 1000:>8.0f} ms wall {med('import', 0) * 1000:>8.0f} ms wall "
              f"{med('import', 0) / med('trace', 0):>6.1f}×   {result}")
        print(f"{'':<12} {med('trace', 1) * 1000:>8.0f} ms CPU  {med('import', 1) * 1000:>8.0f} ms CPU  "
              f"{med('import', 1) / med('trace', 1):>6.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
