"""Output-size arithmetic of sliding windows, with the formula written out as the
lecture writes it. Mirrors the checks PyTorch makes, so that analysis refuses
exactly what torch refuses."""
from __future__ import annotations

from ..errors import ShapeError


def window_out(n: int, k: int, s: int, p: int, d: int = 1, ceil_mode: bool = False,
               what: str = "kernel") -> tuple[int, str]:
    """Output length of a window of size k (dilation d) sliding with stride s over
    n + 2p cells; returns (size, formula)."""
    eff = d * (k - 1) + 1
    span = n + 2 * p - eff
    # integer arithmetic rounding towards −∞, as ATen's pooling_output_shape does
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # torch: the last window must start inside the input or its left padding
    if out <= 0 and eff > n + 2 * p:
        raise ShapeError(f"{what} {eff} is larger than the padded input {n} + 2·{p} = {n + 2 * p}")
    bracket = "⌈⌉" if ceil_mode else "⌊⌋"
    core = f"{n} + 2·{p} − {k}" if d == 1 else f"{n} + 2·{p} − {d}·({k} − 1) − 1"
    formula = f"{bracket[0]}({core})/{s}{bracket[1]} + 1 = {out}"
    if out <= 0:
        raise ShapeError(f"output size would be {out}: {formula}")
    return out, formula


def transposed_out(n: int, k: int, s: int, p: int, op: int, d: int = 1) -> tuple[int, str]:
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    dk = f"{k} − 1" if d == 1 else f"{d}·({k} − 1)"
    formula = f"({n} − 1)·{s} − 2·{p} + {dk} + {op} + 1 = {out}"
    if out <= 0:
        raise ShapeError(f"output size would be {out}: {formula}")
    return out, formula


def join_formulas(fh: str, fw: str) -> str:
    """One formula when height and width read the same, else both, labelled."""
    return fh if fh == fw else f"H: {fh};  W: {fw}"


def need_image(ins: dict, port: str = "in") -> tuple[int, int, int]:
    s = ins[port]
    if len(s) != 3:
        raise ShapeError(f"needs an image C×H×W, got {'×'.join(map(str, s))}"
                         + (" (a flat vector)" if len(s) == 1 else ""))
    return s
