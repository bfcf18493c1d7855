"""Writes every preset of the lecture's networks, and presets/README.md, from code.

    .venv/bin/python presets/build_presets.py             write every preset and the README
    .venv/bin/python presets/build_presets.py vgg16 unet  write only these
    .venv/bin/python presets/build_presets.py --check     exit 1 if a file differs from what would be written

Each network is wired through the Graph API (add_node / connect), the way a person
builds it on the canvas, and saved with save_graph; the README's numbers come from
the analysis of what was built, so they cannot drift from the files.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # run as a plain script from anywhere

from designer.graph.fileformat import dumps  # noqa: E402
from designer.graph.format import count, shape as fmt_shape  # noqa: E402
from designer.graph.model import DEFAULT_NETWORK, CompositeDef, Graph, SetComposite, SetMeta  # noqa: E402
from designer.graph.presets import TORCHVISION_KEY  # noqa: E402
from designer.train.config import PRESET_CHOICES  # noqa: E402

STEP = 220  # horizontal distance between neighbouring blocks
ROW = 240   # vertical distance between rows (U-Net levels, GAN networks, auxiliary heads)


# ---- building blocks -----------------------------------------------------------------------

class Row:
    """Places blocks left to right, STEP apart, and wires each to the one placed before it."""

    def __init__(self, graph: Graph, x: float = 0, y: float = 0, network: str = DEFAULT_NETWORK,
                 after: str | None = None, trainable: bool = True):
        self.graph, self.x, self.y, self.network = graph, x, y, network
        self.last, self.trainable = after, trainable

    def add(self, node_id: str, type_name: str, params: dict | None = None, label: str = "",
            src: str | None = None, trainable: bool | None = None) -> str:
        """Add a block at the cursor, fed by `src` (default: the previous block)."""
        self.graph.add_node(type_name, params, id=node_id, label=label, pos=(self.x, self.y),
                            network=self.network,
                            trainable=self.trainable if trainable is None else trainable)
        src = self.last if src is None else src
        if src is not None:
            self.graph.connect(src, node_id)
        self.last = node_id
        self.x += STEP
        return node_id


def group(r: Row, node_id: str, type_name: str, label: str, doc: str, fill) -> str:
    """A composite of our own at the cursor, fed by the previous block: `fill(inner_row)` draws
    its inside between an Input and an Output. The presets of torchvision's networks group as
    torchvision's modules do (features, classifier, layer1…4), numbering the children 0, 1, 2…
    as an nn.Sequential, so that the compiled state_dict keys are torchvision's."""
    g = r.graph
    shape = g.analyze().shape_of(r.last, "out")
    inside = Graph()
    inner = Row(inside)
    inner.add("input", "Input", {"shape": list(shape), "name": "in"})
    fill(inner)
    inner.add("output", "Output", {"name": "out"})
    g.apply(SetComposite(type_name, CompositeDef(type_name, inside, " ".join(doc.split()))))
    return r.add(node_id, type_name, label=label)


def conv(out: int, k: int, stride: int = 1, padding: int = 0, groups: int = 1, bias: bool = True) -> dict:
    return {"out_channels": out, "kernel_size": k, "stride": stride, "padding": padding,
            "groups": groups, "bias": bias}


def up_conv(out: int, k: int, stride: int, padding: int = 0, bias: bool = True) -> dict:
    return {"out_channels": out, "kernel_size": k, "stride": stride, "padding": padding, "bias": bias}


def max_pool(k: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> dict:
    return {"kernel_size": k, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}


def image_input(shape, label: str = "", name: str = "image") -> tuple:
    return "Input", {"shape": list(shape), "name": name}, label or f"INPUT {shape[-2]}×{shape[-1]}"


# PyTorch's LocalResponseNorm divides α by the window size n (as Caffe does), the
# AlexNet paper does not: its α = 10⁻⁴ over n = 5 channels is 5·10⁻⁴ here.
LRN_ALEXNET = {"size": 5, "alpha": 5e-4, "beta": 0.75, "k": 2.0}
# GoogLeNet's published Caffe model: local_size 5, α 10⁻⁴ (Caffe's α is already per n), k 1.
LRN_GOOGLENET = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 1.0}


def describe(graph: Graph, *, title: str, paper: str, authors: str, year: int, description: str,
             input: str, training: dict, torchvision: str | None = None):
    """`torchvision`: the torchvision builder whose names and layers this network has (its
    ImageNet weights then load by name); None for a network torchvision does not build."""
    for key, value in training.items():  # a typo here would only surface when someone trains
        if key not in PRESET_CHOICES:
            raise ValueError(f"{title}: {key!r} is not a setting a preset may hold (designer.train.config)")
        choices = PRESET_CHOICES[key]
        if choices and any(v not in choices for v in (value if isinstance(value, list) else [value])):
            raise ValueError(f"{title}: {key} = {value!r} is not one of {choices}")
        if choices is None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise ValueError(f"{title}: {key} = {value!r} is not a number above 0")
    meta = {"title": title, "paper": paper, "authors": authors, "year": year,
            "description": " ".join(description.split()), "input": input, "training": training}
    if torchvision:
        meta[TORCHVISION_KEY] = torchvision
    for key, value in meta.items():
        graph.apply(SetMeta(key, value))


# ---- multi-layer perceptron ------------------------------------------------------------------

