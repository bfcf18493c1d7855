"""The order in which a network's nodes run in the compiled forward.

Any topological order computes the same thing; this one keeps the document
order wherever the edges allow, so the generated code and the module
registration read in the order the person drew (and the presets wrote) them:
a residual block runs conv1, bn1, relu1, conv2, bn2, downsample, add rather
than interleaving the shortcut with the main path.
"""
from __future__ import annotations

import heapq


def execution_order(graph, node_ids) -> list[str]:
    """Topological order of `node_ids` (a subset of `graph.nodes`), ties broken by
    document position. Nodes on a cycle are left out (analysis reports them)."""
    wanted = set(node_ids)
    position = {node_id: i for i, node_id in enumerate(graph.nodes)}
    indegree = {node_id: 0 for node_id in wanted}
    successors: dict[str, list[str]] = {node_id: [] for node_id in wanted}
    for edge in graph.edges:
        if edge.src in wanted and edge.dst in wanted:
            indegree[edge.dst] += 1
            successors[edge.src].append(edge.dst)
    ready = [(position[n], n) for n in wanted if indegree[n] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, node_id = heapq.heappop(ready)
        order.append(node_id)
        for nxt in successors[node_id]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    return order
