"""Write a network as TorchScript (.pt), a torch.export program (.pt2), ONNX (.onnx), standalone
Python source (.py) or,
as .pth (or --format state_dict), its weights together with the drawing (a file load_graph reads).
The format follows OUT's suffix unless --format is given.
Exits 1 when the graph has errors, 2 with one line for input that cannot be used."""
from __future__ import annotations

import sys
from pathlib import Path

from designer.atomic import WriteFailed
from designer.cli.load import load_or_exit, parse_shape
from designer.compile.errors import CompileError
from designer.compile.export import FORMATS, export, format_for
from designer.graph.errors import GraphError


def add_arguments(parser):
    parser.add_argument("document", help="a .json document, a preset name, or a weights file written by export")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="the file to write")
    parser.add_argument("--format", choices=FORMATS,
                        help="default from OUT: .pt torchscript, .pt2 program, .pth state_dict, .onnx onnx, "
                        ".py python")
    parser.add_argument("--network", help="which network of a document holding several (e.g. generator)")
    parser.add_argument("--input", metavar="C,H,W", help="override the input shape")
    parser.add_argument("--weights", metavar="PT", help="load these weights (matched by layer name) first")


def run(args) -> int:
    document = load_or_exit(args.document)
    shape = parse_shape(args.input)
    try:
        fmt = format_for(args.output, args.format)
        if args.weights:
            report = document.load_weights(args.weights)
            print(f"weights: {report}", file=sys.stderr)
        path = export(document.graph, args.output, format=fmt, network=args.network, input_shape=shape,
                      source=Path(args.document).name, weights=document.weights)
    except CompileError as exc:
        print("error: cannot export: the graph has errors", file=sys.stderr)
        for node_id, message in exc.errors:
            print(f"error at {node_id}: {message}" if node_id else f"error: {message}", file=sys.stderr)
        return 1
    except GraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        told = str(exc) if isinstance(exc, WriteFailed) else f"cannot write {args.output}: {exc.strerror or exc}"
        print(f"error: {told}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({fmt})")
    return 0