def mlp() -> Graph:
    g = Graph()
    r = Row(g)
    r.add("input", *image_input((1, 28, 28)))
    r.add("flatten", "Flatten", label="784 pixels")
    r.add("fc1", "Linear", {"out_features": 256}, "hidden 256")
    r.add("sigmoid1", "Sigmoid")
    r.add("fc2", "Linear", {"out_features": 128}, "hidden 128")
    r.add("sigmoid2", "Sigmoid")
    r.add("fc3", "Linear", {"out_features": 10}, "output 10")
    describe(
        g, title="Multi-layer perceptron", paper="Learning representations by back-propagating errors",
        authors="Rumelhart, Hinton & Williams", year=1986,
        description="""The network that back-propagation made trainable: every pixel of a 28×28 image
        (784 numbers) feeds every unit of a hidden layer of 256, whose outputs feed 128 more, then 10
        class scores. Each unit computes a weighted sum plus a bias and squashes it with the logistic
        sigmoid, as in the 1986 paper; the error at the output is sent backwards through the layers to
        adjust every weight. It ignores that neighbouring pixels belong together: 784×256 weights for
        the first layer alone, the cost convolutions were invented to avoid. Swap the sigmoids for ReLU
        to see it train faster.""",
        input="1×28×28 greyscale digit, flattened to 784 values",
        training={"dataset": "digits", "task": "classification", "epochs": 10,
                  "batch_size": 32, "optimizer": "adam", "lr": 0.001, "schedule": "constant"})
    return g


# ---- LeNet-5 -------------------------------------------------------------------------------

def lenet5() -> Graph:
    g = Graph()
    r = Row(g)
    avg = {"kernel_size": 2, "stride": 2, "padding": 0, "ceil_mode": False, "count_include_pad": True}
    r.add("input", *image_input((1, 32, 32)))
    r.add("c1", "Conv2d", conv(6, 5), "C1")
    r.add("c1_tanh", "Tanh")
    r.add("s2", "AvgPool2d", avg, "S2")
    r.add("c3", "Conv2d", conv(16, 5), "C3")
    r.add("c3_tanh", "Tanh")
    r.add("s4", "AvgPool2d", avg, "S4")
    r.add("c5", "Conv2d", conv(120, 5), "C5")
    r.add("c5_tanh", "Tanh")
    r.add("flatten", "Flatten")
    r.add("f6", "Linear", {"out_features": 84}, "F6")
    r.add("f6_tanh", "Tanh")
    r.add("output", "Linear", {"out_features": 10}, "OUTPUT")
    describe(
        g, title="LeNet-5", paper="Gradient-Based Learning Applied to Document Recognition",
        authors="LeCun, Bottou, Bengio & Haffner", year=1998,
        description="""The convolutional network that read cheques: two convolution + subsampling
        stages (C1, S2, C3, S4), a 5×5 convolution C5 that acts as a fully connected layer, F6 and ten
        outputs, all with tanh. A 32×32 input becomes 28×28 after the first 5×5 convolution, since
        ⌊(32 − 5)/1⌋ + 1 = 28. Full C3 connections, average pooling.""",
        input="1×32×32 greyscale digit",
        training={"batch_size": 32, "dataset": "digits", "epochs": 3, "lr": 0.002, "optimizer": "adam"})
    return g


# ---- AlexNet -------------------------------------------------------------------------------

def alexnet() -> Graph:
    g = Graph()
    r = Row(g)
    r.add("input", *image_input((3, 227, 227)))
    r.add("conv1", "Conv2d", conv(96, 11, stride=4), "conv1 96@11×11/4")
    r.add("relu1", "ReLU")
    r.add("norm1", "LocalResponseNorm", LRN_ALEXNET, "LRN")
    r.add("pool1", "MaxPool2d", max_pool(3, 2), "max pool 3×3/2")
    r.add("conv2", "Conv2d", conv(256, 5, padding=2, groups=2), "conv2 2 towers × 128")
    r.add("relu2", "ReLU")
    r.add("norm2", "LocalResponseNorm", LRN_ALEXNET, "LRN")
    r.add("pool2", "MaxPool2d", max_pool(3, 2), "max pool 3×3/2")
    r.add("conv3", "Conv2d", conv(384, 3, padding=1), "conv3 across towers")
    r.add("relu3", "ReLU")
    r.add("conv4", "Conv2d", conv(384, 3, padding=1, groups=2), "conv4 2 towers × 192")
    r.add("relu4", "ReLU")
    r.add("conv5", "Conv2d", conv(256, 3, padding=1, groups=2), "conv5 2 towers × 128")
    r.add("relu5", "ReLU")
    r.add("pool5", "MaxPool2d", max_pool(3, 2), "max pool 3×3/2")
    r.add("flatten", "Flatten")
    r.add("fc6", "Linear", {"out_features": 4096}, "FC 4096")
    r.add("relu6", "ReLU")
    r.add("drop6", "Dropout", {"p": 0.5})
    r.add("fc7", "Linear", {"out_features": 4096}, "FC 4096")
    r.add("relu7", "ReLU")
    r.add("drop7", "Dropout", {"p": 0.5})
    r.add("fc8", "Linear", {"out_features": 1000}, "FC 1000")
    describe(
        g, title="AlexNet", paper="ImageNet Classification with Deep Convolutional Neural Networks",
        authors="Krizhevsky, Sutskever & Hinton", year=2012,
        description="""The network that won ImageNet 2012 by a wide margin, trained on two GPUs of 3 GB
        each. Its filters were split between the two cards: conv2, conv4 and conv5 see only the
        channels of their own GPU (groups = 2 here), while conv3 and the fully connected layers talk
        across both. It made ReLU, overlapping 3×3 max-pooling with stride 2, and dropout 0.5 in the
        first two fully connected layers standard; local response normalisation after conv1 and conv2
        is the one idea that did not last. A 227×227 crop shrinks to 55, 27, 13 and finally 6×6×256 =
        9,216 features; 58.6 M of the 61 M parameters sit in the three fully connected layers. PyTorch's
        LRN divides α by the window n, so the paper's α = 10⁻⁴ (n = 5, k = 2, β = 0.75) reads
        0.0005 here. Not torchvision's alexnet (the later one-tower form without LRN), so its ImageNet
        weights do not fit this network.""",
        input="3×227×227 RGB crop (the paper says 224; the arithmetic needs 227)",
        training={"dataset": "cifar10", "task": "classification", "epochs": 10,
                  "batch_size": 128, "optimizer": "sgd", "lr": 0.01, "momentum": 0.9,
                  "weight_decay": 0.0005, "schedule": "plateau",
                  "augment": ["random_crop", "hflip", "normalize"]})
    return g


