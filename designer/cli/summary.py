"""Print a per-layer table (name, type, output shape, parameters, multiply-adds) and totals
(designer.graph.summary, which the window's summary panel shows too).
Exits 1 when the graph has errors, 2 when the file cannot be read."""
from __future__ import annotations

import json

from designer.cli.load import load_or_exit, parse_shape
from designer.graph.summary import as_dict, as_table


def add_arguments(parser):
    parser.add_argument("document", help="a .json document or a preset name")
    parser.add_argument("--input", metavar="C,H,W", help="override the input shape")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    document = load_or_exit(args.document)
    analysis = document.analyze(parse_shape(args.input))
    if args.json:
        print(json.dumps(as_dict(document.graph, analysis), indent=2, ensure_ascii=False))
    else:
        print(as_table(document.graph, analysis))
    return 1 if analysis.errors else 0
