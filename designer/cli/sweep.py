"""`train DOC --sweep lr=0.001,0.003 --sweep batch_size=32,64 --out DIR`: train the grid one
run after another into DIR/<setting>/ (designer.train.sweep), each with the progress of a
single run, then print the runs ranked by their best validation metric."""
from __future__ import annotations

import sys

from designer.atomic import WriteFailed
from designer.train.errors import TrainSetupError


def run_sweep_command(document, config, args) -> int:
    """Exit 0 when every run finished, 1 when one failed while training, 2 when the sweep
    could not start or a run could not start."""
    from designer.cli.train import Progress, summary_line
    from designer.train.events import SETUP, Done
    from designer.train.run_compare import compare_runs, rank
    from designer.train.sweep import parse_axes, plan, run_sweep, setting_name
    if args.resume:
        print("error: --resume continues one run; a sweep starts its runs afresh in new folders", file=sys.stderr)
        return 2
    try:
        axes = parse_axes(args.sweep)
        points = plan(config, axes)
    except TrainSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"sweep of {len(points)} run{'s' if len(points) != 1 else ''}: " + " × ".join(f"{a.name} {', '.join(map(str, a.values))}" for a in axes),
          file=sys.stderr)
    progress: dict = {}

    def listener(point):
        print(f"── {setting_name(point)}", file=sys.stderr)
        progress["now"] = Progress()
        return progress["now"]

    def on_run_end(run):
        if isinstance(run.last, Done):
            print(summary_line(run.last, progress["now"]))

    try:
        runs = run_sweep(document.graph, config, axes, args.out, listener, weights=document.weights,
                         init_weights=args.weights, on_run_end=on_run_end, title=str(args.document))
    except TrainSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WriteFailed as exc:   # the sweep's own files (sweep.json, a run's document.json, run.json)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: the sweep folder {args.out} cannot be written: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:   # the runs that finished are in their folders; the one going keeps its last.pt
        print("aborted", file=sys.stderr)
        return 130
    comparison = compare_runs([r.run_dir for r in runs])
    comparison.runs = rank(comparison.runs)
    comparison.numbered = True
    print()
    print(comparison.as_text())
    lasts = [r.last for r in runs]
    if any(not isinstance(e, Done) and e.kind == SETUP for e in lasts):
        return 2
    return 0 if all(isinstance(e, Done) for e in lasts) else 1
