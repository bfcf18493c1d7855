"""The training engine: `Trainer(graph, config, run_dir, on_event).run()`.

It trains the compiled graph and reports through `on_event(event)`, with the
frozen dataclasses of designer.train.events (Started, Step, Epoch, Checkpoint, Log,
and last of all Done or Error); `run()` returns the last one. They are documented
there, with the one `to_dict` / `from_dict` that carries them out of the process.
Expected faults (a full disk, out of memory, data that cannot be used) end in an Error
with one sentence; a truly unexpected exception (a bug) is reported as Error(kind=CRASH),
its traceback written to the run folder's error.txt, and then raised again from `run()`.

`pause()`, `resume()` and `stop()` only set flags, checked between steps, so
they can be called from any thread (or, through `designer.train.worker`, from
another process). A stop finishes the step under way, saves last.pt and
model.pt, and ends with Done(reason="stopped"); `Trainer(..., resume=True)`
continues from last.pt. `Trainer(..., init_weights=path)` starts the layers that fit
from a weights file or another run's checkpoint (fine-tuning; frozen blocks stay frozen).

last.pt / best.pt hold {"nets": {name: state_dict} ("model", or "generator" and
"discriminator"), "optimizers", "schedules", "scalers", "epoch", "step" (within the
epoch), "global_step", "time_s", "best", "meter", "rng", "config", "task"}.
"""
from __future__ import annotations

import gc
import math
import threading
import time
import traceback

import torch
from torch import nn

from designer.atomic import WriteFailed, write_failure
from designer.graph.format import shape as fmt_shape

from . import checkpoint, distributed, memory
from .augment import Augmenter, channel_stats
from .batches import Batches, chunks, epoch_order, prepare, shard
from .config import TrainConfig
from .datasets import FileSet, open_dataset
from .device import amp_dtype, describe, pick_device, tune_for
from .errors import TrainSetupError, TrainStepError
from .events import CRASH, SETUP, STEP, Checkpoint, Done, Epoch, Error, Event, Log, Started, Step
from .metrics_log import MetricsLog, columns_for
from .optim import Schedule, make_optimizer
from .run_folder import BEST, ERROR, LAST, METRICS, MODEL, RunFolder
from .tasks import Batch, Meter, StepContext, choose_task, data_input_shape, make_task

GPU_LOG_EVERY = 20
NORMALIZE_SAMPLE = 5000  # images the normalisation mean and deviation are measured on


