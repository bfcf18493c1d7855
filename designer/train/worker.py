"""Training in a separate process, for the GUI: a crash or an out-of-memory error
there cannot take the window down.

    handle = start_worker(document_json, config_dict, run_dir)
    handle.events           a multiprocessing Queue of events as dicts (designer.train.events.to_dict)
    handle.poll()           the events waiting now, as designer.train.events instances, without
                            blocking; when the process has died without a last event, an Error says so
    handle.pause() / resume() / stop()     flags the trainer checks between steps
    handle.is_alive(), handle.kill(), handle.join(timeout), handle.exitcode

    job = start_profile(document_json, options)   measure instead of train (designer.train.profile)
    job.poll(), job.cancel()

The process is started with the "spawn" method: it imports torch itself, shares no
state with the window, and works the same on Linux, macOS and Windows.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import queue
import traceback

from .events import CRASH, SETUP, TERMINAL, Error, Event, from_dict, to_dict


def _main(document_json: str, config_dict: dict, run_dir: str, resume: bool, events, pause, stop,
          init_weights: str | None = None) -> None:
    ended = []   # the engine's last event has gone out: nothing is sent after it

    def send(event: Event) -> None:
        events.put(to_dict(event))   # plain dicts through the pipe: only events.py knows their keys
        if isinstance(event, TERMINAL):
            ended.append(event)

    try:
        from designer.graph.errors import GraphError
        from designer.graph.fileformat import loads
        from .config import TrainConfig
        from .engine import Trainer
        from .errors import TrainSetupError
        try:
            graph = loads(document_json)
            config = TrainConfig.from_dict(config_dict)
        except (GraphError, TrainSetupError) as exc:
            send(Error(str(exc), "", SETUP))
            return
        Trainer(graph, config, run_dir, send, resume=resume, stop_event=stop, pause_event=pause,
                init_weights=init_weights).run()
    except BaseException as exc:  # noqa: BLE001 - whatever happens, the window hears of it
        if ended:
            return   # the engine has said it (a bug: with its traceback in the run folder's error.txt)
        send(Error(f"The training process failed: {type(exc).__name__}: {exc}",
                   "This is a bug in Network Designer; the traceback below says where.", CRASH,
                   traceback.format_exc()))


class TrainingHandle:
    def __init__(self, process, events, pause, stop):
        self.process = process
        self.events = events
        self._pause = pause
        self._stop = stop
        self.finished = False  # a Done or Error event has been taken from the queue

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self) -> None:
        self._stop.set()

    def is_alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()

    def join(self, timeout: float | None = None) -> None:
        self.process.join(timeout)

    @property
    def exitcode(self) -> int | None:
        return self.process.exitcode

    def poll(self, limit: int = 10000) -> list[Event]:
        """The events that have arrived, oldest first (at most `limit`). When the process
        has ended without a Done or Error event, the list ends with an Error saying so, once."""
        out = []
        alive = self.process.is_alive()
        while len(out) < limit:
            try:
                event = from_dict(self.events.get_nowait())
            except queue.Empty:
                break
            out.append(event)
            if isinstance(event, TERMINAL):
                self.finished = True
        if not alive and not self.finished and not out:
            self.finished = True
            code = self.process.exitcode
            out.append(died(code))
        return out


def died(exitcode) -> Error:
    """The Error for a training process that ended without a last event."""
    if exitcode is not None and exitcode < 0:
        import signal
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "an unknown signal"
        if -exitcode == getattr(signal, "SIGKILL", 9):
            return Error(f"The training process ended unexpectedly (exit code {exitcode}): it was killed ({name}).",
                         "The system kills a process that takes too much memory; if you did not end it, try a "
                         "smaller batch size.", CRASH)
        return Error(f"The training process ended unexpectedly (exit code {exitcode}: {name}).",
                     "This is a bug in Network Designer or in PyTorch.", CRASH)
    return Error(f"The training process ended unexpectedly (exit code {exitcode}).",
                 "This is a bug in Network Designer or in PyTorch.", CRASH)


def start_worker(document_json, config_dict: dict, run_dir, resume: bool = False,
                 init_weights=None) -> TrainingHandle:
    """Train `document_json` (the document as JSON text, or as a dict) with `config_dict`
    (TrainConfig.to_dict()) into `run_dir`, in a new process. `init_weights`: a .pt
    state dict (read through the safe loader) whose matching layers the network starts from."""
    if not isinstance(document_json, str):
        document_json = json.dumps(document_json)
    ctx = mp.get_context("spawn")
    events, pause, stop = ctx.Queue(), ctx.Event(), ctx.Event()
    process = ctx.Process(target=_main, name="network-designer-training", daemon=True,
                          args=(document_json, dict(config_dict), str(run_dir), resume, events, pause, stop,
                                str(init_weights) if init_weights else None))
    process.start()
    return TrainingHandle(process, events, pause, stop)


# ---- the profile job (designer.train.profile): measure a design away from the window ---------------
# Messages are plain dicts: {"progress": text}, then one {"result": Profile.to_message()} or {"error": text}.

def _profile_main(document_json: str, options: dict, messages) -> None:
    try:
        from designer.graph.errors import GraphError
        from designer.graph.fileformat import loads
        from .errors import TrainSetupError
        from .profile import profile_graph
        try:
            result = profile_graph(loads(document_json), **options,
                                   on_progress=lambda text: messages.put({"progress": text}))
        except (GraphError, TrainSetupError) as exc:
            messages.put({"error": str(exc)})
            return
        messages.put({"result": result.to_message()})
    except BaseException as exc:  # noqa: BLE001 - whatever happens, the window hears of it
        messages.put({"error": f"The measurement failed: {type(exc).__name__}: {exc}"})


class ProfileJob:
    """A measurement running in its own process: `poll()` gives the messages that have arrived."""

    def __init__(self, process, messages):
        self.process = process
        self.messages = messages
        self.finished = False

    def poll(self) -> list[dict]:
        out = []
        alive = self.process.is_alive()
        while True:
            try:
                message = self.messages.get_nowait()
            except queue.Empty:
                break
            out.append(message)
            self.finished = self.finished or "progress" not in message
        if not alive and not self.finished and not out:
            self.finished = True
            out.append({"error": f"The measuring process ended unexpectedly (exit code {self.process.exitcode}); "
                                 "it may have run out of memory: try smaller batch sizes."})
        return out

    def cancel(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)   # reaped, not left a zombie
        self.finished = True


def start_profile(document_json, options: dict) -> ProfileJob:
    """Measure `document_json` with designer.train.profile.profile_graph(**options) in a new process."""
    if not isinstance(document_json, str):
        document_json = json.dumps(document_json)
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    process = ctx.Process(target=_profile_main, name="network-designer-profile", daemon=True,
                          args=(document_json, dict(options), messages))
    process.start()
    return ProfileJob(process, messages)