# ---- VGG -----------------------------------------------------------------------------------

# Simonyan & Zisserman's table: per stage, (kernel, filters) of each convolution.
_A = [[(3, 64)], [(3, 128)], [(3, 256)] * 2, [(3, 512)] * 2, [(3, 512)] * 2]
_B = [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 2, [(3, 512)] * 2, [(3, 512)] * 2]
_C = [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 2 + [(1, 256)],
      [(3, 512)] * 2 + [(1, 512)], [(3, 512)] * 2 + [(1, 512)]]
_D = [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 3, [(3, 512)] * 3, [(3, 512)] * 3]
_E = [[(3, 64)] * 2, [(3, 128)] * 2, [(3, 256)] * 4, [(3, 512)] * 4, [(3, 512)] * 4]

VGG_COLUMNS = {  # preset: (column, weight layers, stages, LRN after the first convolution)
    "vgg11": ("A", 11, _A, False),
    "vgg11_lrn": ("A-LRN", 11, _A, True),
    "vgg13": ("B", 13, _B, False),
    "vgg16_c": ("C", 16, _C, False),
    "vgg16": ("D", 16, _D, False),
    "vgg19": ("E", 19, _E, False),
}


TORCHVISION_VGG = {"A": "vgg11", "B": "vgg13", "D": "vgg16", "E": "vgg19"}  # A-LRN and C it does not build


