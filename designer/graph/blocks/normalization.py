"""BatchNorm (1d or 2d, inferred from the input) and LocalResponseNorm."""
from functools import partial

from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count
from ..params import Param


def _bn_infer(p, ins):
    s = ins["in"]
    if len(s) not in (1, 2, 3):
        raise ShapeError("BatchNorm needs a vector or an image")
    c = s[0]
    n = c if p["affine"] else 0
    return Inference({"out": s}, weights=n, biases=n,
                     resolved={"num_features": c, "variant": "BatchNorm1d" if len(s) < 3 else "BatchNorm2d"},
                     formulas=partial(_bn_formulas, c, n))


def _bn_formulas(c, n):
    if not n:
        return "shape unchanged", "no learned parameters", ""
    return "shape unchanged", f"γ {c} + β {c} = {count(2 * n)}", str(n)


def _bn_build(p, ins):
    import torch.nn as nn
    cls = nn.BatchNorm2d if len(ins["in"]) == 3 else nn.BatchNorm1d
    return cls(ins["in"][0], eps=p["eps"], momentum=p["momentum"], affine=p["affine"])


register(BlockSpec("BatchNorm", "Normalization",
                   "Normalises each channel over the batch; 1d for vectors, 2d for images (inferred).",
                   (Param("eps", "float", 1e-5, "Added to the variance for stability (torch needs it above 0).",
                          min=1e-12, max=1),
                    Param("momentum", "float", 0.1, "Running-statistics update rate.", min=0, max=1),
                    Param("affine", "bool", True, "Learn a scale γ and shift β per channel.")),
                   _bn_infer, _bn_build, summary=lambda p: "batch norm"))


def _lrn_infer(p, ins):
    if len(ins["in"]) < 2:
        raise ShapeError("LocalResponseNorm needs channels and at least one spatial axis")
    return Inference({"out": ins["in"]}, shape_formula="shape unchanged")


def _lrn_build(p, ins):
    import torch.nn as nn
    return nn.LocalResponseNorm(p["size"], p["alpha"], p["beta"], p["k"])


register(BlockSpec("LocalResponseNorm", "Normalization",
                   "AlexNet's local response normalisation across neighbouring channels.",
                   (Param("size", "int", 5, "Number of neighbouring channels.", min=1, max=1024),
                    Param("alpha", "float", 1e-4, "Scale α.", min=0, max=10),
                    Param("beta", "float", 0.75, "Exponent β.", min=0, max=10),
                    Param("k", "float", 2.0, "Additive constant k.", min=0, max=100)),
                   _lrn_infer, _lrn_build, summary=lambda p: f"LRN n={p['size']}"))


def _dropout_infer(p, ins):
    return Inference({"out": ins["in"]}, shape_formula="shape unchanged")


def _dropout2d_infer(p, ins):
    if len(ins["in"]) != 3:
        raise ShapeError("Dropout2d drops whole channels of an image C×H×W; use Dropout for vectors")
    return _dropout_infer(p, ins)


def _dropout_build(cls_name):
    def build(p, ins):
        import torch.nn as nn
        return getattr(nn, cls_name)(p["p"])
    return build


_P = (Param("p", "float", 0.5, "Probability of zeroing an element during training.", min=0, max=1),)
register(BlockSpec("Dropout", "Regularization", "Zeroes random elements during training (AlexNet: 0.5).",
                   _P, _dropout_infer, _dropout_build("Dropout"), summary=lambda p: f"dropout {p['p']:g}"))
register(BlockSpec("Dropout2d", "Regularization", "Zeroes whole random channels during training.",
                   _P, _dropout2d_infer, _dropout_build("Dropout2d"), summary=lambda p: f"dropout2d {p['p']:g}"))