class Trainer:
    def __init__(self, graph, config: TrainConfig, run_dir, on_event=None, resume: bool = False,
                 stop_event=None, pause_event=None, init_weights=None, weights=None):
        self.graph = graph
        self.weights = weights            # a state dict the run starts from (a document's weights)
        self.init_weights = init_weights  # a .pt/.pth whose matching layers start the run (fine-tuning)
        self.config = config
        self.folder = RunFolder(run_dir)
        self.on_event = on_event or (lambda event: None)
        self.resuming = resume
        # anything with set / clear / is_set works: threading.Event, multiprocessing.Event
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._pause = pause_event if pause_event is not None else threading.Event()
        self.procs = distributed.Processes()
        self.log: MetricsLog | None = None
        self._stop_agreed = False  # under torchrun: a stop every process has heard of
        self.kept: dict | None = None   # {"epoch", "global_step"} of the last.pt on disk, once there is one
        self.phase = "setup"            # setup | step | validation | saving: where an error happened

    # ---- control, from any thread ----------------------------------------------------------------
    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self) -> None:
        self._stop.set()

    # ---- the run ---------------------------------------------------------------------------------
    def run(self) -> Done | Error:
        """Train; returns the last event (Done or Error). Errors the user can act on
        become an Error event; anything else is reported and raised again."""
        threads = torch.get_num_threads()
        try:
            self.procs = distributed.from_env(self.config.device)
            self._setup()
            return self._train()
        except TrainSetupError as exc:
            return self._error(str(exc), "", SETUP)
        except TrainStepError as exc:
            return self._error(_one_line(str(exc)), exc.hint, STEP)
        except WriteFailed as exc:
            return self._error(*self._write_failed(exc), STEP)
        except Exception as exc:
            if memory.is_out_of_memory(exc) or memory.loader_killed(exc):
                return self._error(*self._out_of_memory(exc), STEP)
            self._crash(exc)
            raise
        finally:
            if self.log is not None:
                try:
                    self.log.close()
                except OSError:
                    pass   # the rows it could not write were reported when they failed
            self._leave_process_group()
            torch.set_num_threads(threads)  # `threads` was for this run, not for the whole process

    def _leave_process_group(self) -> None:
        """Under torchrun: let go of the DistributedDataParallel wrappers, then of the process
        group. A wrapper still alive when Python exits takes gloo's threads down with the
        interpreter, and the process aborts ("terminate called without an active exception")
        after a run that went well."""
        if not self.procs.enabled:
            return
        task = getattr(self, "task", None)
        if task is not None and getattr(task, "train_nets", None) is not None:
            task.train_nets = dict(task.nets)
        gc.collect()
        self.procs.close()

    def emit(self, event: Event) -> None:
        if self.procs.main:
            self.on_event(event)

    def _log(self, message: str) -> None:
        self.emit(Log(message))

    def _error(self, message: str, hint: str, kind: str, trace: str = "") -> Error:
        event = Error(message, hint, kind, trace)
        self.emit(event)
        return event

    # ---- faults, in words --------------------------------------------------------------------------
    def _kept_text(self) -> str:
        if self.kept is None:
            return "no checkpoint was written yet"
        return f"the checkpoint of epoch {self.kept['epoch']} is kept ({LAST}, step {self.kept['global_step']})"

    def _write_failed(self, exc: WriteFailed) -> tuple[str, str]:
        """A full (or read-only, or forbidden) disk: what, where, how much, and what is kept."""
        if self.kept is None:
            return (f"{exc.reason()}; {self._kept_text()}.",
                    "Free space and start the run again into an empty folder." if exc.full else
                    "Choose a run folder you can write to.")
        return (f"{exc.reason()}; {self._kept_text()}.",
                ("Free space, then resume the run" if exc.full else "Make the folder writable, then resume the run")
                + " (on the command line: --resume).")

    def _out_of_memory(self, exc: BaseException) -> tuple[str, str]:
        """Out of memory on any device: where, with which batch, and a batch that fits."""
        self._free_memory(exc)
        device = getattr(self, "device", None)
        on = device.type if device is not None else "this machine"
        batch = self.config.batch_size
        if self.phase == "setup" or device is None:
            where = "before the first step"
        elif self.phase == "validation":
            where = f"in validation after step {self.global_step}"
        elif self.phase == "saving":
            where = f"while saving after step {self.global_step}"
        else:
            where = f"at step {self.global_step + 1}"
        message = f"Out of memory {where} with a batch of {batch} on {on}."
        killed = memory.loader_killed(exc)
        if killed:
            message = f"Out of memory {where} with a batch of {batch} on {on}: a data-loader worker was " \
                      f"killed by the system ({killed.rstrip('.')})."
        analysis = getattr(self, "analysis", None)
        if analysis is None:
            return message, "Try a smaller batch size or a smaller input."
        estimate = memory.Estimate.of(analysis, self.config, self.graph)
        _batch, hint = memory.suggest_batch(estimate, batch, memory.free_bytes(device) if device else None)
        if device is not None and device.type == "cuda" and self.config.amp == "off":
            hint += " Mixed precision (bf16) halves the activations."
        return message, hint

    def _crash(self, exc: BaseException) -> None:
        """A truly unexpected exception: one line, and the traceback in error.txt."""
        trace = traceback.format_exc()
        if not self.procs.main:
            return
        kept = self._kept_text()
        where = self.folder.file(ERROR)
        try:
            self.folder.path.mkdir(parents=True, exist_ok=True)
            where.write_text(trace, encoding="utf-8")
            told = f"the traceback is in {where}"
        except OSError:
            told = "the traceback could not be written to the run folder"
        self._error(f"Training stopped on an unexpected error: {type(exc).__name__}: {exc}",
                    f"This is a bug in Network Designer; {told}, and {kept}.", CRASH, trace)

    # ---- setup: everything that can be refused is refused here, before the first step -----------
    def _setup(self) -> None:
        config, graph, procs = self.config, self.graph, self.procs
        config.validate()
        self.folder.check(self.resuming)
        procs.barrier()  # every process has looked before rank 0 writes
        self.analysis = analysis = graph.analyze()
        if analysis.errors:
            node, msg = analysis.errors[0]
            more = f" (and {len(analysis.errors) - 1} more)" if len(analysis.errors) > 1 else ""
            raise TrainSetupError(f"The graph has errors: {f'at {node}: ' if node else ''}{msg}{more}.")
        kind = choose_task(graph, analysis, config.task)
        shape = data_input_shape(graph, analysis, kind)
        self.device = device = pick_device(config.device, procs.local_rank)
        tune_for(device)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.source = source = open_dataset(config.dataset, shape, val_fraction=config.val_fraction,
                                            limit=config.limit, size_hw=config.size_hw())
        if config.image_size is not None and kind != "gan":
            self.analysis = analysis = graph.analyze(source.input_shape)
            if analysis.errors:
                node, msg = analysis.errors[0]
                raise TrainSetupError(f"With {source.name} images of {fmt_shape(source.input_shape)} "
                                      f"the graph fails at {node}: {msg}.")
        self.task = task = make_task(kind, graph, source, config, analysis)
        if not self.resuming:
            task.weights = self._starting_weights(graph)
        torch.manual_seed(config.seed)
        nets = task.build()  # blocks marked not trainable come frozen from the compiler
        memory = torch.channels_last if config.channels_last and len(source.input_shape) == 3 else None
        for name, net in nets.items():
            net.to(device)
            if memory is not None:
                net.to(memory_format=memory)
        torch.manual_seed(config.seed + procs.rank)  # dropout and augmentation differ per process

        self.per_rank_batch = max(1, config.batch_size // procs.world)
        if config.batch_size % procs.world:
            self._log(f"batch size {config.batch_size} does not split over {procs.world} processes; "
                      f"each takes {self.per_rank_batch}")
        n_train = len(source.train)
        if n_train < 2:
            raise TrainSetupError(f"{source.name} leaves {n_train} training images; it needs at least 2.")
        self.steps_per_epoch = len(chunks(epoch_order(n_train, 0, config.seed, procs.rank, procs.world),
                                          self.per_rank_batch))
        total = self.steps_per_epoch * config.epochs
        self.total_steps = min(total, config.max_steps) if config.max_steps else total

        betas = getattr(task, "adam_betas", (0.9, 0.999))
        self.optimizers = {n: make_optimizer(net.parameters(), config, betas) for n, net in nets.items()}
        self.schedules = {n: Schedule(o, config, self.steps_per_epoch, total) for n, o in self.optimizers.items()}
        dtype, note = amp_dtype(config.amp, device)
        if note:
            self._log(note)
        scalers = {}
        if dtype == torch.float16:
            scalers = {n: torch.amp.GradScaler(device.type) for n in nets}
        self.ctx = StepContext(device, dtype, self.optimizers, scalers, memory is not None)
        task.train_nets = self._wrap(nets)

        if "normalize" in config.augment and not task.uses_normalize:
            self._log(f"normalize is not used for a {kind}: its images keep the generator's range")
        mean = std = None
        if task.uses_normalize:
            mean, std = self._channel_stats()
        self.augmenter = Augmenter([a for a in config.augment if a != "normalize"], config.crop_padding,
                                   mean, std)
        pin, workers = config.pin_memory, config.workers
        self.train_batches = Batches(source.train, device, pin, workers)
        self.val_batches = Batches(source.val, device, pin, workers)

        # where the run stands; a resume overwrites it from last.pt
        self.epoch, self.step, self.global_step = 0, 0, 0
        self.time_offset = 0.0
        self.best: dict | None = None
        self.meter_state: dict | None = None
        if self.resuming:
            self._load_checkpoint()
        step_names = task.step_names
        metric_names = [m for m in task.metric_names if m not in step_names]
        self.columns = columns_for(step_names, metric_names)
        if procs.main:
            self.folder.create()
            self.folder.write_config(config)
            self.log = MetricsLog(self.folder.file(METRICS), self.columns,
                                  self.global_step if self.resuming else None)
        procs.barrier()
        log_every = config.log_every or (1 if device.type == "cpu" else GPU_LOG_EVERY)
        self.log_every = log_every
        self.emit(Started(config=config.to_dict(), epochs=config.epochs, device=describe(device), task=kind,
                          task_description=task.describe(), dataset=source.note,
                          classes=list(source.class_names), train_size=len(source.train),
                          val_size=len(source.val), steps_per_epoch=self.steps_per_epoch,
                          total_steps=self.total_steps, world_size=procs.world,
                          resumed_at=self.global_step if self.resuming else None,
                          columns=list(self.columns), run_dir=str(self.folder.path)))
        self._log(f"{source.name}: {source.note}; {len(source.train)} for training, {len(source.val)} for "
                  f"validation; {task.describe()} on {describe(device)}")
        for warning in source.warnings:
            self._log(warning)

    def _starting_weights(self, graph) -> dict | None:
        """The weights the networks start from: the document's, overlaid with the fitting
        entries of `init_weights` (fine-tuning); the other layers keep their fresh values."""
        if self.init_weights is None:
            return self.weights
        from designer.compile.checkpoint import fit_weights
        from designer.graph.errors import GraphError
        try:
            fitting, report = fit_weights(graph, checkpoint.weights_of(checkpoint.load(self.init_weights)))
        except GraphError as exc:
            raise TrainSetupError(f"The starting weights cannot be used: {exc}") from None
        if not report.matched:
            raise TrainSetupError(f"None of the weights in {self.init_weights} fit this network ({report}).")
        self._log(f"starting weights from {self.init_weights}: {report}")
        return {**(self.weights or {}), **fitting}

    def _wrap(self, nets: dict) -> dict:
        wrapped = {}
        for name, net in nets.items():
            model = net
            if self.config.compile:
                model = torch.compile(model)
            if self.procs.enabled:
                from torch.nn.parallel import DistributedDataParallel as DDP
                ids = [self.device.index] if self.device.type == "cuda" else None
                model = DDP(model, device_ids=ids)
            wrapped[name] = model
        return wrapped

    def _channel_stats(self):
        split = self.source.train
        if isinstance(split, FileSet):
            picks = [split.dataset[i][0] for i in split.indices[:500]]
            images = torch.stack(picks).float() / 255
        else:
            images = prepare(split.images[:NORMALIZE_SAMPLE], split.fitted, self.source.image_shape)
        return channel_stats(images)

    # ---- checkpoints -----------------------------------------------------------------------------
    def _state(self, meter: Meter | None) -> dict:
        return {"format": "network-designer-run", "version": 1, "task": self.task.name,
                "nets": {n: net.state_dict() for n, net in self.task.nets.items()},
                "optimizers": {n: o.state_dict() for n, o in self.optimizers.items()},
                "schedules": {n: s.state_dict() for n, s in self.schedules.items()},
                "scalers": {n: s.state_dict() for n, s in self.ctx.scalers.items()},
                "epoch": self.epoch, "step": self.step, "global_step": self.global_step,
                "time_s": self._elapsed(), "best": self.best,
                "meter": meter.state() if meter is not None else None,
                "rng": checkpoint.rng_state(), "config": self.config.to_dict()}

    def _save(self, name: str, meter: Meter | None) -> None:
        if not self.procs.main:
            return
        phase, self.phase = self.phase, "saving"
        self.log.flush()
        path = self.folder.file(name)
        checkpoint.save(self._state(meter), path)
        if name == LAST:
            self.kept = {"epoch": self.epoch, "global_step": self.global_step}
        self.phase = phase
        self.emit(Checkpoint(name.split(".")[0], str(path), self.epoch, self.global_step))

    def _load_checkpoint(self) -> None:
        path = self.folder.file(LAST)
        try:
            state = checkpoint.load(path)
        except Exception as exc:  # noqa: BLE001 - a damaged file: say so in one line
            raise TrainSetupError(f"{path} cannot be read: {exc}") from None
        if state.get("task") != self.task.name:
            raise TrainSetupError(f"{path} is a {state.get('task')} run, not {self.task.name}.")
        try:
            for n, net in self.task.nets.items():
                net.load_state_dict(state["nets"][n])
            for n, o in self.optimizers.items():
                o.load_state_dict(state["optimizers"][n])
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise TrainSetupError(f"{path} does not fit this graph ({first}).") from None
        for n, s in self.schedules.items():
            s.load_state_dict(state["schedules"][n])
        for n, s in self.ctx.scalers.items():
            if n in state["scalers"]:
                s.load_state_dict(state["scalers"][n])
        self.epoch, self.step, self.global_step = state["epoch"], state["step"], state["global_step"]
        self.kept = {"epoch": self.epoch, "global_step": self.global_step}
        self.time_offset = float(state["time_s"])
        self.best = state["best"]
        self.meter_state = state["meter"]
        checkpoint.restore_rng(state["rng"])
        if self.procs.rank:
            torch.manual_seed(self.config.seed + self.procs.rank + self.global_step)

    # ---- the loop --------------------------------------------------------------------------------
    def _elapsed(self) -> float:
        return self.time_offset + (time.perf_counter() - self._t0 - self._paused)

    def _train(self) -> Done:
        config, task, procs = self.config, self.task, self.procs
        self._t0, self._paused = time.perf_counter(), 0.0
        self._pending: list = []
        self._window_start, self._window_samples = time.perf_counter(), 0
        if self.resuming and self.best and self.best.get("epoch") == self.epoch and not self.step \
                and not self.folder.file(BEST).exists():
            self._save(BEST, None)   # the best epoch is the one resumed from: a full disk kept best.pt from it
        stopped = capped = False
        if config.max_steps and self.global_step >= config.max_steps:
            capped = True
        while self.epoch < config.epochs and not (stopped or capped):
            meter = Meter()
            if self.meter_state is not None and self.step:
                meter.load(self.meter_state, self.device)
            self.meter_state = None
            order = epoch_order(len(self.source.train), self.epoch, config.seed, procs.rank, procs.world)
            batches = chunks(order, self.per_rank_batch, skip=self.step)
            self._train_mode()
            self._epoch_start, self._epoch_samples = time.perf_counter(), 0
            self._window_start, self._window_samples = self._epoch_start, 0  # eval time is not training
            for x, y, m in self.train_batches.iterate(batches):
                if self._stop_requested():
                    stopped = True
                    break
                self._wait_while_paused()
                self._one_step(x, y, m, meter)
                if config.max_steps and self.global_step >= config.max_steps:
                    capped = True
                    break
            self._flush()
            self._epoch_time = time.perf_counter() - self._epoch_start
            stopped = stopped or self._stop_requested()
            if stopped and not capped and self.step < self.steps_per_epoch:
                self._save(LAST, meter)
                break
            self._end_epoch(meter)
        self._export()
        reason = "stopped" if stopped else "finished"
        if capped:
            self._log(f"stopped after max_steps = {config.max_steps} steps")
        event = Done(reason, str(self.folder.path), self.best, self.epoch, self.global_step, self._elapsed())
        self.emit(event)
        return event

    def _stop_requested(self) -> bool:
        """Under torchrun a stop counts once every process has agreed on it (at a flush)."""
        return self._stop_agreed if self.procs.enabled else self._stop.is_set()

    def _wait_while_paused(self) -> None:
        if not self._pause.is_set() or self.procs.enabled:
            return
        self._flush()
        self._log(f"paused at step {self.global_step}")
        started = time.perf_counter()
        while self._pause.is_set() and not self._stop.is_set():
            time.sleep(0.05)
        waited = time.perf_counter() - started
        self._paused += waited
        self._window_start += waited
        self._epoch_start += waited
        self._log("resumed")

    def make_batch(self, x, y, m, train: bool) -> Batch:
        source, task = self.source, self.task
        split = source.train if train else source.val
        images = prepare(x, getattr(split, "fitted", True), source.image_shape)
        if train and self.augmenter.geometric:
            images, m = self.augmenter.train(images, m)
        inp = self.augmenter.normalize(images) if task.uses_normalize else images
        low, high = task.data_range
        if (low, high) != (0.0, 1.0):
            inp = inp * (high - low) + low
        if source.flatten:
            inp = inp.reshape(inp.shape[0], -1)
        elif self.ctx.channels_last:
            inp = inp.contiguous(memory_format=torch.channels_last)
        return Batch(inp, y, m, images)

    def _one_step(self, x, y, m, meter: Meter) -> None:
        self.phase = "step"   # out of memory from here on is reported at this step (run: _out_of_memory)
        batch = self.make_batch(x, y, m, train=True)
        values = self.task.train_step(batch, self.ctx, meter)
        for s in self.schedules.values():
            s.after_step()
        self.step += 1
        self.global_step += 1
        self._window_samples += len(batch) * self.procs.world
        self._epoch_samples += len(batch) * self.procs.world
        self._pending.append((self.epoch, self.step, self.global_step, values, self._lr()))
        if len(self._pending) >= self.log_every:
            self._flush()

    def _free_memory(self, exc: BaseException | None = None) -> None:
        """Let go of what the failed step held: its frames (kept alive by the exception's
        traceback), the gradients and the pending step values."""
        if exc is not None:
            traceback.clear_frames(exc.__traceback__)
            exc.__traceback__ = None
        getattr(self, "_pending", []).clear()
        for o in getattr(self, "optimizers", {}).values():
            o.zero_grad(set_to_none=True)
        gc.collect()
        device = getattr(self, "device", None)
        if device is not None and device.type == "cuda":
            torch.cuda.empty_cache()

    def _lr(self) -> float:
        return next(iter(self.schedules.values())).lr()

    def _flush(self) -> None:
        """Bring the pending step values to the CPU (one synchronisation), reduce them
        across processes, write their rows and send their events."""
        procs = self.procs
        if not self._pending and not procs.enabled:
            return
        if procs.enabled:
            # every process flushes at the same steps, so this all-reduce always pairs up
            stop = 1.0 if self._stop.is_set() else 0.0
            values = torch.stack([p[3] for p in self._pending]).float() if self._pending else \
                torch.zeros(0, len(self.task.step_names), device=self.device)
            flat = torch.cat([values.reshape(-1), torch.tensor([stop], device=values.device)])
            flat = procs.all_reduce_sum(flat)
            self._stop_agreed = bool(flat[-1].item() > 0)
            rows = (flat[:-1] / procs.world).reshape(values.shape).tolist()
        else:
            rows = torch.stack([p[3] for p in self._pending]).float().tolist()
        now = time.perf_counter()
        span = max(now - self._window_start, 1e-9)
        rate = self._window_samples / span
        elapsed = self._elapsed()
        names = self.task.step_names
        for (epoch, step, global_step, _, lr), vals in zip(self._pending, rows):
            bad = [v for v in vals if not math.isfinite(v)]
            if bad:
                self._pending.clear()
                what = "NaN" if math.isnan(bad[0]) else "infinite"
                raise TrainStepError(
                    f"The loss became {what} at step {global_step} (epoch {epoch + 1}); training stopped.",
                    f"Lower the learning rate (now {self.config.lr:g}), e.g. to {self.config.lr / 10:g}.")
            scalars = dict(zip(names, vals))
            event = Step(epoch + 1, step, global_step, scalars.pop("loss"), lr, rate, elapsed, scalars)
            if self.log is not None:
                self.log.write(dict(event.row(), kind="step"))
            self.emit(event)
        self._pending.clear()
        self._window_start, self._window_samples = now, 0

    def _end_epoch(self, meter: Meter) -> None:
        task, procs = self.task, self.procs
        train = task.summarize(meter.totals(procs.all_reduce_sum))
        train.pop("confusion", None)
        val, confusion, picture_batch = {}, None, None
        if task.has_validation and len(self.source.val):
            val, picture_batch = self._evaluate()
            confusion = val.pop("confusion", None)
        extras = self._pictures(picture_batch)
        for s in self.schedules.values():  # plateau: the validation loss, else the training loss
            s.after_epoch(val.get("loss", train.get("loss")))
        epoch = self.epoch + 1
        base = {"epoch": epoch, "step": self.step, "global_step": self.global_step, "time_s": self._elapsed(),
                "lr": self._lr()}
        if self.log is not None:
            self.log.write(dict(base, kind="train", **train))
            if val:
                self.log.write(dict(base, kind="val", **val))
        improved = self._track_best(epoch, val or train)
        self.emit(Epoch(epoch=epoch, global_step=self.global_step, time_s=base["time_s"], lr=base["lr"],
                        train=train, val=val, train_time_s=self._epoch_time,
                        samples_per_s=self._epoch_samples / max(self._epoch_time, 1e-9),
                        images=extras.get("images", {}), confusion=confusion,
                        predictions=extras.get("predictions")))
        self.epoch, self.step = epoch, 0
        self._save(LAST, None)
        if improved:
            self._save(BEST, None)

    def _track_best(self, epoch: int, metrics: dict) -> bool:
        rule = self.task.best
        if rule is None or rule[0] not in metrics:
            self.best = {"epoch": epoch, "global_step": self.global_step, "metric": None, "value": None}
            return True
        name, direction = rule
        value = float(metrics[name])
        old = self.best.get("value") if self.best else None
        better = old is None or (value > old if direction == "max" else value < old)
        if better:
            self.best = {"epoch": epoch, "global_step": self.global_step, "metric": name, "value": value,
                         **{k: v for k, v in metrics.items() if isinstance(v, float)}}
        return better

    def _train_mode(self) -> None:
        """Training mode, except that the batch norms of frozen blocks keep their running
        statistics: a frozen backbone must not drift while its head is fine-tuned."""
        for net in self.task.nets.values():
            net.train()
            for module in net.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine and \
                        not any(p.requires_grad for p in module.parameters(recurse=False)):
                    module.eval()

    @torch.no_grad()
    def _evaluate(self):
        task, procs = self.task, self.procs
        for net in task.nets.values():
            net.eval()
        meter, first = Meter(), None
        index = shard(len(self.source.val), procs.rank, procs.world)
        self.phase = "validation"
        try:
            for x, y, m in self.val_batches.iterate(list(torch.split(index, self.per_rank_batch))):
                batch = self.make_batch(x, y, m, train=False)
                task.eval_batch(batch, self.ctx, meter)
                if first is None:
                    first = batch
        finally:
            self._train_mode()
        self.phase = "step"
        return task.summarize(meter.totals(procs.all_reduce_sum)), first

    def _pictures(self, batch: Batch | None) -> dict:
        """The task's pictures for this epoch (rank 0 only); a failure to draw them is
        logged, never allowed to stop the run."""
        if not self.procs.main:
            return {}
        task = self.task
        if batch is None:
            x, y, m = next(iter(self.train_batches.iterate([torch.arange(min(16, len(self.source.train)))])))
            batch = self.make_batch(x, y, m, train=False)
        for net in task.nets.values():
            net.eval()
        try:
            return task.epoch_images(batch, self.ctx)
        except Exception as exc:  # noqa: BLE001 - pictures are a bonus
            self._log(f"the epoch's pictures could not be drawn: {type(exc).__name__}: {exc}")
            return {}
        finally:
            self._train_mode()

    def _export(self) -> None:
        if not self.procs.main:
            return
        from designer.compile.export import export_torchscript  # scripted, on the CPU, atomically
        module = self.task.export_module()
        path = self.folder.file(MODEL)
        self.phase = "saving"
        try:
            export_torchscript(module, path)
        except Exception as exc:  # noqa: BLE001 - the checkpoints still hold the weights
            failure = write_failure(exc, path)
            if failure is not None:   # a full disk stops the run with what is kept; the size: the tensors'
                if failure.needed is None:
                    held = list(module.parameters()) + list(module.buffers())
                    failure = WriteFailed(path, failure.errno, sum(t.numel() * t.element_size() for t in held),
                                          failure.kept)
                raise failure from exc
            self._log(f"model.pt could not be written ({exc}); last.pt holds the weights")
            return
        self.emit(Checkpoint("model", str(path), self.epoch, self.global_step))


def _one_line(text: str) -> str:
    """An error raised in a DataLoader worker comes back with the worker's traceback in its
    text ("Caught X in DataLoader worker process 0. Original Traceback …"): its last line."""
    if "Original Traceback" not in text:
        return text
    last = text.strip().splitlines()[-1]
    head, sep, rest = last.partition(": ")
    return rest if sep and " " not in head else last


def train(graph, config: TrainConfig, run_dir, on_event=None, resume: bool = False) -> Done | Error:
    """Train in this thread; returns the last event."""
    return Trainer(graph, config, run_dir, on_event, resume=resume).run()


__all__ = ["Trainer", "train", "TrainConfig", "TrainSetupError", "TrainStepError"]
