"""Bring an existing network in: SOURCE is torchvision:NAME (random weights, nothing downloaded),
path/file.py:Class (built with no arguments; this runs that file), an .onnx file, a torch.export
.pt2, or a TorchScript .pt (files are data: reading them runs no Python; a TorchScript file from
elsewhere needs --input). OUT.json writes the drawing, OUT.pth the drawing with the source's
weights. Every other command then takes OUT. Exits 2 with one line per problem when the source
cannot be imported."""
from __future__ import annotations

import sys
import time

from designer.cli.load import Unreadable, parse_shape
from designer.graph.errors import GraphError


def add_arguments(parser):
    parser.add_argument("source", help="torchvision:NAME, path/file.py:Class, FILE.onnx, FILE.pt2 or a "
                        "TorchScript FILE.pt")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="OUT.json (drawing) or OUT.pth "
                        "(drawing and weights)")
    parser.add_argument("--input", metavar="C,H,W", help="the input shape (torchvision models and .onnx, .pt2 "
                        "files know theirs; a .py class and TorchScript need it)")
    parser.add_argument("--weights", metavar="NAME", help="a torchvision source's trained weights, e.g. "
                        "IMAGENET1K_V1 (from torch hub's cache, downloaded there when missing)")
    parser.add_argument("--notes", action="store_true", help="print what was kept as a generic block")


def run(args) -> int:
    from designer.document import Document
    from designer.importer import ImportFailure, import_network
    try:
        shape = parse_shape(args.input)
    except Unreadable:
        return 2
    start = time.perf_counter()
    try:
        imported = import_network(args.source, shape, args.weights)
        notes = imported.notes
        document = Document(imported.graph, imported.weights)
    except ImportFailure as exc:
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except GraphError as exc:     # a drawing the blocks cannot hold: said as the import's problem
        print(f"error: cannot import {args.source}: {exc}", file=sys.stderr)
        return 2
    try:
        document.save(args.output)
    except (GraphError, OSError) as exc:
        print(f"error: cannot write {args.output}: {exc}", file=sys.stderr)
        return 2
    a = document.analysis
    top = len(document.graph.nodes)
    shared = len(document.graph.composites)
    weights = f" with torchvision's {args.weights} weights" if args.weights else ""
    print(f"imported {args.source}{weights}: {a.total_params:,} parameters, {top} top-level blocks, "
          f"{shared} block definitions, in {time.perf_counter() - start:.1f} s; wrote {args.output}")
    if notes:
        if args.notes:
            for line in notes:
                print(f"note: {line}")
        else:
            print(f"{len(notes)} notes (generic blocks, unused layers): --notes lists them")
    return 0
