"""Train a network headless, with a progress bar, into a run folder (config.json,
metrics.csv, last.pt, best.pt, model.pt). Runs unchanged under
`torchrun --nproc_per_node=N` (DistributedDataParallel; only rank 0 prints and writes).
Ctrl-C stops after the current step and saves; --resume continues the run in --out.
Exits 0 when done, 1 when training stopped on an error (a NaN loss, out of memory,
a full disk: one line and a hint; a bug: its traceback goes to DIR/error.txt),
2 with one line when the document, the settings or the dataset cannot be used."""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from designer.cli.load import load_or_exit
from designer.train.config import AMP_MODES, AUGMENTS, DATASETS, DEVICES, OPTIMIZERS, SCHEDULES, TASKS
from designer.train.events import SETUP, Done, Epoch, Error, Log, Started, Step


def add_arguments(parser):
    parser.add_argument("document", help="a .json document or a preset name (e.g. lenet5)")
    parser.add_argument("--dataset", help=f"{', '.join(DATASETS)} or folder:PATH "
                                          "(default: the document's, else digits)")
    parser.add_argument("--out", required=True, metavar="DIR", help="the run folder")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, help="the global batch (split over torchrun processes)")
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--schedule", choices=SCHEDULES)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--augment", metavar="A,B", help=", ".join(AUGMENTS))
    parser.add_argument("--device", choices=DEVICES)
    parser.add_argument("--amp", choices=AMP_MODES, help="mixed precision on GPUs")
    parser.add_argument("--channels-last", action="store_true", default=None)
    parser.add_argument("--compile", action="store_true", default=None, help="torch.compile the model")
    parser.add_argument("--workers", type=int, help="DataLoader processes (image folders)")
    parser.add_argument("--threads", type=int, help="CPU threads for the maths (default: one per core)")
    parser.add_argument("--task", choices=TASKS)
    parser.add_argument("--val-fraction", type=float)
    parser.add_argument("--image-size", type=int, metavar="N", help="resize the images to N×N")
    parser.add_argument("--limit", type=int, metavar="N", help="use at most N images")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-steps", type=int, metavar="N", help="stop after N steps in all")
    parser.add_argument("--config", metavar="JSON", help="start from these settings (a config.json)")
    parser.add_argument("--weights", metavar="PT", help="start from these weights where they fit (fine-tuning): "
                                                       "a weights file, another run's best.pt, or 'torchvision' "
                                                       "(the network's torchvision ImageNet weights, from torch "
                                                       "hub's cache or downloaded)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    parser.add_argument("--sweep", action="append", metavar="NAME=V1,V2",
                        help="train once per value (repeat for a grid: --sweep lr=0.001,0.003 --sweep "
                             "batch_size=32,64) into DIR/<setting>/, then print the runs ranked")


def _overrides(args) -> dict:
    given = {"dataset": args.dataset, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
             "optimizer": args.optimizer, "schedule": args.schedule, "weight_decay": args.weight_decay,
             "device": args.device, "amp": args.amp, "channels_last": args.channels_last,
             "compile": args.compile, "workers": args.workers, "threads": args.threads, "task": args.task,
             "val_fraction": args.val_fraction, "image_size": args.image_size, "limit": args.limit,
             "seed": args.seed, "max_steps": args.max_steps}
    if args.augment is not None:
        given["augment"] = [a.strip() for a in args.augment.split(",") if a.strip()]
    return {k: v for k, v in given.items() if v is not None}


def make_config(graph, args):
    from designer.train.config import TrainConfig
    if args.config:
        base = TrainConfig.from_json(Path(args.config).read_text(encoding="utf-8"))
    elif args.resume and (Path(args.out) / "config.json").is_file():
        base = TrainConfig.from_json((Path(args.out) / "config.json").read_text(encoding="utf-8"))
    else:
        base = TrainConfig.from_graph(graph)
    return base.replace(**_overrides(args))


