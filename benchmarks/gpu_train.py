"""ResNet-18 on a GPU: the training engine against the same loop written by hand.

    .venv/bin/python benchmarks/gpu_train.py [--steps 100] [--batch-size 256] [--amp bf16] [--compile]

Without CUDA it says so and exits 0. It needs no network and no dataset files:
ResNet-18 comes from the `resnet18` preset (or is built from Residual blocks),
its head set to the 3 classes of the synthetic `shapes` images, generated at
224×224. Both sides train the same compiled graph with the same data on the GPU,
AMP autocast and channels_last, SGD with momentum, for the same epochs and steps.

Throughput per side: the median over epochs 2… of images per second spent in
training steps (the engine's "epoch" event; the hand loop timed the same way,
synchronised at the end of each epoch). Target: engine / hand ≥ 0.95.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from designer.compile import compile_graph

CLASSES = 3  # circle, square, triangle


def resnet18():
    from designer import load_graph
    from designer.graph.presets import preset_path
    if preset_path("resnet18") is not None:
        graph = load_graph("resnet18").graph
        head = [n.id for n in graph.nodes.values() if n.type == "Linear"][-1]
        graph.set_param(head, "out_features", CLASSES)
        return graph, "resnet18 preset"
    from designer.graph.model import Graph
    g = Graph()
    g.add_node("Input", {"shape": [3, 224, 224], "name": "image"}, id="image")
    g.add_node("Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False}, id="conv1")
    g.add_node("BatchNorm", id="bn1")
    g.add_node("ReLU", id="relu")
    g.add_node("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, id="maxpool")
    chain = ["image", "conv1", "bn1", "relu", "maxpool"]
    for i, (c, s) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], 1):
        g.add_node("Residual", {"out_channels": c, "stride": s, "repeat": 2}, id=f"layer{i}")
        chain.append(f"layer{i}")
    g.add_node("AdaptiveAvgPool2d", {"output_size": 1}, id="avgpool")
    g.add_node("Flatten", id="flatten")
    g.add_node("Linear", {"out_features": CLASSES}, id="fc")
    g.chain(*chain, "avgpool", "flatten", "fc")
    return g, "built from Residual blocks"


def engine_run(graph, config):
    from designer.train.engine import Trainer
    from designer.train.events import Epoch, Error
    rates, errors = [], []

    def on_event(e):
        if isinstance(e, Epoch):
            rates.append(e.samples_per_s)
        elif isinstance(e, Error):
            errors.append(e.message)

    with tempfile.TemporaryDirectory() as folder:
        Trainer(graph, config, Path(folder) / "run", on_event).run()
    if errors:
        raise SystemExit(f"engine: {errors[0]}")
    return rates


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_run(graph, config, source, steps_per_epoch: int):
    device = torch.device(config.device)
    x_all = source.train.images.to(device)
    y_all = source.train.labels.to(device)
    torch.manual_seed(config.seed)
    model = compile_graph(graph).to(device).to(memory_format=torch.channels_last)
    step_model = torch.compile(model) if config.compile else model
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.amp)
    if device.type != "cuda":
        dtype = None  # as the engine: mixed precision only on GPUs
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    b, rates, done = config.batch_size, [], 0
    for _ in range(config.epochs):
        order = torch.randperm(len(y_all), device=device)[:steps_per_epoch * b]
        sync(device)
        start = time.perf_counter()
        for idx in order.split(b):
            x = x_all[idx].float().div_(255).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                out = step_model(x)
            loss = F.cross_entropy(out.float(), y_all[idx])
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
            done += 1
            if done >= config.max_steps:
                break
        sync(device)
        rates.append(len(order) / (time.perf_counter() - start))
        if done >= config.max_steps:
            break
    return rates


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps-per-epoch", type=int, default=10)
    parser.add_argument("--amp", choices=("bf16", "fp16", "off"), default="bf16")
    parser.add_argument("--compile", action="store_true", help="torch.compile on both sides")
    parser.add_argument("--device", default="cuda", help="cpu runs the same comparison, for checking the script")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_train: skipped, this PyTorch sees no CUDA GPU")
        return 0
    torch.backends.cudnn.benchmark = True  # both sides autotune their convolutions
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    from designer.train.config import TrainConfig
    from designer.train.datasets import open_dataset

    t0 = time.perf_counter()
    graph, origin = resnet18()
    train_images = args.steps_per_epoch * args.batch_size
    limit = int(train_images / 0.8) + 1
    config = TrainConfig(dataset="shapes", limit=limit, val_fraction=0.2, epochs=-(-args.steps // args.steps_per_epoch),
                         max_steps=args.steps, batch_size=args.batch_size, optimizer="sgd", lr=0.01, momentum=0.9,
                         amp=args.amp, channels_last=True, compile=args.compile, device=args.device)
    source = open_dataset("shapes", (3, 224, 224), val_fraction=0.2, limit=limit)
    print(f"ResNet-18 ({origin}), shapes 3×224×224: {len(source.train)} training images, batch {args.batch_size}, "
          f"{args.steps} steps, AMP {args.amp}, channels_last{', torch.compile' if args.compile else ''}; "
          f"{torch.cuda.get_device_name() if args.device == 'cuda' else args.device}  (data ready in {time.perf_counter() - t0:.0f} s)", flush=True)
    hand_run(graph, config.replace(epochs=1, max_steps=10), source, args.steps_per_epoch)  # cuDNN warm-up
    engine = engine_run(graph, config)
    hand = hand_run(graph, config, source, args.steps_per_epoch)
    e, h = statistics.median(engine[1:]), statistics.median(hand[1:])
    ratio = e / h
    print(f"{'':10}{'images/s':>10}{'ms/step':>10}   per epoch")
    for name, rate, rates in (("engine", e, engine), ("hand loop", h, hand)):
        print(f"{name:10}{rate:>10,.0f}{args.batch_size / rate * 1000:>10.1f}   "
              + " ".join(f"{r:,.0f}" for r in rates))
    print(f"ratio engine / hand = {ratio:.3f}  (target ≥ 0.95: {'met' if ratio >= 0.95 else 'NOT met'}); "
          f"{time.perf_counter() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
