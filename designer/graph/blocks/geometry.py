"""Output-size arithmetic of sliding windows, with the formula written out as the
lecture writes it. Mirrors the checks PyTorch makes, so that analysis refuses
exactly what torch refuses.

Sizes and formulas are apart: every analysis needs the sizes, while a formula is
written only when someone reads it (a refusal writes it at once, to say why)."""
from __future__ import annotations

from ..errors import ShapeError
from ..format import shape as fmt_shape


def window_size(n: int, k: int, s: int, p: int, d: int = 1, ceil_mode: bool = False,
                what: str = "kernel") -> int:
    """Output length of a window of size k (dilation d) sliding with stride s over
    n + 2p cells."""
    eff = d * (k - 1) + 1
    span = n + 2 * p - eff
    # integer arithmetic rounding towards −∞, as ATen's pooling_output_shape does
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # torch: the last window must start inside the input or its left padding
    if out <= 0:
        if eff > n + 2 * p:
            raise ShapeError(f"{what} {eff} is larger than the padded input {n} + 2·{p} = {n + 2 * p}")
        raise ShapeError(f"output size would be {out}: {window_formula(n, k, s, p, d, ceil_mode, out)}")
    return out


def window_formula(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool, out: int) -> str:
    """⌊(32 + 2·0 − 5)/1⌋ + 1 = 28, for the size `out` that window_size gave."""
    bracket = "⌈⌉" if ceil_mode else "⌊⌋"
    core = f"{n} + 2·{p} − {k}" if d == 1 else f"{n} + 2·{p} − {d}·({k} − 1) − 1"
    return f"{bracket[0]}({core})/{s}{bracket[1]} + 1 = {out}"


def transposed_size(n: int, k: int, s: int, p: int, op: int, d: int = 1) -> int:
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out <= 0:
        raise ShapeError(f"output size would be {out}: {transposed_formula(n, k, s, p, op, d, out)}")
    return out


def transposed_formula(n: int, k: int, s: int, p: int, op: int, d: int, out: int) -> str:
    """(14 − 1)·2 − 2·0 + 2 − 1 + 0 + 1 = 28, for the size `out` that transposed_size gave."""
    dk = f"{k} − 1" if d == 1 else f"{d}·({k} − 1)"
    return f"({n} − 1)·{s} − 2·{p} + {dk} + {op} + 1 = {out}"


def join_formulas(fh: str, fw: str) -> str:
    """One formula when height and width read the same, else both, labelled."""
    return fh if fh == fw else f"H: {fh};  W: {fw}"


def need_image(ins: dict, port: str = "in") -> tuple[int, int, int]:
    s = ins[port]
    if len(s) != 3:
        raise ShapeError(f"needs an image C×H×W, got {fmt_shape(s)}"
                         + (" (a flat vector)" if len(s) == 1 else ""))
    return s
