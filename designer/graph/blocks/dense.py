"""Linear (fully connected), Flatten and Reshape."""
import math
from functools import partial

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count, shape as fmt_shape
from ..params import Param


def _linear_infer(p, ins):
    s = ins["in"]
    if len(s) != 1:
        raise ShapeError(f"Linear needs a flat vector, got {fmt_shape(s)}: add a Flatten before it")
    fin, fout = s[0], p["out_features"]
    weights, biases = fin * fout, fout if p["bias"] else 0
    return Inference({"out": (fout,)}, weights, biases, fin * fout, resolved={"in_features": fin},
                     formulas=partial(_linear_formulas, fin, fout, weights, biases))


def _linear_formulas(fin, fout, weights, biases):
    wf = f"{fin}×{fout}"
    pf = f"{wf} + {fout} = {count(weights + biases)}" if biases else f"{wf} = {count(weights)}"
    return f"{fin} → {fout}", pf, wf


def _linear_build(p, ins):
    import torch.nn as nn
    return nn.Linear(ins["in"][0], p["out_features"], p["bias"])


register(BlockSpec("Linear", "Dense", "Fully connected layer (FC). in_features comes from the input.",
                   (Param("out_features", "int", 10, "Number of outputs.", min=1, max=1 << 20),
                    Param("bias", "bool", True, "Add a learned bias per output.")),
                   _linear_infer, _linear_build, summary=lambda p: f"FC {p['out_features']}"))


def _flatten_infer(p, ins):
    s = ins["in"]
    n = math.prod(s)
    return Inference({"out": (n,)}, formulas=partial(_flatten_formulas, s, n))


def _flatten_formulas(s, n):
    return (f"{' × '.join(map(str, s))} = {n}" if len(s) > 1 else f"{n}"), "", ""


def _flatten_build(p, ins):
    import torch.nn as nn
    return nn.Flatten(1)


register(BlockSpec("Flatten", "Dense", "Turns C×H×W into one vector of C·H·W features (the batch stays).",
                   (), _flatten_infer, _flatten_build, summary=lambda p: "flatten"))


def _reshape_target(p, s):
    target = list(p["shape"])
    n = math.prod(s)
    if target.count(-1) > 1:
        raise ShapeError("at most one size may be -1")
    known = math.prod(d for d in target if d != -1)
    if -1 in target:
        if known == 0 or n % known:
            raise ShapeError(f"cannot reshape {fmt_shape(s)} ({n} values) into {fmt_shape(target)}")
        target[target.index(-1)] = n // known
    if math.prod(target) != n:
        raise ShapeError(f"cannot reshape {fmt_shape(s)} ({n} values) into {fmt_shape(target)} "
                         f"({math.prod(target)} values)")
    return tuple(target)


def _reshape_infer(p, ins):
    out = _reshape_target(p, ins["in"])
    return Inference({"out": out}, shape_formula=f"{fmt_shape(ins['in'])} → {fmt_shape(out)}")


def _reshape_build(p, ins):
    import torch.nn as nn
    return nn.Unflatten(1, _reshape_target(p, ins["in"])) if len(ins["in"]) == 1 else \
        nn.Sequential(nn.Flatten(1), nn.Unflatten(1, _reshape_target(p, ins["in"])))


register(BlockSpec("Reshape", "Dense", "Rearranges the values into another shape (e.g. a vector into C×H×W).",
                   (Param("shape", "shape", (1, 28, 28), "Target sizes without the batch; one may be -1.", min=-1),),
                   _reshape_infer, _reshape_build, summary=lambda p: f"reshape {fmt_shape(p['shape'])}"))
