"""The order in which a network's nodes run in the compiled forward.

Any topological order computes the same thing; this one keeps the document
order wherever the edges allow, so the generated code and the module
registration read in the order the person drew (and the presets wrote) them:
a residual block runs conv1, bn1, relu1, conv2, bn2, downsample, add rather
than interleaving the shortcut with the main path (designer.graph.order's
"document" tie rule).
"""
from __future__ import annotations

from designer.graph.order import graph_order


def execution_order(graph, node_ids) -> list[str]:
    """Topological order of `node_ids` (a subset of `graph.nodes`), ties broken by
    document position. Nodes on a cycle are left out (analysis reports them)."""
    return graph_order(graph, node_ids, "document")[0]