def vgg(name: str) -> Graph:
    column, depth, stages, lrn = VGG_COLUMNS[name]
    g = Graph()
    r = Row(g)
    r.add("input", *image_input((3, 224, 224)))

    def features(inner: Row):  # torchvision's vgg.features: conv, ReLU (…), max-pool per stage
        for s, layers in enumerate(stages, 1):
            for i, (k, c) in enumerate(layers, 1):
                inner.add(str(len(inner.graph.nodes) - 1), "Conv2d", conv(c, k, padding=k // 2), f"conv{k}-{c}")
                inner.add(str(len(inner.graph.nodes) - 1), "ReLU", label="ReLU")  # numbered ids: say what it is
                if lrn and s == 1 and i == 1:
                    inner.add(str(len(inner.graph.nodes) - 1), "LocalResponseNorm", LRN_ALEXNET, "LRN")
            inner.add(str(len(inner.graph.nodes) - 1), "MaxPool2d", max_pool(2, 2), "maxpool")

    def classifier(inner: Row):  # torchvision's vgg.classifier: AlexNet's three FC layers
        for k, width in enumerate((4096, 4096, 1000)):
            inner.add(str(3 * k), "Linear", {"out_features": width}, f"FC-{width}")
            if width != 1000:
                inner.add(str(3 * k + 1), "ReLU", label="ReLU")
                inner.add(str(3 * k + 2), "Dropout", {"p": 0.5}, "dropout 0.5")

    weight_layers = sum(len(layers) for layers in stages)
    group(r, "features", "Features", f"features: {weight_layers} conv",
          f"The convolutional part of VGG {column}: 3×3 convolutions with ReLU, a 2×2 max-pool closing "
          "each of the five stages (torchvision's features).", features)
    # torchvision's classifier, so that its state_dict lines up layer for layer
    r.add("avgpool", "AdaptiveAvgPool2d", {"output_size": 7}, "avg pool → 7×7")
    r.add("flatten", "Flatten")
    group(r, "classifier", "Classifier", "classifier: 3 FC",
          "AlexNet's classifier: FC-4096, ReLU, dropout 0.5, FC-4096, ReLU, dropout 0.5, FC-1000 "
          "(torchvision's classifier).", classifier)
    extra = {
        "A": "Configuration A, the shallowest: eight convolutions and three fully connected layers.",
        "A-LRN": """Configuration A-LRN: A with AlexNet's local response normalisation after the first
                 convolution. It did not help (the paper drops LRN from the deeper columns); here to
                 compare. PyTorch's LRN divides α by n, so the paper's α = 10⁻⁴ reads 0.0005.
                 Not one of torchvision's networks (it has no A-LRN), so its ImageNet weights fit
                 only the first convolution and the classifier.""",
        "B": "Configuration B: A with a second 3×3 convolution in the first two stages.",
        "C": """Configuration C: B with a 1×1 convolution closing stages 3, 4 and 5 — extra
             non-linearity without a larger receptive field. Not one of torchvision's networks (it
             has no configuration C), so there are no ImageNet weights for it.""",
        "D": """Configuration D, known as VGG-16: three 3×3 convolutions in stages 3, 4 and 5. Two
             stacked 3×3 convolutions see a 5×5 window, three see 7×7, with fewer weights and more
             ReLUs than one large filter.""",
        "E": "Configuration E, known as VGG-19: four 3×3 convolutions in stages 3, 4 and 5.",
    }[column]
    names = ""
    if column in TORCHVISION_VGG:
        names = f""" Its layers carry torchvision's names (features.0, classifier.6), so torchvision's
                 {TORCHVISION_VGG[column]} ImageNet weights load by name, and weights trained here load
                 into torchvision.models.{TORCHVISION_VGG[column]}()."""
    describe(
        g, title=f"VGG {column} ({depth} weight layers)", torchvision=TORCHVISION_VGG.get(column),
        paper="Very Deep Convolutional Networks for Large-Scale Image Recognition",
        authors="Simonyan & Zisserman", year=2014,
        description=f"""{extra} Every convolution is 3×3 with padding 1 (or 1×1), so only the five 2×2
        max-pools shrink the image: 224, 112, 56, 28, 14, 7, while the filters double from 64 to 512.
        The classifier is AlexNet's: FC-4096, FC-4096, FC-1000 with dropout 0.5, laid out as
        torchvision does (an adaptive average pool to 7×7 first, a no-op at 224×224); double-click
        features or classifier to see their layers. The paper trained with batch 256; 64 fits an
        ordinary GPU.{names}""",
        input="3×224×224 RGB image",
        training={"dataset": "cifar10", "task": "classification", "epochs": 10,
                  "batch_size": 64, "optimizer": "sgd", "lr": 0.01, "momentum": 0.9,
                  "weight_decay": 0.0005, "schedule": "plateau",
                  "augment": ["random_crop", "hflip", "normalize"]})
    return g


# ---- GoogLeNet -----------------------------------------------------------------------------

# The paper's Table 1: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
_INCEPTION_KEYS = ("c1x1", "c3x3_reduce", "c3x3", "c5x5_reduce", "c5x5", "pool_proj")


def _inception(r: Row, stage: str):
    r.add(f"inception_{stage}", "Inception", dict(zip(_INCEPTION_KEYS, INCEPTION[stage])),
          f"inception ({stage})")


def _auxiliary_head(g: Graph, n: int, src: str, x: float, y: float) -> str:
    """The paper's side classifier: avg pool 5×5/3, 1×1 conv 128, FC 1024, dropout 0.7, FC 1000."""
    r = Row(g, x, y, after=src)
    r.add(f"aux{n}_pool", "AvgPool2d", {"kernel_size": 5, "stride": 3}, "avg pool 5×5/3")
    r.add(f"aux{n}_conv", "Conv2d", conv(128, 1), "conv 1×1")
    r.add(f"aux{n}_relu", "ReLU")
    r.add(f"aux{n}_flatten", "Flatten")
    r.add(f"aux{n}_fc1", "Linear", {"out_features": 1024}, "FC 1024")
    r.add(f"aux{n}_fc1_relu", "ReLU")
    r.add(f"aux{n}_dropout", "Dropout", {"p": 0.7})
    r.add(f"aux{n}_fc2", "Linear", {"out_features": 1000}, "FC 1000")
    return r.add(f"aux{n}", "Output", {"name": f"aux{n}"}, f"softmax{n - 1}")


def googlenet(aux: bool = False) -> Graph:
    g = Graph()
    r = Row(g)
    r.add("input", *image_input((3, 224, 224)))
    r.add("conv1", "Conv2d", conv(64, 7, stride=2, padding=3), "conv 7×7/2")
    r.add("relu1", "ReLU")
    # Caffe rounds pooled sizes up: 112 → 56 → 28 needs ceil_mode, as in torchvision
    r.add("pool1", "MaxPool2d", max_pool(3, 2, ceil_mode=True), "max pool 3×3/2")
    r.add("norm1", "LocalResponseNorm", LRN_GOOGLENET, "LocalRespNorm")
    r.add("conv2_reduce", "Conv2d", conv(64, 1), "conv 1×1 (reduce)")
    r.add("relu2_reduce", "ReLU")
    r.add("conv2", "Conv2d", conv(192, 3, padding=1), "conv 3×3")
    r.add("relu2", "ReLU")
    r.add("norm2", "LocalResponseNorm", LRN_GOOGLENET, "LocalRespNorm")
    r.add("pool2", "MaxPool2d", max_pool(3, 2, ceil_mode=True), "max pool 3×3/2")
    _inception(r, "3a")
    _inception(r, "3b")
    r.add("pool3", "MaxPool2d", max_pool(3, 2, ceil_mode=True), "max pool 3×3/2")
    for stage in ("4a", "4b", "4c", "4d", "4e"):
        _inception(r, stage)
    r.add("pool4", "MaxPool2d", max_pool(3, 2, ceil_mode=True), "max pool 3×3/2")
    _inception(r, "5a")
    _inception(r, "5b")
    r.add("avgpool", "AvgPool2d", {"kernel_size": 7, "stride": 1}, "avg pool 7×7")
    r.add("flatten", "Flatten")
    r.add("dropout", "Dropout", {"p": 0.4}, "dropout 40%")
    r.add("fc", "Linear", {"out_features": 1000}, "linear")
    heads = ""
    if aux:
        r.add("logits", "Output", {"name": "logits"}, "softmax2")
        # one head below the main row, one above, so that neither crosses the other
        for n, stage, y in ((1, "4a", ROW), (2, "4d", -ROW)):
            x = g.nodes[f"inception_{stage}"].pos[0] + STEP
            _auxiliary_head(g, n, f"inception_{stage}", x, y)
        heads = """ This variant adds the two auxiliary classifiers the paper attaches to (4a) and (4d)
        to push gradient into the middle of the network during training: each is an average pool
        5×5/3 (to 4×4), a 1×1 convolution with 128 filters, FC 1024, dropout 70% and FC 1000. The
        network returns (logits, aux1, aux2); the paper adds the auxiliary losses with weight 0.3 and
        discards the heads at inference."""
    describe(
        g, title="GoogLeNet" + (" with auxiliary classifiers" if aux else ""),
        paper="Going Deeper with Convolutions", authors="Szegedy et al.", year=2014,
        description=f"""The winner of ImageNet 2014: 22 layers deep, yet with 7 M parameters against
        AlexNet's 61 M. After a plain stem (7×7 and 3×3 convolutions with local response normalisation),
        nine Inception modules (3a … 5b, double-click one to look inside) run 1×1, 3×3 and 5×5
        convolutions and a 3×3 max-pool side by side and concatenate their filters; 1×1 'reduce'
        convolutions shrink the channels before the expensive 3×3 and 5×5 filters. Instead of large
        fully connected layers it averages each 7×7 map to one number (avg pool), applies dropout 40%
        and a single linear layer. As in the paper: convolutions with biases, no batch
        normalisation.{heads} Not torchvision's googlenet (which adds batch normalisation and drops
        LRN), so its ImageNet weights do not fit this network.""",
        input="3×224×224 RGB image",
        training={"dataset": "cifar10", "task": "classification", "epochs": 10,
                  "batch_size": 64, "optimizer": "sgd", "lr": 0.01, "momentum": 0.9,
                  "weight_decay": 0.0002, "schedule": "step",
                  "augment": ["random_resized_crop", "hflip", "normalize"]})
    return g


# ---- ResNet --------------------------------------------------------------------------------

RESNET_DEPTHS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3]}


