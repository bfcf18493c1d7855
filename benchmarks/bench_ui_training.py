"""The window stays responsive while it trains (issue 7's target in brackets):

    gap   the longest time between two ticks of a 5 ms QTimer in the window while
          LeNet-5 trains on digits from the Train panel, from Start to the end  (≤ 50 ms)

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui_training.py [--epochs N]

The training runs in the worker process; the window draws the curves, bars and
results from its events. Before Start the panel's own background work (dataset
preview, GPU probe) is let finish, as a person would see it before pressing Start.
Prints the longest gap, the 99th percentile, the number of ticks and the run's
steps, and exits 1 when the target is missed. On a shared machine the wall-clock
gaps also count other programs' turns on the cores, so two more figures are
printed: the most CPU time the GUI thread itself spent between two ticks, and the
gaps of the same window sitting idle for 4 s just before (the machine's baseline).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("DESIGNER_NO_PRELOAD", "1")
os.environ.setdefault("DESIGNER_OFFLINE", "1")
_scratch = tempfile.mkdtemp(prefix="bench-ui-training-")
os.environ.setdefault("DESIGNER_SETTINGS", str(Path(_scratch) / "settings.ini"))
os.environ.setdefault("DESIGNER_DATA_DIR", _scratch)

GAP_TARGET_MS = 50.0
PROBE_MS = 5


def gap_stats(ticks: list[int], cpu: list[float]) -> tuple[float, float, float]:
    """(longest gap, 99th percentile gap, most GUI-thread CPU between two ticks), in ms."""
    gaps = sorted((b - a) / 1e6 for a, b in zip(ticks, ticks[1:]))
    work = max(((b - a) * 1e3 for a, b in zip(cpu, cpu[1:])), default=0.0)
    return gaps[-1], gaps[int(0.99 * (len(gaps) - 1))], work


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)

    from PySide6.QtCore import QElapsedTimer, QTimer
    from designer.train.events import Done, Error
    from designer.ui import theme
    from designer.ui.app import application
    from designer.ui.main_window import MainWindow

    app = application()
    theme.apply(app, dark=False)
    window = MainWindow(remember=False)
    window.resize(1500, 950)
    window.open_source("lenet5", ask=False)
    panel = window.training_panel
    window.show()
    panel.reveal()

    def wait(condition, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            if condition():
                return True
            time.sleep(0.005)
        return False

    panel.datasets.select("digits")
    wait(lambda: panel.datasets.class_count is not None and panel.devices.choices is not None
         and not panel.devices.note.text().startswith("Looking"), 120)
    panel.params.epochs.setValue(args.epochs)

    def probe_while(run_until, seconds: float):
        """Tick times (ns) and the GUI thread's CPU time (s) at each tick of a 5 ms timer."""
        clock = QElapsedTimer()
        ticks: list[int] = []
        cpu: list[float] = []
        probe = QTimer()
        probe.setInterval(PROBE_MS)
        probe.timeout.connect(lambda: (ticks.append(clock.nsecsElapsed()), cpu.append(time.thread_time())))
        clock.start()
        probe.start()
        run_until(seconds)
        probe.stop()
        return ticks, cpu

    # the same window doing nothing, for the machine's own hiccups (other programs on its cores)
    idle_ticks, idle_cpu = probe_while(lambda s: wait(lambda: False, s), 4.0)
    started = time.monotonic()

    def run(seconds):
        if not panel.start():
            return
        wait(lambda: panel.session.state == "ended", seconds)
    ticks, cpu = probe_while(run, 600)
    wall = time.monotonic() - started
    event = panel.session.last_event
    if not isinstance(event, Done):
        why = event.message if isinstance(event, Error) else panel.problem.text()
        print(f"bench_ui_training: the run did not finish: {why}", file=sys.stderr)
        return 2
    longest, p99, busiest = gap_stats(ticks, cpu)
    idle_longest, idle_p99, _ = gap_stats(idle_ticks, idle_cpu)
    ok = longest <= GAP_TARGET_MS
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"gap   longest {longest:.1f} ms, 99th percentile {p99:.1f} ms over {len(ticks)} ticks of a "
          f"{PROBE_MS} ms QTimer while training ({wall:.1f} s from Start to the end, worker start included; "
          f"{event.global_step} steps, {panel.plots.frames} plot redraws)   "
          f"[target ≤ {GAP_TARGET_MS:.0f} ms: {'ok' if ok else 'MISSED'}]")
    print(f"      the GUI thread's own work between two ticks: at most {busiest:.1f} ms of CPU")
    print(f"idle  the same window not training: longest gap {idle_longest:.1f} ms, 99th percentile "
          f"{idle_p99:.1f} ms (load average {load:.2f} on {os.cpu_count()} cores)")
    panel.shutdown()
    window.autosave.stop()
    window.scene.detach()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
