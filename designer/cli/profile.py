"""Measure the network training on this machine: per layer the forward and backward time
and its share of a step, per batch size the step time, images per second and peak memory
beside the analysis's estimate, and the largest batch that fits (tried on a GPU, computed
on the CPU). Exits 2 with one line when the document cannot be read or measured."""
from __future__ import annotations

import json
import sys

from designer.cli.load import Unreadable, load_or_exit, parse_shape


def add_arguments(parser):
    parser.add_argument("document", help="a .json document or a preset name (e.g. lenet5)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--batch-sizes", default="1,8,32", metavar="1,8,32", help="the batch sizes to measure")
    parser.add_argument("--input", metavar="C,H,W", help="override the input shape")
    parser.add_argument("--amp", action="store_true", help="mixed precision (bf16 autocast; GPUs only)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--warmup", type=int, metavar="N", help="steps before timing (default 2 on a GPU, 1 on the CPU)")
    parser.add_argument("--iterations", type=int, metavar="N", help="timed steps per batch size (default 5 / 3)")
    parser.add_argument("--threads", type=int, default=0, metavar="N",
                        help="CPU threads for the maths (default: one per core)")


def parse_batch_sizes(text: str) -> list[int]:
    try:
        sizes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(v < 1 for v in sizes):
        print(f"error: --batch-sizes must read like 1,8,32 (whole numbers of 1 or more), not {text!r}",
              file=sys.stderr)
        raise Unreadable(2)
    return sizes


def run(args) -> int:
    from designer.train.errors import TrainSetupError
    from designer.train.profile import as_text, profile_graph

    sizes = parse_batch_sizes(args.batch_sizes)
    for flag, value, least in (("--iterations", args.iterations, 1), ("--warmup", args.warmup, 0),
                               ("--threads", args.threads, 0)):
        if value is not None and value < least:
            print(f"error: {flag} must be {least} or more, not {value}", file=sys.stderr)
            return 2
    shape = parse_shape(args.input)
    document = load_or_exit(args.document)
    progress = None if args.json else (lambda text: print(f"… {text}", file=sys.stderr, flush=True))
    try:
        result = profile_graph(document.graph, sizes, device=args.device, input_shape=shape, amp=args.amp,
                               warmup=args.warmup, iterations=args.iterations, threads=args.threads,
                               on_progress=progress)
    except TrainSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), indent=2) if args.json else as_text(result))
    return 0
