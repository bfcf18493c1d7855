"""Typed parameter declarations: one per block parameter, read by the inspector,
the file loader and the analysis alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ParamError

MAX_INT = 1 << 20  # larger sizes are typos, and would make the arithmetic meaningless

KINDS = ("int", "float", "bool", "enum", "pair", "padding", "pad4", "shape", "str")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    label: str = ""
    identifier: bool = False  # text that must read as a Python name (forward() arguments, ports)

    def __post_init__(self):
        assert self.kind in KINDS, self.kind

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")

    def coerce(self, value: Any) -> Any:
        """Return the canonical form of `value`, or raise ParamError saying why not."""
        try:
            return _COERCE[self.kind](self, value)
        except ParamError:
            raise
        except Exception:  # noqa: BLE001 - any odd value becomes one clear message
            raise ParamError(f"{self.title}: {value!r} is not a valid {self.kind}") from None


def _int(p: Param, v) -> int:
    return _whole(p, v, p.min, p.max if p.max is not None else MAX_INT)


def _whole(p: Param, v, lo, hi) -> int:
    """An int within [lo, hi] (either may be None); the messages name `p`."""
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
            v = int(v.strip())
        else:
            raise ParamError(f"{p.title} must be a whole number, not {v!r}")
    _bounds(p, v, lo, hi)
    return v


def _range(p: Param, v):
    _bounds(p, v, p.min, p.max if p.max is not None else (MAX_INT if p.kind != "float" else None))


def _bounds(p: Param, v, lo, hi):
    if lo is not None and v < lo:
        raise ParamError(f"{p.title} must be at least {lo:g}, not {v}")
    if hi is not None and v > hi:
        raise ParamError(f"{p.title} must be at most {hi:g}, not {v}")


def _float(p: Param, v) -> float:
    if isinstance(v, bool):
        raise ParamError(f"{p.title} must be a number, not {v!r}")
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise ParamError(f"{p.title} must be a finite number")
    _range(p, v)
    return v


def _bool(p: Param, v) -> bool:
    if isinstance(v, bool):
        return v
    raise ParamError(f"{p.title} must be true or false, not {v!r}")


def _enum(p: Param, v):
    if v in p.choices and isinstance(v, str):
        return v
    raise ParamError(f"{p.title} must be one of {', '.join(map(str, p.choices))}; got {v!r}")


def _ints(p: Param, v, n: int) -> tuple:
    hi = p.max if p.max is not None else MAX_INT
    if isinstance(v, (list, tuple)):
        if len(v) != n:
            raise ParamError(f"{p.title} needs {n} numbers, got {len(v)}")
        return tuple([_whole(p, x, p.min, hi) for x in v])
    return _whole(p, v, p.min, hi)


def _pair(p: Param, v):
    """A number or a (height, width) pair."""
    return _ints(p, v, 2)


def _padding(p: Param, v):
    if v == "same":
        return "same"
    return _ints(p, v, 2)


def _pad4(p: Param, v):
    """ZeroPad2d: one number, or (left, right, top, bottom) as PyTorch orders them."""
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return _ints(p, v, 2)
    return _ints(p, v, 4)


def _shape(p: Param, v) -> tuple:
    if not isinstance(v, (list, tuple)) or not 1 <= len(v) <= 4:
        raise ParamError(f"{p.title} must be a list of 1 to 4 sizes, like [1, 32, 32]")
    lo = p.min if p.min is not None else 1
    return tuple([_whole(p, x, lo, MAX_INT) for x in v])


def _str(p: Param, v) -> str:
    if not isinstance(v, str):
        raise ParamError(f"{p.title} must be text, not {v!r}")
    if len(v) > 200:
        raise ParamError(f"{p.title} is longer than 200 characters")
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamError(f"{p.title} holds characters that cannot be saved") from None
    # keywords pass: a composite's ports are named `in` and `out`
    if p.identifier and not (v.isidentifier() and v.isascii()):
        raise ParamError(f"{p.title} must be a name of letters, digits and _ that does not start with a "
                         f"digit, like x or image; not {v!r}")
    return v


_COERCE = {
    "int": _int, "float": _float, "bool": _bool, "enum": _enum, "pair": _pair,
    "padding": _padding, "pad4": _pad4, "shape": _shape, "str": _str,
}


def pair(v) -> tuple[int, int]:
    """(h, w) from a number or a pair."""
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def to_json(v):
    """Tuples are stored as JSON lists."""
    return list(v) if isinstance(v, tuple) else v