def resnet(depth: int, shortcut: bool = True, classes: int = 1000, frozen: bool = False) -> Graph:
    """torchvision's layout and names: conv1, bn1, relu, maxpool, the stages layer1…layer4 (each
    a composite holding its blocks 0, 1, 2…, the first with the projection `downsample` where the
    shape changes), avgpool, fc."""
    kind = "bottleneck" if depth >= 50 else "basic"
    g = Graph()
    r = Row(g, trainable=not frozen)
    r.add("input", *image_input((3, 224, 224)), trainable=True)
    r.add("conv1", "Conv2d", conv(64, 7, stride=2, padding=3, bias=False), "conv1 7×7/2")
    r.add("bn1", "BatchNorm")
    r.add("relu", "ReLU")
    r.add("maxpool", "MaxPool2d", max_pool(3, 2, padding=1), "max pool 3×3/2")
    for i, (n, width) in enumerate(zip(RESNET_DEPTHS[depth], (64, 128, 256, 512))):
        stage, stride = i + 2, 1 if i == 0 else 2
        block = {"out_channels": width, "kind": kind, "shortcut": shortcut}

        def blocks(inner: Row, n=n, stage=stage, stride=stride, block=block):
            for k in range(n):
                first = k == 0 and stride != 1
                inner.add(str(k), "Residual", dict(block, stride=stride) if first else dict(block),
                          f"conv{stage}_{k + 1}" + (" ↓2" if first else ""))

        group(r, f"layer{i + 1}", f"Conv{stage}_x", f"conv{stage}_x: {n} blocks" + (" ↓2" if stride == 2 else ""),
              f"Stage conv{stage}_x of the paper (torchvision's layer{i + 1}): {n} {kind} blocks of "
              f"{width} filters" + (", the first halving the image" if stride == 2 else "") + ".", blocks)
    r.add("avgpool", "AdaptiveAvgPool2d", {"output_size": 1}, "avg pool")
    r.add("flatten", "Flatten")
    r.add("fc", "Linear", {"out_features": classes}, f"new head: FC {classes}" if frozen else f"fc {classes}",
          trainable=True)
    return g


def _resnet_training() -> dict:
    return {"dataset": "cifar10", "task": "classification", "epochs": 10,
            "batch_size": 128, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0001,
            "schedule": "plateau", "augment": ["random_crop", "hflip", "normalize"]}


_RESNET_PAPER = dict(paper="Deep Residual Learning for Image Recognition", authors="He, Zhang, Ren & Sun",
                     year=2015, input="3×224×224 RGB image")


def resnet_preset(depth: int, shortcut: bool = True) -> Graph:
    g = resnet(depth, shortcut)
    stages = "–".join(map(str, RESNET_DEPTHS[depth]))
    if not shortcut:
        title = f"plain-{depth}"
        text = f"""The control experiment of the ResNet paper: ResNet-{depth} with every shortcut removed,
        a stack of {depth - 2} 3×3 convolutions with batch normalisation ({stages} blocks in the
        stages conv2_x … conv5_x). It reaches a higher training error than the shallower plain-18 —
        more layers, yet worse even on the training set — the degradation problem residual learning
        solves. Compare it with resnet34: the same layers, only the skip connections (and the 1×1
        projections where the shape changes) differ. Not one of torchvision's networks, so there are
        no ImageNet weights for it."""
    else:
        title = f"ResNet-{depth}"
        block = ("bottleneck blocks (1×1 reduce, 3×3, 1×1 expand ×4; the 3×3 strides, as in torchvision)"
                 if depth >= 50 else "basic blocks of two 3×3 convolutions")
        text = f"""He et al. made very deep networks trainable with the skip connection: each block
        learns a residual F(x) and outputs F(x) + x, so a block that has nothing to add can stay close
        to the identity and gradients flow straight through the additions. Four stages conv2_x …
        conv5_x of {stages} {block}; a stage that halves the image and doubles the filters starts with
        a stride-2 block whose shortcut is a 1×1 projection (option B), and the remaining blocks repeat
        (double-click a stage, then a block, to see conv, batch norm, ReLU and the Add inside). Global
        average pooling and one FC layer classify. The layers carry torchvision's names (layer2.0.conv1,
        layer2.0.downsample.0), so torchvision's resnet{depth} ImageNet weights load by name, and weights
        trained here load into torchvision.models.resnet{depth}()."""
    describe(g, title=title, description=text, training=_resnet_training(),
             torchvision=f"resnet{depth}" if shortcut else None, **_RESNET_PAPER)
    return g


