"""The training engine's throughput against a minimal hand-written PyTorch loop,
on the same network (LeNet-5 compiled from the preset), the same data (digits at
32×32), the same batch size and optimizer, in the same process.

    .venv/bin/python benchmarks/bench_train.py [--epochs 4] [--rounds 3] [--threads 1]

Each side trains for the same epochs; its throughput is the median over epochs 2…
of the images per second spent in training steps (the engine's own "epoch" event
figure: validation, checkpoints and pictures between epochs are not training).
Engine and hand loop alternate for a few rounds so that a change in the machine's
load hits both; the best round of each is compared. Target: ratio ≥ 0.95.
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

from designer import load_graph  # noqa: E402
from designer.train.config import TrainConfig  # noqa: E402
from designer.train.datasets import open_dataset  # noqa: E402
from designer.train.engine import Trainer  # noqa: E402
from designer.train.events import Epoch, Error  # noqa: E402
from designer.compile import compile_graph


def engine_rate(graph, config: TrainConfig) -> float:
    rates = []

    def on_event(e):
        if isinstance(e, Epoch):
            rates.append(e.samples_per_s)
        elif isinstance(e, Error):
            raise SystemExit(f"engine: {e.message}")

    with tempfile.TemporaryDirectory() as folder:
        Trainer(graph, config, Path(folder) / "run", on_event).run()
    return statistics.median(rates[1:])


def hand_rate(graph, config: TrainConfig) -> float:
    """What someone would write by hand: tensors in memory, a permutation per epoch,
    forward, cross-entropy, backward, step."""
    source = open_dataset(config.dataset, (1, 32, 32), val_fraction=config.val_fraction)
    x_all = source.train.images.float() / 255
    y_all = source.train.labels
    torch.manual_seed(config.seed)
    model = compile_graph(graph)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    b = config.batch_size
    rates = []
    for _ in range(config.epochs):
        order = torch.randperm(len(y_all))
        start = time.perf_counter()
        for i in range(0, len(order), b):
            idx = order[i:i + b]
            loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        loss.item()  # as the engine does, end on a finished step
        rates.append(len(order) / (time.perf_counter() - start))
    return statistics.median(rates[1:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for both sides (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    graph = load_graph("lenet5").graph
    config = TrainConfig.from_graph(graph, epochs=args.epochs, threads=args.threads, device="cpu")
    engine, hand = [], []
    for r in range(args.rounds):
        engine.append(engine_rate(graph, config))
        hand.append(hand_rate(graph, config))
        print(f"round {r + 1}: engine {engine[-1]:8,.0f} images/s   hand loop {hand[-1]:8,.0f} images/s",
              flush=True)
    best_engine, best_hand = max(engine), max(hand)
    ratio = best_engine / best_hand
    print(f"LeNet-5 / digits 32×32, batch {config.batch_size}, {config.optimizer} lr {config.lr}, "
          f"cpu, {torch.get_num_threads()} thread(s), best of {args.rounds} rounds")
    print(f"{'':12}{'images/s':>12}")
    print(f"{'engine':12}{best_engine:>12,.0f}")
    print(f"{'hand loop':12}{best_hand:>12,.0f}")
    print(f"ratio engine / hand = {ratio:.3f}  (target ≥ 0.95: {'met' if ratio >= 0.95 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
