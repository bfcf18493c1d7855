"""Killed writes (issue 18): temporary files carry their writer's PID; the next write of
the same target removes those of dead writers, never one a live process is writing,
and the folder is synced after the rename."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from designer import load_graph, save_graph
from designer import atomic
from designer.atomic import atomic_path, remove_litter

ROOT = Path(__file__).resolve().parents[1]


def temps(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".tmp"))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_names_carry_the_writer(tmp_path):
    seen = []
    with atomic_path(tmp_path / "doc.json") as tmp:
        seen.append(tmp.name)
        tmp.write_text("{}")
    assert seen[0].startswith(f".doc.json.{os.getpid()}-") and seen[0].endswith(".tmp")
    assert temps(tmp_path, "doc.json") == []


def test_leftovers_of_dead_writers_go_and_a_live_writers_stay(tmp_path):
    target = tmp_path / "doc.json"
    target.write_text('{"old": true}')
    host = atomic._HOST
    dead = tmp_path / f".doc.json.{dead_pid()}-{host}-0badc0de.tmp"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".doc.json.{sleeper.pid}-{host}-00c0ffee.tmp"
        elsewhere = tmp_path / f".doc.json.{dead_pid()}-ffffff-00000000.tmp"   # another host's: not ours to judge
        legacy_old, legacy_new = tmp_path / ".doc.json.abcd1234.tmp", tmp_path / ".doc.json.wxyz9876.tmp"
        other_target = tmp_path / f".doc.json.bak.{dead_pid()}-{host}-11111111.tmp"
        for p in (dead, live, elsewhere, legacy_old, legacy_new, other_target):
            p.write_text("half")
        hour_ago = time.time() - 2 * atomic.LEGACY_AGE_S
        os.utime(legacy_old, (hour_ago, hour_ago))
        save_graph(load_graph("lenet5"), target)
        left = set(temps(tmp_path, "doc.json"))
        assert left == {live.name, elsewhere.name, legacy_new.name, other_target.name}
        assert load_graph(str(target)).graph.nodes
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_litter(target) == [live]   # once its writer is gone


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    order = []
    real_replace = os.replace
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (order.append("replace"), real_replace(a, b)))
    monkeypatch.setattr(atomic, "sync_folder", lambda folder: order.append(("sync", Path(folder))))
    with atomic_path(tmp_path / "x.txt") as tmp:
        tmp.write_text("x")
    assert order == ["replace", ("sync", tmp_path)]
    atomic.sync_folder(tmp_path)   # the real one runs on this platform without raising


SAVER = """
import sys
from designer import load_graph, save_graph
doc = load_graph("googlenet")
print("ready", flush=True)
while True:
    save_graph(doc, sys.argv[1])
"""


def test_twelve_kills_during_saves_then_one_save_leaves_a_whole_document_and_no_litter(tmp_path):
    target = tmp_path / "doc.json"
    rng = random.Random(18)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    litter = 0
    for _ in range(12):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(target)], stdout=subprocess.PIPE, env=env)
        assert saver.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.3))
        saver.kill()   # SIGKILL: no clean-up runs
        saver.wait()
        saver.stdout.close()
        litter = max(litter, len(temps(tmp_path, "doc.json")))
    save_graph(load_graph("googlenet"), target)
    assert load_graph(str(target)).graph.nodes
    assert temps(tmp_path, "doc.json") == []
    print(f"at most {litter} temporary file(s) were left between kills")


def test_an_os_error_with_another_cause_is_not_taken_for_a_full_disk(tmp_path, monkeypatch):
    import errno
    from collections import namedtuple
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr("designer.atomic.shutil.disk_usage", lambda _p: Usage(1 << 30, 1 << 30, 0))
    gone = OSError(errno.ENOENT, os.strerror(errno.ENOENT))
    assert atomic.write_failure(gone, tmp_path / "x.csv") is None
    torn = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1000 vs 968")
    assert str(atomic.write_failure(torn, tmp_path / "x.pt", needed=2000)) == \
        f"No space left on {tmp_path}: x.pt needs 2 KB; nothing was written."