def resnet18_transfer(classes: int = 10) -> Graph:
    g = resnet(18, classes=classes, frozen=True)
    describe(
        g, title=f"ResNet-18 transfer learning ({classes} classes)", torchvision="resnet18", **_RESNET_PAPER,
        description=f"""Transfer learning: reuse what a network learned on a large dataset for a new
        task with few images. The ResNet-18 backbone (hatched: trainable off) is frozen and a new FC head
        maps its 512 features to {classes} classes. To fine-tune: 1) start from torchvision's ImageNet
        weights (choose them in the Train panel, or `train resnet18_transfer --weights torchvision`) or
        from a checkpoint of the resnet18 preset: every backbone layer matches by name (120 of 122
        tensors), the old 1000-class fc has another shape and is skipped, so the new head keeps its
        fresh weights; 2) train: only the head's {count(512 * classes + classes)}
        parameters learn, which is fast and cannot spoil the features; 3) then switch trainable on for
        the last stage (conv5_x) and train on with a ten times smaller learning rate, so that the deepest
        features adapt to the new images. Frozen batch-norm layers keep the statistics they were
        trained with.""",
        training={"dataset": "cifar10", "task": "classification", "epochs": 5,
                  "batch_size": 64, "optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0001,
                  "schedule": "cosine", "augment": ["random_resized_crop", "hflip", "normalize"]})
    return g


# ---- U-Net ---------------------------------------------------------------------------------

def unet() -> Graph:
    """Laid out as the paper's figure: each level is a row; a max-pool steps down between the
    rows of the contracting path, an up-convolution steps up between the rows of the expanding
    path, and the copy-and-crop skips run straight across."""
    g = Graph()
    widths = (64, 128, 256, 512)
    level_y = 1.25 * ROW  # room for the pool or up-conv between two levels
    r = Row(g)
    r.add("input", *image_input((1, 572, 572), "INPUT TILE 572×572"))

    def double_conv(row: Row, prefix: str, c: int) -> str:
        row.add(f"{prefix}_conv1", "Conv2d", conv(c, 3), f"conv 3×3 ×{c}")
        row.add(f"{prefix}_relu1", "ReLU")
        row.add(f"{prefix}_conv2", "Conv2d", conv(c, 3), f"conv 3×3 ×{c}")
        return row.add(f"{prefix}_relu2", "ReLU")

    def below(node_id: str, dy: float) -> tuple[float, float]:
        x, y = g.nodes[node_id].pos
        return x, y + dy

    skips = []
    for level, c in enumerate(widths):
        r = Row(g, *(below(r.last, level_y / 2) if level else (STEP, 0)), after=r.last)
        skips.append(double_conv(r, f"enc{level + 1}", c))
        r = Row(g, *below(r.last, level_y / 2), after=r.last)
        r.add(f"pool{level + 1}", "MaxPool2d", max_pool(2, 2), "max pool 2×2")
    r = Row(g, *below(r.last, level_y / 2), after=r.last)
    double_conv(r, "bottom", 1024)
    for level in reversed(range(len(widths))):
        c = widths[level]
        r = Row(g, *below(r.last, -level_y / 2), after=r.last)
        up = r.add(f"up{level + 1}", "ConvTranspose2d", up_conv(c, 2, 2), "up-conv 2×2")
        r = Row(g, *below(up, -level_y / 2))
        # the cropped encoder map first, then the upsampled one (in1, in2)
        r.add(f"concat{level + 1}", "Concat", {"crop": True}, "copy, crop & concat", src=skips[level])
        g.connect(up, f"concat{level + 1}")
        double_conv(r, f"dec{level + 1}", c)
    r.add("classifier", "Conv2d", conv(2, 1), "conv 1×1 → 2 classes")
    describe(
        g, title="U-Net", paper="U-Net: Convolutional Networks for Biomedical Image Segmentation",
        authors="Ronneberger, Fischer & Brox", year=2015,
        description="""A network that labels every pixel. The contracting path (left arm of the U)
        repeats two unpadded 3×3 convolutions with ReLU and a 2×2 max-pool, doubling the filters from 64
        to 1024 while the image shrinks from 572 to 28. The expanding path (right arm) climbs back: a
        2×2 up-convolution halves the filters and doubles the size, the feature map from the same level
        of the contracting path is centre-cropped (valid convolutions lose a border) and concatenated,
        and two 3×3 convolutions mix them. A final 1×1 convolution gives 2 class scores per pixel: a
        572×572 tile yields a 388×388 segmentation of its centre, and tiles overlap to cover a large
        image. The paper trained with one tile per batch and momentum 0.99. torchvision does not build
        this network, so there are no ImageNet weights for it.""",
        input="1×572×572 greyscale tile",
        training={"dataset": "shapes", "task": "segmentation", "epochs": 5,
                  "batch_size": 1, "optimizer": "sgd", "lr": 0.01, "momentum": 0.99,
                  "schedule": "constant"})
    return g


# ---- variational autoencoder ----------------------------------------------------------------

