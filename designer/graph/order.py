"""The one topological order of the project: Kahn's algorithm over the nodes in document
order, with a declared tie-break.

Which node goes next when several are ready is what people see, so each reader names
its rule (all three start from the document order, the one order a person controls):

* ``"arrival"`` (the analysis): the ready nodes in document order, then each node as
  its last input arrives, first come first served (breadth first). Linear in the size
  of the graph, which the analysis needs: it reorders on every change of wiring.
* ``"document"`` (the compiled forward, hence its state_dict and the Python export):
  the ready node that comes first in the document, so the code reads as drawn. When
  the document's own order is topological (the presets' always is) this *is* the
  document order: a residual block runs conv1, bn1, relu1, conv2, bn2, downsample, add.
* ``"depth"`` (the summary table): depth first, each branch read to its end before the
  next starts, as torchvision's googlenet.py reads an Inception module.

Nodes on a cycle, and those downstream of one, are never ready: they are returned
apart (``stuck``) for the caller to report; the order of the rest is still complete.

Why not a library: networkx (a dependency, used lazily by the auto layout) costs
150-300 ms to import, the analysis runs while the window is starting and designer.graph
must stay cheap to import, and its ``topological_sort`` breaks ties by its own rule and
raises on a cycle. The standard library's ``graphlib.TopologicalSorter`` imports
cheaply but has one fixed tie rule, and ``prepare()`` raises ``CycleError`` on a
cycle, leaving no order for the nodes before it. A dozen lines of Kahn do all three
rules, in linear time (``"document"``: n log n, through heapq, imported only then: the
analysis runs while the window starts, the compiler after torch has loaded).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Iterable, Literal, Mapping, Sequence

    Ties = Literal["arrival", "document", "depth"]


def topological_order(nodes: Iterable[str], successors: Mapping[str, Sequence[str]],
                      ties: Ties = "arrival") -> tuple[list[str], set[str]]:
    """`nodes` in document order; `successors`: node -> the nodes its edges feed, one entry
    per edge (absent: none), every one of them among `nodes`. Returns (order, stuck): the
    nodes in topological order with `ties` breaking ties (see the module's docstring),
    and the nodes left out because they lie on or after a cycle."""
    indeg = dict.fromkeys(nodes, 0)
    for targets in successors.values():
        for m in targets:
            indeg[m] += 1
    if ties == "arrival":
        order = [i for i in indeg if not indeg[i]]
        for n in order:  # the list is its own first-in first-out queue: a node joins when its last input has
            for m in successors.get(n, ()):
                indeg[m] -= 1
                if not indeg[m]:
                    order.append(m)
    elif ties == "document":
        import heapq
        position = {n: k for k, n in enumerate(indeg)}
        ready = [(position[n], n) for n in indeg if not indeg[n]]  # already a heap: positions ascend
        order = []
        while ready:
            _, n = heapq.heappop(ready)
            order.append(n)
            for m in successors.get(n, ()):
                indeg[m] -= 1
                if not indeg[m]:
                    heapq.heappush(ready, (position[m], m))
    elif ties == "depth":
        stack = [n for n in reversed(indeg) if not indeg[n]]  # the first ready node on top
        order = []
        while stack:
            n = stack.pop()
            order.append(n)
            for m in reversed(successors.get(n, ())):  # the first successor is read first
                indeg[m] -= 1
                if not indeg[m]:
                    stack.append(m)
    else:
        raise ValueError(f"unknown tie rule {ties!r}: 'arrival', 'document' or 'depth'")
    stuck = set(indeg).difference(order) if len(order) < len(indeg) else set()
    return order, stuck


def graph_order(graph, ids: Iterable[str] | None = None, ties: Ties = "arrival") -> tuple[list[str], set[str]]:
    """`topological_order` of the graph's nodes (or of those among `ids`, the edges between
    them only), in document order before the tie rule applies."""
    wanted = None if ids is None else set(ids)
    nodes = [i for i in graph.nodes if wanted is None or i in wanted]
    chosen = set(nodes)
    successors: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.src in chosen and e.dst in chosen:
            successors.setdefault(e.src, []).append(e.dst)
    return topological_order(nodes, successors, ties)
