"""Element-wise activations, Softmax and LogSoftmax. Shapes pass through."""
from ..block import BlockSpec, Inference, register
from ..errors import ShapeError
from ..format import count
from ..params import Param


def _same(p, ins):
    return Inference({"out": ins["in"]}, shape_formula="shape unchanged")


def _simple(type_name, doc, make, params=(), summary=None):
    def build(p, ins):
        import torch.nn as nn
        return make(nn, p)
    register(BlockSpec(type_name, "Activation", doc, params, _same, build,
                       summary=summary or (lambda p: type_name.lower())))


_simple("ReLU", "max(0, x): the rectifier AlexNet made standard.", lambda nn, p: nn.ReLU())
_simple("LeakyReLU", "x for x > 0, slope·x otherwise.", lambda nn, p: nn.LeakyReLU(p["negative_slope"]),
        (Param("negative_slope", "float", 0.01, "Slope for negative inputs.", min=0, max=10),),
        lambda p: f"leaky relu {p['negative_slope']:g}")
_simple("ELU", "x for x > 0, α·(eˣ − 1) otherwise.", lambda nn, p: nn.ELU(p["alpha"]),
        (Param("alpha", "float", 1.0, "Saturation value for negative inputs.", min=0, max=100),))
_simple("GELU", "Gaussian error linear unit.", lambda nn, p: nn.GELU(approximate=p["approximate"]),
        (Param("approximate", "enum", "none", "Exact, or the tanh approximation.", choices=("none", "tanh")),))
_simple("Sigmoid", "1 / (1 + e⁻ˣ): squashes to (0, 1).", lambda nn, p: nn.Sigmoid())
_simple("Tanh", "Hyperbolic tangent: squashes to (−1, 1) (LeNet-5's squashing function).", lambda nn, p: nn.Tanh())
_simple("ReLU6", "min(max(0, x), 6): MobileNet's bounded rectifier.", lambda nn, p: nn.ReLU6())
_simple("SiLU", "x·σ(x) (swish): EfficientNet's activation.", lambda nn, p: nn.SiLU())
_simple("Hardswish", "x·ReLU6(x + 3)/6: MobileNetV3's cheap swish.", lambda nn, p: nn.Hardswish())
_simple("Hardsigmoid", "ReLU6(x + 3)/6: MobileNetV3's cheap sigmoid (its squeeze-and-excitation gate).",
        lambda nn, p: nn.Hardsigmoid())


def _prelu_infer(p, ins):
    s = ins["in"]
    n = s[0] if p["per_channel"] else 1
    return Inference({"out": s}, weights=n, shape_formula="shape unchanged",
                     param_formula=f"{n} slope{'s' if n > 1 else ''} = {count(n)}", weight_formula=str(n))


def _prelu_build(p, ins):
    import torch.nn as nn
    return nn.PReLU(ins["in"][0] if p["per_channel"] else 1)


register(BlockSpec("PReLU", "Activation", "Leaky ReLU whose negative slope is learned.",
                   (Param("per_channel", "bool", False, "One learned slope per channel instead of one in all."),),
                   _prelu_infer, _prelu_build, summary=lambda p: "prelu"))


def _softmax_infer(p, ins):
    if p["dim"] > len(ins["in"]):
        raise ShapeError(f"dim {p['dim']} does not exist for a {len(ins['in']) + 1}-D tensor")
    return _same(p, ins)


for _name, _doc in (("Softmax", "Turns scores into probabilities along the class (channel) axis."),
                    ("LogSoftmax", "log(softmax(x)), numerically stable; pair with NLL loss.")):
    def _build(p, ins, _name=_name):
        import torch.nn as nn
        return getattr(nn, _name)(dim=p["dim"])
    register(BlockSpec(_name, "Activation", _doc,
                       (Param("dim", "int", 1, "Axis counted with the batch as 0: 1 is the channel/class axis.",
                              min=1, max=4),),
                       _softmax_infer, _build, summary=lambda p, n=_name: n.lower()))