def vae(hidden: int = 500, latent: int = 20) -> Graph:
    g = Graph()
    r = Row(g)
    r.add("input", *image_input((1, 28, 28)))
    r.add("flatten", "Flatten")
    r.add("enc_fc", "Linear", {"out_features": hidden}, f"encoder {hidden}")
    r.add("enc_tanh", "Tanh")
    x = r.x
    g.add_node("Linear", {"out_features": latent}, id="mu", label="μ", pos=(x, -ROW / 2))
    g.add_node("Linear", {"out_features": latent}, id="logvar", label="log σ²", pos=(x, ROW / 2))
    g.connect("enc_tanh", "mu")
    g.connect("enc_tanh", "logvar")
    r.x += STEP
    r.add("reparameterize", "Reparameterize", label="z = μ + σ·ε", src="mu")
    g.connect("logvar", "reparameterize", dst_port="logvar")
    r.add("dec_fc", "Linear", {"out_features": hidden}, f"decoder {hidden}")
    r.add("dec_tanh", "Tanh")
    r.add("dec_out", "Linear", {"out_features": 784}, "784 pixels")
    r.add("sigmoid", "Sigmoid")
    r.add("unflatten", "Reshape", {"shape": [1, 28, 28]}, "image 28×28")
    r.add("recon", "Output", {"name": "recon"}, "reconstruction")
    rx = g.nodes["reparameterize"].pos[0]
    g.add_node("Output", {"name": "mu"}, id="mu_out", label="μ", pos=(rx, -ROW))
    g.add_node("Output", {"name": "logvar"}, id="logvar_out", label="log σ²", pos=(rx, ROW))
    g.connect("mu", "mu_out")
    g.connect("logvar", "logvar_out")
    describe(
        g, title="Variational autoencoder", paper="Auto-Encoding Variational Bayes",
        authors="Kingma & Welling", year=2013,
        description=f"""An autoencoder that learns a smooth space of images it can sample from. The
        encoder (one hidden layer of {hidden} tanh units, as in the paper) does not output a code but a
        distribution over codes: a mean μ and a log-variance log σ² for each of {latent} latent
        dimensions. The reparameterisation trick draws z = μ + σ·ε with ε ~ N(0, I), so the randomness
        sits outside the path the gradient takes. The decoder maps z back to 784 pixel probabilities
        (sigmoid). The loss is the reconstruction error plus the KL divergence that keeps each
        N(μ, σ²) close to N(0, I); afterwards, decoding z ~ N(0, I) draws new digits. The network
        returns (recon, mu, logvar). torchvision does not build this network, so there are no ImageNet
        weights for it.""",
        input="1×28×28 greyscale image, values in [0, 1]",
        training={"dataset": "digits", "task": "vae", "epochs": 20, "batch_size": 32,
                  "optimizer": "adam", "lr": 0.001, "schedule": "constant"})
    return g


# ---- generative adversarial network ---------------------------------------------------------

def gan(noise: int = 100) -> Graph:
    g = Graph()
    r = Row(g, network="generator")
    r.add("noise", "Input", {"shape": [noise], "name": "noise"}, f"noise z ({noise})")
    r.add("noise_map", "Reshape", {"shape": [noise, 1, 1]}, f"{noise}×1×1")
    r.add("project", "ConvTranspose2d", up_conv(256, 7, 1, bias=False), "up-conv 7×7 → 7×7")
    r.add("project_bn", "BatchNorm")
    r.add("project_relu", "ReLU")
    r.add("up1", "ConvTranspose2d", up_conv(128, 4, 2, padding=1, bias=False), "up-conv 4×4/2 → 14×14")
    r.add("up1_bn", "BatchNorm")
    r.add("up1_relu", "ReLU")
    r.add("up2", "ConvTranspose2d", up_conv(1, 4, 2, padding=1), "up-conv 4×4/2 → 28×28")
    r.add("tanh", "Tanh")
    r.add("fake", "Output", {"name": "image"}, "generated image")

    r = Row(g, 0, ROW * 1.25, network="discriminator")
    r.add("image", *image_input((1, 28, 28), "real or generated 28×28"))
    r.add("conv1", "Conv2d", conv(64, 4, stride=2, padding=1), "conv 4×4/2 → 14×14")
    r.add("lrelu1", "LeakyReLU", {"negative_slope": 0.2})
    r.add("conv2", "Conv2d", conv(128, 4, stride=2, padding=1, bias=False), "conv 4×4/2 → 7×7")
    r.add("conv2_bn", "BatchNorm")
    r.add("lrelu2", "LeakyReLU", {"negative_slope": 0.2})
    r.add("classify", "Conv2d", conv(1, 7), "conv 7×7 → 1")
    r.add("flatten", "Flatten")
    r.add("logit", "Output", {"name": "logit"}, "real? (logit)")
    describe(
        g, title="GAN (DCGAN-style)", paper="Generative Adversarial Nets", authors="Goodfellow et al.",
        year=2014,
        description=f"""Two networks in one document, trained against each other. The generator (top
        row) turns {noise} random numbers into a 28×28 image with transposed convolutions that double
        the size (7 → 14 → 28), batch normalisation and ReLU, and a tanh to reach pixel values in
        [−1, 1]. The discriminator (bottom row) is an ordinary classifier with strided convolutions and
        leaky ReLU that outputs one logit: real or generated? Training alternates: the discriminator
        learns to tell real digits from fakes, then the generator learns to fool it. The architecture
        follows the DCGAN guidelines of Radford et al. (2015); Adam with lr 0.0002 is their setting
        (they also lower β₁ to 0.5). torchvision does not build these networks, so there are no
        ImageNet weights for them.""",
        input="generator: noise vector of 100; discriminator: 1×28×28 image in [−1, 1]",
        training={"dataset": "digits", "task": "gan", "epochs": 20, "batch_size": 64,
                  "optimizer": "adam", "lr": 0.0002, "schedule": "constant"})
    return g


# ---- the catalogue -------------------------------------------------------------------------

PRESETS = {  # in the lecture's order
    "mlp": mlp,
    "lenet5": lenet5,
    "alexnet": alexnet,
    **{name: (lambda name=name: vgg(name)) for name in VGG_COLUMNS},
    "googlenet": googlenet,
    "googlenet_aux": lambda: googlenet(aux=True),
    "resnet18": lambda: resnet_preset(18),
    "resnet34": lambda: resnet_preset(34),
    "plain34": lambda: resnet_preset(34, shortcut=False),
    "resnet50": lambda: resnet_preset(50),
    "resnet18_transfer": resnet18_transfer,
    "unet": unet,
    "vae": vae,
    "gan": gan,
}


# ---- README --------------------------------------------------------------------------------

