"""Compare two networks: the blocks added, removed and changed from A to B (changed
parameters old → new, changed output shapes), with the parameters and multiply-adds
each costs, and the totals. A and B are documents, presets or .pth files. Blocks pair
by id, then by their place in the data flow and their type; composites are compared
inside (`layer2/downsample`). A network with errors (at --input) is compared as far as it
analyses, with a note. Exits 0 whether or not they differ, 2 when a file cannot be read."""
from __future__ import annotations

import json
import sys

from designer.cli.load import load_or_exit, parse_shape
from designer.graph.diff import as_text, diff_graphs


def add_arguments(parser):
    parser.add_argument("old", metavar="A", help="a .json document, a preset name or a .pth file")
    parser.add_argument("new", metavar="B", help="the one to compare it with")
    parser.add_argument("--input", metavar="C,H,W", help="analyse both with this input shape")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    old, new = load_or_exit(args.old), load_or_exit(args.new)
    shape = parse_shape(args.input)
    result = diff_graphs(old.graph, new.graph, shape)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(as_text(result, args.old, args.new))
    sys.stdout.flush()
    for name, doc in ((args.old, old), (args.new, new)):   # its blocks past an error count nothing
        errors = doc.graph.analyze(shape).errors
        if errors:
            node, message = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            print(f"note: {name} has errors, so its counts are partial: {node + ': ' if node else ''}{message}{more}",
                  file=sys.stderr)
    return 0
