"""Compare training runs: the settings that differ between them, their best and last
validation metrics, and what differs between their networks when they trained different
drawings. Each DIR is a run folder, or a folder of runs (a sweep's --out, a document's
.runs folder). --csv writes every run's metrics in one long CSV with a `run` column.
Exits 2 when no run is found."""
from __future__ import annotations

import json
import sys


def add_arguments(parser):
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run folders, or folders holding runs")
    parser.add_argument("--rank", action="store_true", help="best run first (by the best validation metric)")
    parser.add_argument("--all-settings", action="store_true",
                        help="also list the settings of how a run was computed (device, threads, …)")
    parser.add_argument("--csv", metavar="OUT", help="write all the runs' metrics into one CSV")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    from designer.atomic import WriteFailed
    from designer.train.run_compare import compare_runs, find_runs, rank, write_long_csv
    paths = find_runs(args.dirs)
    if not paths:
        print(f"error: no run folder (with config.json or run.json) in {', '.join(args.dirs)}", file=sys.stderr)
        return 2
    comparison = compare_runs(paths, all_settings=args.all_settings)
    if args.rank:
        comparison.runs = rank(comparison.runs)
        comparison.numbered = True
    if args.json:
        print(json.dumps(comparison.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(comparison.as_text())
    if args.csv:
        try:
            rows = write_long_csv([r.record.path for r in comparison.runs], args.csv)
        except OSError as exc:
            told = str(exc) if isinstance(exc, WriteFailed) else f"cannot write {args.csv}: {exc.strerror or exc}"
            print(f"error: {told}", file=sys.stderr)
            return 2
        print(f"{rows} rows of {len(comparison.runs)} runs → {args.csv}", file=sys.stderr)
    return 0
