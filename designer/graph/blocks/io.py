"""Input and Output: the boundary of a network (or of a composite's inside)."""
from functools import partial

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import shape as fmt_shape
from ..params import Param


def _input_infer(p, ins):
    s = tuple(p["shape"])
    return Inference({"out": s}, formulas=partial(_boundary_formulas, "input", s))


def _boundary_formulas(kind: str, s) -> tuple[str, str, str]:
    return f"{kind} {fmt_shape(s)}", "", ""


register(BlockSpec(
    "Input", "Input",
    "Where data enters: an image C×H×W or a feature vector (the batch dimension is implied).",
    (Param("shape", "shape", (1, 32, 32), "Sizes without the batch: [C, H, W] for an image, [F] for a vector."),
     Param("name", "str", "x", "The argument name of the compiled forward().", identifier=True)),
    _input_infer, None, inputs=(), outputs=("out",),
    summary=lambda p: fmt_shape(p["shape"]), functional=True))


def _output_infer(p, ins):
    s = ins["in"]
    if s is None:
        raise ShapeError("nothing is connected")
    return Inference({}, formulas=partial(_boundary_formulas, "output", s))


register(BlockSpec(
    "Output", "Input",
    "Marks a result of the network. With several Outputs the network returns them as a tuple, in order.",
    (Param("name", "str", "out", "Name of this output (a Python name: it names the result).", identifier=True),),
    _output_infer, None, inputs=("in",), outputs=(),
    summary=lambda p: p["name"], functional=True))
