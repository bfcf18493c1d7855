"""Training in a separate process, as the window runs it: events through a queue,
pause / stop flags, and a crash the window can see."""
import queue
import threading
import time

import numpy as np

from designer import load_graph
from designer.graph.fileformat import dumps
from designer.graph.model import Graph
from designer.train.config import TrainConfig
from designer.train.events import CRASH, SETUP, Done, Epoch, Error, Log, Started, Step, from_dict
from designer.train.worker import _main, start_worker


def wait_for(handle, predicate, timeout=120.0):
    """Poll until an event satisfies `predicate`; returns every event seen."""
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        for event in handle.poll():
            seen.append(event)
            if predicate(event):
                return seen
        time.sleep(0.02)
    raise AssertionError(f"timed out; last events: {[type(e).__name__ for e in seen[-5:]]}")


def test_a_worker_trains_pauses_and_stops(tmp_path):
    graph = load_graph("lenet5").graph
    config = TrainConfig.from_graph(graph, epochs=50, limit=200, threads=1)
    handle = start_worker(dumps(graph), config.to_dict(), tmp_path)
    try:
        events = wait_for(handle, lambda e: isinstance(e, (Epoch, Error)))
        assert isinstance(events[0], Started) and isinstance(events[-1], Epoch), events[-1]
        assert isinstance(events[-1].images["predictions"], np.ndarray)
        handle.pause()
        events = wait_for(handle, lambda e: isinstance(e, Log) and e.message.startswith("paused at step"))
        time.sleep(0.5)
        assert not [e for e in handle.poll() if isinstance(e, Step)]  # nothing moves while paused
        handle.resume()
        wait_for(handle, lambda e: isinstance(e, Step))
        handle.stop()
        events = wait_for(handle, lambda e: isinstance(e, (Done, Error)))
        assert isinstance(events[-1], Done) and events[-1].reason == "stopped", events[-1]
        handle.join(30)
        assert handle.exitcode == 0 and handle.finished
        assert (tmp_path / "last.pt").is_file() and (tmp_path / "model.pt").is_file()
    finally:
        handle.kill()


def test_a_killed_worker_shows_as_an_error(tmp_path):
    graph = load_graph("lenet5").graph
    config = TrainConfig.from_graph(graph, epochs=50, threads=1)
    handle = start_worker(dumps(graph), config.to_dict(), tmp_path)
    wait_for(handle, lambda e: isinstance(e, Step))
    handle.kill()
    handle.join(30)
    events = wait_for(handle, lambda e: isinstance(e, Error), timeout=30)
    assert events[-1].kind == CRASH and "ended unexpectedly" in events[-1].message
    assert not handle.is_alive()
    assert handle.poll() == []  # said once


def _run_main(document_json, config: dict, run_dir) -> list:
    """The worker's entry point in this process; what it put in the pipe, read back."""
    pipe = queue.Queue()
    _main(document_json, config, str(run_dir), False, pipe, threading.Event(), threading.Event())
    sent = []
    while not pipe.empty():
        sent.append(pipe.get())
    assert all(isinstance(d, dict) for d in sent)   # plain dicts cross the pipe (events.to_dict)
    return [from_dict(d) for d in sent]


def test_the_worker_reports_bad_settings_and_crashes_as_errors(tmp_path, monkeypatch):
    graph = Graph()
    graph.add_node("Input", {"shape": [64], "name": "pixels"}, id="pixels")
    graph.add_node("Linear", {"out_features": 10}, id="scores")
    graph.connect("pixels", "scores")
    events = _run_main(dumps(graph), {"epochs": 0}, tmp_path / "a")
    assert events == [Error("epochs must be at least 1, not 0", "", SETUP)]

    from designer.train import engine

    def explode(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.Trainer, "run", explode)
    [crash] = _run_main(dumps(graph), {"epochs": 1}, tmp_path / "b")
    assert isinstance(crash, Error) and crash.kind == CRASH
    assert crash.message == "The training process failed: RuntimeError: boom"
    assert "Traceback" in crash.traceback and "explode" in crash.traceback