README_HEAD = """# Presets

One document per network of the lecture, each exact to its paper. Open one with
`python -m designer NAME`, list them with `python -m designer presets`, or use a
name wherever a file is expected (`python -m designer summary vgg16`).

These files are written by `build_presets.py` (it wires every network through the
Graph API and saves it); do not edit them by hand — change the script and run

    .venv/bin/python presets/build_presets.py          # rewrite all
    .venv/bin/python presets/build_presets.py --check  # are the files up to date?

The table below is written by the same script from the analysis of each file.

"""

README_NOTES = """
## Choices worth knowing

- **AlexNet** is the original two-tower network: conv2, conv4 and conv5 are grouped
  convolutions (`groups = 2`), conv3 and the FC layers connect both towers. The input
  is 227×227 (the paper's 224 does not give its 55×55 maps). PyTorch's
  `LocalResponseNorm` divides α by the window n, so the paper's α = 10⁻⁴ (n = 5,
  k = 2, β = 0.75) is stored as 0.0005; the same holds for VGG A-LRN. GoogLeNet's LRN
  follows the published Caffe model (α = 10⁻⁴ already per n, k = 1).
- **VGG** is laid out as torchvision's: a `features` composite (the convolutions, ReLUs
  and max-pools numbered 0, 1, 2…), the adaptive average pool to 7×7, and a `classifier`
  composite (FC-4096, ReLU, dropout, FC-4096, ReLU, dropout, FC-1000 as 0…6), so
  `vgg11/13/16/19` compile to torchvision's `state_dict` keys (`features.0.weight`,
  `classifier.6.bias`): its ImageNet weights load strictly, and a trained preset loads
  into `torchvision.models.vgg16()`. A-LRN and C are not torchvision's networks.
- **GoogLeNet** is the paper's form: biased convolutions, LRN, no batch norm; max-pools
  round up (`ceil_mode`, as Caffe did) so 112 → 56 → 28 → 14 → 7. The two auxiliary
  classifiers are an option, as the separate preset `googlenet_aux`: the same network
  plus both heads (on 4a and 4d), returning `(logits, aux1, aux2)`. Its main path is
  identical to `googlenet`, so weights carry over by name.
- **ResNet** is laid out as torchvision's: the stem (`conv1`, `bn1`, `relu`, `maxpool`),
  four stage composites `layer1` … `layer4` (the paper's conv2_x … conv5_x) holding
  Residual blocks numbered 0, 1, 2…, then `avgpool` and `fc`. A block that changes the
  shape (stride 2, or ResNet-50's widening to 4× in conv2_x) has the projection shortcut
  (option B) `downsample` (0: 1×1 conv, 1: batch norm), so the `state_dict` keys are
  torchvision's (`layer2.0.downsample.0.weight`, `layer4.2.bn3.running_var`) and its
  ImageNet weights load strictly, both ways. The bottleneck strides in its 3×3
  convolution as torchvision does (the paper strides in the first 1×1; the parameter
  count is the same). `plain34` is `resnet34` with `shortcut` off, hence also without
  the 1×1 projections (not a torchvision network).
- **resnet18_transfer** is ResNet-18 with every backbone node `trainable: false` and a
  new `fc` head for 10 classes; its description says how to fine-tune. torchvision's
  ImageNet weights (`train resnet18_transfer --weights torchvision`) fill 120 of its
  122 tensors: all but the new head.
- `meta.torchvision` names the torchvision builder a preset equals (vgg11/13/16/19,
  resnet18/34/50); the ImageNet weights offered for it are that builder's IMAGENET1K_V1.
- **U-Net** is laid out as the paper's U; its concatenations centre-crop the encoder
  map (`crop: true`) and take it as the first input, the up-convolution as the second.
- **VAE** returns `(recon, mu, logvar)`, in the order of its Output nodes.
- **GAN** holds two networks in one document: `generator` (top row) and
  `discriminator` (bottom row).
- `meta.training` holds defaults for the training settings (the TrainConfig fields);
  the paper's values where it gives them, a batch size that fits one GPU otherwise.
"""


def _shapes(shapes: dict) -> str:
    return ", ".join((f"{k} " if len(shapes) > 1 else "") + fmt_shape(v) for k, v in shapes.items())


def readme(graphs: dict[str, Graph]) -> str:
    rows = ["| name | network | paper & year | input | output | parameters |",
            "|---|---|---|---|---|---:|"]
    for name, g in graphs.items():
        a = g.analyze()
        m = g.meta
        rows.append(f"| `{name}` | {m['title']} | {m['authors']}, *{m['paper']}*, {m['year']} "
                    f"| {_shapes(a.input_shapes)} | {_shapes(a.output_shapes)} | {count(a.total_params)} |")
    return README_HEAD + "\n".join(rows) + "\n" + README_NOTES


def build_all() -> dict[str, Graph]:
    return {name: build() for name, build in PRESETS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="presets to write (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in PRESETS]
    if unknown:
        print(f"error: no preset {unknown[0]!r}; known: {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    graphs = build_all()
    for name, g in graphs.items():
        a = g.analyze()
        if a.errors:
            node, msg = a.errors[0]
            print(f"error: {name}: {node or 'graph'}: {msg}", file=sys.stderr)
            return 1
    chosen = args.names or list(graphs)
    texts = {HERE / f"{name}.json": dumps(graphs[name]) for name in chosen}
    texts[HERE / "README.md"] = readme(graphs)
    stale = [p for p, text in texts.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"out of date: {p.name}")
        return 1 if stale else 0
    from designer import save_graph
    for name, g in graphs.items():
        if HERE / f"{name}.json" in stale:
            save_graph(g, HERE / f"{name}.json")
            print(f"wrote {name}.json")
    if HERE / "README.md" in stale:
        (HERE / "README.md").write_text(texts[HERE / "README.md"], encoding="utf-8")
        print("wrote README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
