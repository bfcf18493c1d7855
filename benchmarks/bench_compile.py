"""Forward + backward time of compiled networks against the same networks written by hand.

    .venv/bin/python benchmarks/bench_compile.py [--batch 8] [--size 112] [--repeats 21] [--threads N]
                                                 [--device cpu|cuda]

LeNet-5 (the preset) and a ResNet-18 drawn from Residual blocks are compiled with
`compile_graph(graph)`; beside each runs an nn.Module written the way a person writes it
(torchvision's BasicBlock style). Both get the same weights (copied in order, and
checked to give the same outputs), then the two are timed in alternation, the
order rotated every round so drift and caches hit all alike; the median of each
is reported with the ratio compiled / hand-written (target: at most 1.03). A second
hand-written copy runs in the same rotation: its ratio to the first ("A/A noise")
shows how far two identical networks drift apart on this machine at this moment.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from designer import load_graph  # noqa: E402
from designer.graph.model import Graph  # noqa: E402
from designer.compile import compile_graph


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2 = nn.AvgPool2d(2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.s4 = nn.AvgPool2d(2)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, 10)

    def forward(self, x):
        x = self.s2(torch.tanh(self.c1(x)))
        x = self.s4(torch.tanh(self.c3(x)))
        x = torch.flatten(torch.tanh(self.c5(x)), 1)
        return self.output(torch.tanh(self.f6(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))
        self.layer4 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18_graph(size: int) -> Graph:
    g = Graph()
    g.meta["title"] = "ResNet-18"
    g.add_node("Input", {"shape": [3, size, size], "name": "image"}, id="input")
    g.add_node("Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False},
               id="conv1")
    g.add_node("BatchNorm", {}, id="bn1")
    g.add_node("ReLU", id="relu")
    g.add_node("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, id="maxpool")
    g.add_node("Residual", {"out_channels": 64, "repeat": 2}, id="layer1")
    chain = ["input", "conv1", "bn1", "relu", "maxpool", "layer1"]
    for i, c in ((2, 128), (3, 256), (4, 512)):
        g.add_node("Residual", {"out_channels": c, "stride": 2}, id=f"layer{i}")
        g.add_node("Residual", {"out_channels": c}, id=f"layer{i}_rest")
        chain += [f"layer{i}", f"layer{i}_rest"]
    g.add_node("AdaptiveAvgPool2d", {}, id="avgpool")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": 1000}, id="fc")
    g.chain(*chain, "avgpool", "flatten", "fc")
    return g


def same_weights(compiled: nn.Module, hand: nn.Module):
    ours, theirs = compiled.state_dict(), hand.state_dict()
    assert [v.shape for v in ours.values()] == [v.shape for v in theirs.values()], "layer order differs"
    compiled.load_state_dict(dict(zip(ours, theirs.values())))


def step_time(model: nn.Module, x: torch.Tensor) -> float:
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    model(x).sum().backward()
    sync()
    return time.perf_counter() - start


def compare(name: str, compiled: nn.Module, hand: nn.Module, twin: nn.Module, x: torch.Tensor,
            repeats: int) -> float:
    """`twin` is a second hand-written copy: its ratio to `hand` is the noise floor."""
    models = {"compiled": compiled, "hand": hand, "twin": twin}
    with torch.no_grad():
        for m in models.values():
            m.eval()
        torch.testing.assert_close(compiled(x), hand(x), atol=1e-4, rtol=1e-4)
    for m in models.values():
        m.train()
    for _ in range(5):  # warm-up: allocator, kernels, autograd
        for m in models.values():
            step_time(m, x)
    times = {label: [] for label in models}
    order = list(models.items())
    for r in range(repeats):
        for label, model in order[r % 3:] + order[:r % 3]:  # rotate who goes first
            model.zero_grad(set_to_none=True)
            times[label].append(step_time(model, x))
    med = {label: statistics.median(t) for label, t in times.items()}
    ratio = med["compiled"] / med["hand"]
    print(f"{name:<10} {tuple(x.shape)!s:<20} {med['compiled'] * 1e3:>10.2f} ms {med['hand'] * 1e3:>10.2f} ms "
          f"{ratio:>8.3f} {med['twin'] / med['hand']:>10.3f}")
    return ratio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=112, help="ResNet-18 input size (224 is the paper's)")
    parser.add_argument("--repeats", type=int, default=21, help="rounds for ResNet-18 (LeNet-5: ten times)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, batch {args.batch}, "
          f"median of interleaved forward+backward steps ({args.repeats} rounds, LeNet-5 {10 * args.repeats})")
    print(f"{'network':<10} {'input':<20} {'compiled':>13} {'by hand':>13} {'ratio':>8} {'A/A noise':>10}")
    torch.manual_seed(0)
    ratios = []
    lenet = load_graph("lenet5").compile(device=device)
    hand = LeNet5().to(device)
    same_weights(lenet, hand)
    # a LeNet-5 step takes about a millisecond: ten times the rounds for a steady median
    ratios.append(compare("LeNet-5", lenet, hand, LeNet5().to(device),
                          torch.randn(args.batch, 1, 32, 32, device=device), 10 * args.repeats))
    resnet = resnet18_graph(args.size).compile(device=device)
    hand = ResNet18().to(device)
    same_weights(resnet, hand)
    ratios.append(compare("ResNet-18", resnet, hand, ResNet18().to(device),
                          torch.randn(args.batch, 3, args.size, args.size, device=device), args.repeats))
    worst = max(ratios)
    print(f"worst ratio {worst:.3f} (target ≤ 1.03): {'ok' if worst <= 1.03 else 'ABOVE TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