class Progress:
    """One line redrawn in place on a terminal; a line every few seconds otherwise."""

    def __init__(self, stream=None):
        self.stream = stream = stream or sys.stderr
        self.tty = stream.isatty()
        self.last_draw = 0.0
        self.total = self.per_epoch = self.epochs = 0
        self.first_step = None
        self.started = time.perf_counter()
        self.bar_shown = False
        self.last_epoch: Epoch | None = None

    def __call__(self, event) -> None:
        match event:
            case Started():
                self.total, self.per_epoch, self.epochs = event.total_steps, event.steps_per_epoch, event.epochs
                resumed = f", resumed at step {event.resumed_at}" if event.resumed_at else ""
                procs = f", {event.world_size} processes" if event.world_size > 1 else ""
                self._line(f"{event.task_description} on {event.device}{procs}: {steps(self.total)}"
                           f" ({self.per_epoch} an epoch){resumed}")
            case Log():
                self._line(event.message)
            case Step():
                self._step(event)
            case Epoch():
                self.last_epoch = event
                self._line(f"epoch {event.epoch}/{self.epochs}: " + _metrics(event.train, "train")
                           + ("; " + _metrics(event.val, "val") if event.val else ""))
            case Error():
                self._line(f"error: {event.message}")
                if event.hint:
                    self._line(f"hint: {event.hint}")

    def _step(self, e: Step) -> None:
        now = time.perf_counter()
        if self.first_step is None:
            self.first_step = (now, e.global_step)
        final = e.global_step >= self.total or e.step == self.per_epoch
        if now - self.last_draw < (0.1 if self.tty else 5.0) and not (self.tty and final):
            return
        self.last_draw = now
        t0, s0 = self.first_step
        done = e.global_step - s0
        eta = _clock((self.total - e.global_step) * (now - t0) / done) if done > 0 else "…"
        width = 20
        filled = int(width * e.step / max(self.per_epoch, 1))
        text = (f"epoch {e.epoch}/{self.epochs} [{'#' * filled}{'.' * (width - filled)}] "
                f"step {e.step}/{self.per_epoch}  loss {e.loss:.4f}  "
                f"{e.samples_per_s:,.0f} samples/s  ETA {eta}")
        if self.tty:
            self.stream.write("\r" + text.ljust(100)[:max(len(text), 100)])
            self.stream.flush()
            self.bar_shown = True
        else:
            self._line(text)

    def _line(self, text: str) -> None:
        if self.bar_shown:
            self.stream.write("\n")
            self.bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()


def _metrics(values: dict, prefix: str) -> str:
    parts = []
    for k, v in values.items():
        if isinstance(v, float):
            parts.append(f"{k} {v * 100:.1f} %" if k in ("accuracy", "top5", "pixel_accuracy", "mean_iou")
                         else f"{k} {v:.4f}")
    return f"{prefix} " + ", ".join(parts)


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def steps(n: int) -> str:
    return f"{n} step{'s' if n != 1 else ''}"


def summary_line(event: Done, progress: Progress) -> str:
    best = event.best or {}
    what = ""
    if best.get("metric"):
        value = best["value"]
        shown = f"{value * 100:.1f} %" if best["metric"] in ("accuracy", "mean_iou") else f"{value:.4f}"
        what = f", best val {best['metric']} {shown} (epoch {best['epoch']})"
    epochs = event.epoch
    return (f"{event.reason}: {epochs} epoch{'s' if epochs != 1 else ''}, {steps(event.global_step)} in "
            f"{event.time_s:.1f} s{what} → {event.run_dir}")


def torchvision_weights(graph) -> str | None:
    """`--weights torchvision`: the cached (or just downloaded) ImageNet weights file of the
    torchvision network this document is; None after one line on stderr when there is none."""
    from designer.compile.errors import WeightsFileError
    from designer.compile.pretrained import WEIGHTS, fetch, torchvision_model
    model = torchvision_model(graph)
    if model is None:
        print("error: --weights torchvision: this network is not one of torchvision's (its layers are not "
              f"named as a torchvision model's), so there are no {WEIGHTS} weights for it; give a weights file",
              file=sys.stderr)
        return None
    try:
        return str(fetch(model))
    except WeightsFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def keep_drawing(run_dir: Path, graph) -> None:
    """The run folder's copy of the drawing it trains (document.json, as the window's runs
    keep it): `designer runs` shows what differs between the networks of two runs."""
    from designer.graph.fileformat import dumps
    from designer.train.run_folder import RunFolder
    try:
        RunFolder(run_dir).write_document(dumps(graph))
    except OSError as exc:   # the run goes on; only the comparison of its network is lost
        print(f"note: the drawing was not kept in the run folder: {exc}", file=sys.stderr)


def run(args) -> int:
    from designer.train.errors import TrainSetupError
    document = load_or_exit(args.document)   # a .pth brings its weights: the run starts from them
    try:
        config = make_config(document.graph, args)
    except (TrainSetupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.weights == "torchvision":
        args.weights = torchvision_weights(document.graph)
        if args.weights is None:
            return 2
    if args.sweep:
        from designer.cli.sweep import run_sweep_command
        return run_sweep_command(document, config, args)
    from designer.train.engine import Trainer
    progress = Progress()

    def on_event(event):
        if isinstance(event, Started) and trainer.procs.main:
            keep_drawing(Path(args.out), document.graph)
        progress(event)

    trainer = Trainer(document.graph, config, args.out, on_event, resume=args.resume, init_weights=args.weights,
                      weights=document.weights)

    def stop_softly(signum, frame):
        print("\nstopping after this step (Ctrl-C again to abort)…", file=sys.stderr)
        trainer.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop_softly)
    try:
        last = trainer.run()
    except KeyboardInterrupt:   # the second Ctrl-C: last.pt of the last epoch stays as it was
        print("aborted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - a bug: the engine has said so in one line, the traceback is in error.txt
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
    if isinstance(last, Done):
        if trainer.procs.main:
            print(summary_line(last, progress))
        return 0
    return 2 if last.kind == SETUP else 1
