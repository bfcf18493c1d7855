"""Print a per-layer table (name, type, output shape, parameters, multiply-adds) and totals.
Exits 1 when the graph has errors, 2 when the file cannot be read."""
from __future__ import annotations

import json

from designer.cli.load import load_or_exit, parse_shape
from designer.graph.format import count, nbytes, shape as fmt_shape


def add_arguments(parser):
    parser.add_argument("document", help="a .json document or a preset name")
    parser.add_argument("--input", metavar="C,H,W", help="override the input shape")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def summary_dict(graph, analysis) -> dict:
    layers = []
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        layers.append({"name": node_id, "type": graph.nodes[node_id].type,
                       "output_shape": list(info.output_shape) if info.output_shape else None,
                       "params": info.params, "macs": info.macs})
    return {
        "total_params": analysis.total_params,
        "trainable_params": analysis.trainable_params,
        "weight_params": analysis.weight_params,
        "bias_params": analysis.bias_params,
        "macs": analysis.macs,
        "activation_bytes": analysis.activation_bytes,
        "input_shapes": {k: list(v) for k, v in analysis.input_shapes.items()},
        "output_shapes": {k: list(v) for k, v in analysis.output_shapes.items()},
        "layers": layers,
        "errors": [{"node": n, "message": m} for n, m in analysis.errors],
        "warnings": [{"node": n, "message": m} for n, m in analysis.warnings],
    }


def table(graph, analysis) -> str:
    rows = [("Layer", "Type", "Output shape", "Param #", "Mult-adds")]
    for node_id in analysis.order:
        info = analysis.nodes[node_id]
        node = graph.nodes[node_id]
        shape = "error" if info.errors else ("—" if info.blocked else fmt_shape(info.output_shape))
        rows.append((node.title if node.label else node_id, node.type, shape,
                     count(info.params) if info.params else "—", count(info.macs) if info.macs else "—"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    rule = "─" * (sum(widths) + 8)

    def fmt(r):
        return "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                          r[3].rjust(widths[3]), r[4].rjust(widths[4])])
    lines = [rule, fmt(rows[0]), rule] + [fmt(r) for r in rows[1:]] + [rule]
    a = analysis
    lines += [f"Total params:      {count(a.total_params)}  (weights {count(a.weight_params)}, biases {count(a.bias_params)})",
              f"Trainable params:  {count(a.trainable_params)}",
              f"Mult-adds:         {count(a.macs)}",
              f"Activations:       {nbytes(a.activation_bytes)} per sample (float32, forward)",
              "Inputs:            " + ", ".join(f"{k} {fmt_shape(v)}" for k, v in a.input_shapes.items()),
              "Outputs:           " + ", ".join(f"{k} {fmt_shape(v)}" for k, v in a.output_shapes.items())]
    if a.weight_params and len(analysis.order) <= 24:
        lines.append(f"Weights:           {a.weight_formula()}")
    for node_id, msg in a.errors:
        lines.append(f"error at {node_id}: {msg}" if node_id else f"error: {msg}")
    for node_id, msg in a.warnings:
        lines.append(f"warning at {node_id}: {msg}" if node_id else f"warning: {msg}")
    return "\n".join(lines)


def run(args) -> int:
    graph = load_or_exit(args.document)
    analysis = graph.analyze(parse_shape(args.input))
    if args.json:
        print(json.dumps(summary_dict(graph, analysis), indent=2, ensure_ascii=False))
    else:
        print(table(graph, analysis))
    return 1 if analysis.errors else 0
