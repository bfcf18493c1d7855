"""One training run seen from the window: it starts the worker process
(designer.train.worker) on a snapshot of the document, follows its events through
the EventPump, keeps the run folder's own notes (run.json, document.json, results/)
and says in one place what state the run is in.

The worker is given the document as JSON text at the start, so editing the drawing
afterwards never touches the network being trained.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from designer.train import run_listing
from designer.train.events import CLOSED, Checkpoint, Done, Epoch, Error, Log, Started
from designer.train.run_folder import LAST, MODEL, RunFolder

from . import results_store
from .background import Background
from .event_pump import EventPump

IDLE, STARTING, RUNNING, PAUSED, STOPPING, ENDED = "idle", "starting", "running", "paused", "stopping", "ended"
GPU_POLL_MS = 2000
BACKGROUND_NICE = 5       # how much lower the worker's priority is than the window's


class TrainingSession(QObject):
    state_changed = Signal(str)
    started = Signal(object)      # the engine's Started event
    steps = Signal(list)          # Step events, coalesced per tick
    epoch = Signal(object)        # an Epoch event
    log = Signal(str)             # a line for the log pane
    checkpoint = Signal(object)   # a Checkpoint event
    ended = Signal(object)        # Done or Error
    gpu_memory = Signal(object)   # bytes the worker holds on the GPU, or None

    def __init__(self, parent=None, start_worker=None):
        super().__init__(parent)
        self._start_worker = start_worker   # tests may hand in another launcher
        self.state = IDLE
        self.handle = None
        self.pump: EventPump | None = None
        self.run_dir: Path | None = None
        self.start_info: Started | None = None
        self.last_event = None            # the latest Step, then the Done or Error the run ended with
        self.started_at: datetime | None = None
        self.document_title = ""
        self._note_failed = False         # run.json could not be written (said once)
        self._gpu = Background(self, "gpu-memory")
        self._gpu.done.connect(lambda _t, value: self.gpu_memory.emit(value))
        self._gpu_timer = QTimer(self)
        self._gpu_timer.setInterval(GPU_POLL_MS)
        self._gpu_timer.timeout.connect(self._poll_gpu)
        self._saver = Background(self, "save-results")
        self._saver.failed.connect(lambda _t, m: self.log.emit(f"The epoch's pictures could not be kept in the "
                                                               f"run folder: {m}"))

    # ---- control ---------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.state in (STARTING, RUNNING, PAUSED, STOPPING)

    def start(self, document_json: str, config: dict, run_dir: Path, *, resume: bool = False,
              init_weights: Path | None = None, title: str = "") -> None:
        """Start the worker; raises OSError when the run folder cannot be written."""
        if self.active:
            raise RuntimeError("a run is going already")
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        if not resume:
            RunFolder(run_dir).write_document(document_json)
        self.run_dir = run_dir
        self.document_title = title
        self.started_at = datetime.now()
        self.start_info, self.last_event = None, None
        self._note_failed = False
        run_listing.update_meta(run_dir, status=run_listing.RUNNING, reason="", document_title=title,
                                started=self.started_at.isoformat(timespec="seconds"),
                                fine_tuned_from=str(init_weights) if init_weights else None)
        if self._start_worker is None:
            from designer.train.worker import start_worker
        else:
            start_worker = self._start_worker
        kwargs = {"init_weights": str(init_weights)} if init_weights else {}
        self.handle = start_worker(document_json, config, run_dir, resume=resume, **kwargs)
        _background_priority(self.handle)
        self.pump = EventPump(self.handle, self)
        self.pump.steps.connect(self._on_steps)
        self.pump.event.connect(self._on_event)
        self.pump.ended.connect(self._on_end)
        self.pump.start()
        self._set_state(STARTING)
        self.log.emit(("Resuming" if resume else "Starting") + f" {run_dir.name}: loading PyTorch in the "
                      "training process…")

    def pause(self) -> None:
        if self.state == RUNNING:
            self.handle.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.state == PAUSED:
            self.handle.resume()
            self._set_state(RUNNING)

    def stop(self) -> None:
        """Ask for a clean stop: the step under way finishes, last.pt and model.pt are written."""
        if self.state in (STARTING, RUNNING, PAUSED):
            self.handle.stop()
            self.handle.resume()   # a paused run must wake up to stop
            self._set_state(STOPPING)
            self.log.emit("Stopping after the current step…")

    def kill(self) -> None:
        """End the worker at once (it writes nothing more)."""
        if self.handle is not None and self.active:
            self.handle.kill()

    def shutdown(self, wait_s: float = 5.0) -> None:
        """The window is closing: stop cleanly if the worker does so in time, else kill it."""
        if self.handle is None or not self.active:
            return
        self.handle.stop()
        self.handle.resume()
        self.handle.join(wait_s)
        if self.handle.is_alive():
            self.handle.kill()
            self.handle.join(2.0)
        if self.pump is not None:
            self.pump.close()
        if self.run_dir is not None:
            self._note(status=run_listing.STOPPED, reason="the window was closed")
        self._gpu_timer.stop()
        self.last_event = Error("The run was stopped because the window closed.", "", CLOSED)
        self._set_state(ENDED)
        self.ended.emit(self.last_event)

    # ---- events ----------------------------------------------------------------------------------
    def _on_steps(self, events: list) -> None:
        if self.state == STARTING:
            self._set_state(RUNNING)
        self.last_event = events[-1]
        self.steps.emit(events)

    def _on_event(self, event) -> None:
        match event:
            case Started():
                self.start_info = event
                if self.state == STARTING:
                    self._set_state(RUNNING)
                if event.device.startswith("cuda"):
                    self._gpu_timer.start()
                    self._poll_gpu()
                self._note(task=event.task, classes=event.classes, device=event.device,
                           dataset_note=event.dataset)
                self.log.emit(f"Training {event.task_description or event.task} on "
                              f"{event.device}: {event.total_steps} steps")
                self.started.emit(event)
            case Epoch():
                classes = self.start_info.classes if self.start_info is not None else None
                results = results_store.EpochResults.from_event(event, classes)
                self._saver.start(results_store.save_epoch, self.run_dir, results)   # PNG encoding off the GUI thread
                self._note(epochs_done=event.epoch)
                self.log.emit(_epoch_line(event))
                self.epoch.emit(event)
            case Checkpoint():
                self.checkpoint.emit(event)
            case Log():
                self.log.emit(event.message)

    def _on_end(self, event: Done | Error) -> None:
        self._gpu_timer.stop()
        self.last_event = event
        if isinstance(event, Done):
            status = run_listing.FINISHED if event.reason == "finished" else run_listing.STOPPED
            reason = "finished" if status == run_listing.FINISHED else "stopped by you"
            self._note(status=status, reason=reason, best=event.best,
                       ended=datetime.now().isoformat(timespec="seconds"))
            self.log.emit(f"The run {reason} after {event.global_step} steps "
                          f"({event.time_s:.1f} s of training).")
        else:
            message = event.message or "the run failed"
            hint = event.hint
            self._note(status=run_listing.FAILED, reason=message + (f" {hint}" if hint else ""),
                       ended=datetime.now().isoformat(timespec="seconds"))
            self.log.emit(f"The run ended: {message}" + (f" {hint}" if hint else ""))
            if event.traceback:
                self.log.emit(event.traceback.rstrip())
        self._set_state(ENDED)
        self.ended.emit(event)

    def _poll_gpu(self) -> None:
        if self.handle is None or not self.handle.is_alive():
            return
        from .hardware import gpu_memory_of
        self._gpu.start(gpu_memory_of, self.handle.process.pid)

    def _note(self, **fields) -> None:
        """Update run.json; a disk that refuses it is said once in the log, never raised
        into the window (the run's own files are the engine's to report)."""
        try:
            run_listing.update_meta(self.run_dir, **fields)
        except OSError as exc:
            if not self._note_failed:
                self.log.emit(f"The runs list's notes (run.json) could not be updated: {exc}")
            self._note_failed = True

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


def _background_priority(handle) -> None:
    """Training is background work: on a busy machine the window's thread should get the
    cores first (an idle core is still the worker's; the OS only weighs who waits)."""
    pid = getattr(getattr(handle, "process", None), "pid", None)
    if pid is None or not hasattr(os, "setpriority"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICE))
    except OSError:
        pass   # not allowed here: it trains at the window's priority


def end_reason(event) -> str:
    """The end of a run (a Done or an Error) in one sentence for the panel; "" for anything else."""
    if isinstance(event, Done):
        if event.reason == "finished":
            return f"Finished: {event.epoch} epochs, {event.global_step} steps."
        return f"Stopped at step {event.global_step}; {LAST} and {MODEL} are in the run folder."
    if not isinstance(event, Error):
        return ""
    message = event.message or "The run failed."
    if event.kind == CLOSED:
        return message
    return f"The run ended: {message}" + (f" {event.hint}" if event.hint else "")


def _epoch_line(event: Epoch) -> str:
    def fmt(d: dict) -> str:
        parts = []
        for k, v in d.items():
            if isinstance(v, float):
                parts.append(f"{k.replace('_', ' ')} {v:.1%}" if k in ("accuracy", "top5", "mean_iou",
                                                                        "pixel_accuracy") else f"{k} {v:.4g}")
        return ", ".join(parts)
    text = f"Epoch {event.epoch}: training {fmt(event.train)}"
    return text + (f"; validation {fmt(event.val)}" if event.val else "")
