"""Faults in the window (issue 18): out of memory and a full disk in the real training process
show their sentences in the Train panel, never a dialog, and the window stays usable; the
dataset preview notes an unreadable image; a failing autosave says so once and the
document stays modified; a full disk at Save keeps the document modified."""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from designer.atomic import size_text
from test_ui_training import isolated, themed, window   # noqa: F401 - the Train panel's own fixtures

ROOT = Path(__file__).resolve().parents[1]

# Put on PYTHONPATH, this makes the spawned training process fail its first step the way the
# CPU allocator does, with a known amount of free memory. Nothing in the program reads it.
SITECUSTOMIZE = '''
import os
if os.environ.get("FAULTS_TEST_FREE_BYTES"):
    from designer.train import memory
    from designer.train.tasks.classification import Classification

    def out_of_memory(self, batch, ctx, meter):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
                           "memory: you tried to allocate 205520896 bytes. Error code 12 (Cannot allocate memory)")

    memory.cpu_free_bytes = lambda: int(os.environ["FAULTS_TEST_FREE_BYTES"])
    Classification.train_step = out_of_memory
'''

# The same, for a disk that fills up: every write of best.pt in the training process meets ENOSPC,
# as the operating system raises it, so that epoch 1's last.pt is kept.
FULL_DISK = '''
import errno, os
if os.environ.get("FAULTS_TEST_FULL_AT"):
    import torch
    real_save = torch.save

    def save(obj, target, *args, **kwargs):
        if os.environ["FAULTS_TEST_FULL_AT"] in str(target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, target, *args, **kwargs)

    torch.save = save
'''


def no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.slow
def test_out_of_memory_in_the_training_process_shows_in_the_train_panel(window, qtbot, tmp_path, monkeypatch,
                                                                         isolated):   # noqa: F811
    from designer.train import memory
    panel, c = window.training_panel, window.controller
    panel.devices.select("cpu")
    panel.params.threads.setValue(1)
    config = panel.params.config(panel.datasets.dataset, panel.devices.device)
    estimate = memory.Estimate.of(c.graph.analyze(), config.optimizer)
    free = int((estimate.fixed_bytes - estimate.params * 4 + 20 * estimate.activation_bytes) / memory.SAFETY) + 1
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hooks), str(ROOT)]))
    monkeypatch.setenv("FAULTS_TEST_FREE_BYTES", str(free))

    assert panel.start()
    qtbot.waitUntil(lambda: panel.session.state == "ended", timeout=120000)
    b = config.batch_size
    assert panel.problem.isVisible()
    assert panel.problem.text() == (
        f"The run ended: Out of memory at step 1 with a batch of {b} on cpu. Try a batch size of 16: by the "
        f"analysis's estimate it needs about {size_text(estimate.bytes_for(16))} to train, and "
        f"{size_text(free + estimate.params * 4)} are free for it.")
    assert isolated == []   # no dialog, no "bug"
    assert panel.session.last_event.kind == "step"
    # the window is usable: an edit and its undo work, and another run can start
    nodes = len(c.graph.nodes)
    window.view.add_block("ReLU", window.view.view_centre())
    assert len(c.graph.nodes) == nodes + 1
    c.document.undo()
    assert len(c.graph.nodes) == nodes and panel.start_action.isEnabled()


@pytest.mark.slow
def test_a_full_disk_in_the_training_process_shows_in_the_train_panel(window, qtbot, tmp_path, monkeypatch,
                                                                      isolated):   # noqa: F811
    panel = window.training_panel
    panel.devices.select("cpu")
    panel.datasets.select("digits")
    qtbot.waitUntil(lambda: panel.datasets.class_count == 10, timeout=60000)
    panel.params.threads.setValue(1)
    panel.params.epochs.setValue(2)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(FULL_DISK)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hooks), str(ROOT)]))
    monkeypatch.setenv("FAULTS_TEST_FULL_AT", "best.pt")

    assert panel.start()
    qtbot.waitUntil(lambda: panel.session.state == "ended", timeout=180000)
    run = panel.shown_run
    assert panel.problem.isVisible()
    text = panel.problem.text()
    assert text.startswith(f"The run ended: No space left on {run}: best.pt needs "), text
    assert "; the checkpoint of epoch 1 is kept (last.pt, step " in text
    assert "bug" not in text and isolated == []     # no dialog, no "bug"
    assert (run / "last.pt").is_file() and not (run / "best.pt").exists()
    assert not list(run.glob(".*.tmp"))
    assert panel.start_action.isEnabled()


def test_the_dataset_preview_notes_an_unreadable_image(qtbot, themed, tmp_path):   # noqa: F811
    from designer.ui.training.dataset_picker import DatasetPicker
    for name, value in (("cat", 40), ("dog", 200)):
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(3):
            image = QImage(12, 12, QImage.Format.Format_Grayscale8)
            image.fill(value + i)
            image.save(str(tmp_path / "pets" / name / f"{i}.png"))
    (tmp_path / "pets" / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a picture")
    picker = DatasetPicker()
    qtbot.addWidget(picker)
    picker.set_input_shape((1, 32, 32))
    picker.select(f"folder:{tmp_path / 'pets'}")
    picker.show()
    qtbot.waitUntil(lambda: picker.class_count == 2, timeout=60000)
    assert picker.skipped.isVisible()
    assert picker.skipped.text() == "1 unreadable image skipped: cat/broken.png."
    assert len(picker.preview.tiles) == 6


def test_a_failing_autosave_says_so_once_and_the_document_stays_modified(window, monkeypatch):   # noqa: F811
    c = window.controller
    window.view.add_block("ReLU", window.view.view_centre())
    assert c.modified
    said = []
    c.message.connect(said.append)
    monkeypatch.setattr(Path, "write_text", no_space)
    assert not window.autosave.write() and not window.autosave.write()
    folder = window.autosave.file.parent
    assert said == [f"Autosave failed (No space left on {folder}: {window.autosave.file.name} cannot be written); "
                    "your changes are only in this window until you save them."]
    assert window.statusBar().currentMessage() == said[0]
    assert c.modified and not window.autosave.file.exists()
    assert [p for p in folder.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    assert window.autosave.write() and said[-1] == "Autosave works again." and c.modified


def test_a_full_disk_at_save_keeps_the_document_modified(window, tmp_path, monkeypatch, isolated):   # noqa: F811
    c = window.controller
    path = tmp_path / "net.json"
    assert window._write(path)
    before = path.read_bytes()
    window.view.add_block("ReLU", window.view.view_centre())
    monkeypatch.setattr(Path, "write_bytes", no_space)
    assert not window.save()
    assert isolated[-1].startswith(f"No space left on {tmp_path}: net.json needs ")
    assert isolated[-1].endswith("; the previous net.json is kept.")
    assert c.modified and path.read_bytes() == before
