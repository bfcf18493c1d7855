"""Generated networks for the editor's benchmark (bench_ui.py) and its tests
(tests/test_ui_scale.py): importing this has no side effects."""
from __future__ import annotations


def chain(n: int, channels: int = 8, size: int = 32, laid_out: bool = False):
    """An n-block network: conv/ReLU pairs with a residual Add every fourth pair;
    `laid_out`: positions from the editor's auto-layout (for a 1.5 : 1 view)."""
    from designer.graph.layout import layout_ops
    from designer.graph.model import Graph
    g = Graph()
    g.add_node("Input", {"shape": [channels, size, size], "name": "x"}, id="x")
    last, k = "x", 0
    while len(g.nodes) < n:
        k += 1
        c = g.add_node("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1}, id=f"conv{k}").id
        g.connect(last, c)
        r = g.add_node("ReLU", id=f"relu{k}").id
        g.connect(c, r)
        if k % 4 == 0:
            a = g.add_node("Add", id=f"add{k}").id
            g.connect(r, a, dst_port="in1")
            g.connect(last, a, dst_port="in2")
            r = a
        last = r
    if laid_out:
        for op in layout_ops(g, aspect=1.5):
            g.apply(op)
    return g
