"""The one rule for a new name: the name itself when it is free, else the name with the
first free number appended: conv2d, conv2d_1, conv2d_2…

`Graph.new_id` first turns a block type into a valid node id (conv2d from Conv2d), then
applies this rule against the graph's nodes; pasting keeps the copied ids where free and
numbers them the same way (a copy of conv2d_1 is conv2d_1_1 beside it); a new composite
is named the same way against the names the document uses.
"""
from __future__ import annotations

from typing import Container


def unique_id(base: str, taken: Container[str]) -> str:
    """`base` if it is not in `taken`, else `base_1`, `base_2`…, the first free one; a number
    (a numbered child, as in an nn.Sequential) becomes the next free number instead."""
    if base not in taken:
        return base
    if base.isdigit():
        n = int(base) + 1
        while str(n) in taken:
            n += 1
        return str(n)
    i = 1
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"
