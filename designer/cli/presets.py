"""List the bundled presets with their input, output and parameter count."""
from __future__ import annotations

from designer.graph.fileformat import load
from designer.graph.format import count, shape as fmt_shape
from designer.graph.presets import preset_names, preset_path


def add_arguments(parser):
    parser.add_argument("--names", action="store_true", help="print the names only")


def run(args) -> int:
    names = preset_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        if args.names:
            print(name)
            continue
        graph = load(preset_path(name))
        a = graph.analyze()
        meta = graph.meta
        ins = ", ".join(fmt_shape(v) for v in a.input_shapes.values())
        outs = ", ".join(fmt_shape(v) for v in a.output_shapes.values())
        source = f"{meta.get('authors', '')} {meta.get('year', '')}".strip()
        print(f"{name:<{width}} {count(a.total_params):>13} params  {ins} → {outs}  {meta.get('title', '')}"
              + (f" ({source})" if source else ""))
    return 0
