"""Training in a separate process, as the window runs it: events through a queue,
pause / stop flags, and a crash the window can see."""
import time

import numpy as np

from designer import load_graph
from designer.graph.fileformat import dumps
from designer.train.config import TrainConfig
from designer.train.worker import start_worker


def wait_for(handle, predicate, timeout=120.0):
    """Poll until an event satisfies `predicate`; returns every event seen."""
    seen, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        for event in handle.poll():
            seen.append(event)
            if predicate(event):
                return seen
        time.sleep(0.02)
    raise AssertionError(f"timed out; last events: {[e['type'] for e in seen[-5:]]}")


def test_a_worker_trains_pauses_and_stops(tmp_path):
    graph = load_graph("lenet5")
    config = TrainConfig.from_graph(graph, epochs=50, limit=200, threads=1)
    handle = start_worker(dumps(graph), config.to_dict(), tmp_path)
    try:
        events = wait_for(handle, lambda e: e["type"] in ("epoch", "error"))
        assert events[0]["type"] == "start" and events[-1]["type"] == "epoch", events[-1]
        assert isinstance(events[-1]["images"]["predictions"], np.ndarray)
        handle.pause()
        events = wait_for(handle, lambda e: e.get("message", "").startswith("paused at step"))
        time.sleep(0.5)
        assert not [e for e in handle.poll() if e["type"] == "step"]  # nothing moves while paused
        handle.resume()
        wait_for(handle, lambda e: e["type"] == "step")
        handle.stop()
        events = wait_for(handle, lambda e: e["type"] in ("done", "error"))
        assert events[-1]["type"] == "done" and events[-1]["reason"] == "stopped", events[-1]
        handle.join(30)
        assert handle.exitcode == 0 and handle.finished
        assert (tmp_path / "last.pt").is_file() and (tmp_path / "model.pt").is_file()
    finally:
        handle.kill()


def test_a_killed_worker_shows_as_an_error(tmp_path):
    graph = load_graph("lenet5")
    config = TrainConfig.from_graph(graph, epochs=50, threads=1)
    handle = start_worker(dumps(graph), config.to_dict(), tmp_path)
    wait_for(handle, lambda e: e["type"] == "step")
    handle.kill()
    handle.join(30)
    events = wait_for(handle, lambda e: e["type"] == "error", timeout=30)
    assert events[-1]["kind"] == "crash" and "ended unexpectedly" in events[-1]["message"]
    assert not handle.is_alive()
    assert handle.poll() == []  # said once
