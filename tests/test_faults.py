"""Faults a user meets end in words and lose nothing: a full disk at each writer, out of
memory in a training step, unreadable data, a bug (issue 18). Each test injects the
fault, then checks the exact sentence, the exit code, that the previous file is whole
and loads, and that no temporary file is left."""
from __future__ import annotations

import errno
import json
import os
import struct
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import torch

from designer import load_graph, save_graph
from designer.__main__ import main
from designer.atomic import WriteFailed, size_text
from designer.graph.fileformat import dumps, load
from designer.train import checkpoint, memory
from designer.train.config import TrainConfig
from designer.train.engine import Trainer
from designer.train.events import Error
from designer.train.tasks.classification import Classification

FAST = ["--threads", "1", "--limit", "200"]
ALLOCATOR = ("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried "
             "to allocate 205520896 bytes. Error code 12 (Cannot allocate memory)")   # as VGG-16 under ulimit -v
Usage = namedtuple("Usage", "total used free")


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


def no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def train(argv, capsys) -> tuple[int, str]:
    code = main(["train"] + argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# ---- the document, the block library, exports: ENOSPC at the writer ----------------------------

def test_a_full_disk_keeps_the_saved_document(tmp_path, monkeypatch):
    path = tmp_path / "net.json"
    save_graph(load_graph("lenet5"), path)
    before = path.read_bytes()
    monkeypatch.setattr(Path, "write_bytes", no_space)
    with pytest.raises(Exception) as caught:
        save_graph(load_graph("googlenet"), path)
    size = len(dumps(load_graph("googlenet").graph).encode())
    assert str(caught.value) == (f"No space left on {tmp_path}: net.json needs {size_text(size)}; "
                                 "the previous net.json is kept.")
    monkeypatch.undo()
    assert path.read_bytes() == before and load(path).nodes
    assert temps(tmp_path) == []


def test_the_atomic_writer_says_what_the_disk_refused(tmp_path):
    from designer.atomic import atomic_path
    target = tmp_path / "model.onnx"
    for code, sentence in [
            (errno.ENOSPC, f"No space left on {tmp_path}: model.onnx needs 5 KB; nothing was written."),
            (errno.EROFS, f"{tmp_path} is on a read-only disk: model.onnx cannot be written; nothing was written."),
            (errno.EACCES, f"{tmp_path} may not be written to (permission denied): model.onnx cannot be written; "
                           "nothing was written.")]:
        with pytest.raises(WriteFailed) as caught:
            with atomic_path(target) as tmp:
                tmp.write_bytes(b"x" * 5000)
                raise OSError(code, os.strerror(code))
        assert str(caught.value) == sentence and caught.value.errno == code
        assert not target.exists() and temps(tmp_path) == []


def test_the_export_command_says_the_disk_is_full(tmp_path, monkeypatch, capsys):
    out, other = tmp_path / "net.pt", tmp_path / "mlp.pt"
    assert main(["export", "lenet5", "-o", str(out)]) == 0
    assert main(["export", "mlp", "-o", str(other)]) == 0
    before, needed = out.read_bytes(), other.stat().st_size
    real_write = Path.write_bytes

    def half_then_full(self, data):   # the disk takes a part, then refuses
        real_write(self, data[:1000])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_bytes", half_then_full)
    capsys.readouterr()
    assert main(["export", "mlp", "-o", str(out)]) == 2
    # the size named is the new file's, not the old one's nor the part written
    assert capsys.readouterr().err.strip() == (f"error: No space left on {tmp_path}: net.pt needs "
                                               f"{size_text(needed)}; the previous net.pt is kept.")
    monkeypatch.undo()
    assert out.read_bytes() == before and torch.jit.load(str(out)) is not None
    assert temps(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("suffix", [".pt", ".pt2"])
def test_a_refused_export_ends_in_words_not_an_abort(tmp_path, suffix):
    """torch.jit.save straight to a file the disk refuses aborts the process from C++ ("terminate
    called…", exit -6) and leaves its temporary file; the exports write through memory instead.
    A file-size limit stands for the full disk here (a real one needs a mount)."""
    import subprocess
    import sys
    script = ("import resource, signal, sys\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
              "from designer.__main__ import main\n"
              "sys.exit(main(['export', 'lenet5', '-o', sys.argv[1]]))\n")
    out = tmp_path / f"net{suffix}"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), PYTHONWARNINGS="ignore")
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert "terminate called" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("error: ") and done.stderr.strip().count("\n") == 0
    assert not out.exists() and temps(tmp_path) == []


def test_the_block_library_stays_as_it_was(tmp_path, monkeypatch):
    from designer.graph.model import CompositeDef
    from designer.ui.block_library import BlockLibrary
    monkeypatch.setattr("designer.ui.block_library.data_dir", lambda: tmp_path)
    library = BlockLibrary()
    inside = load_graph("lenet5").graph
    library.put(CompositeDef("first", inside, "one"))
    before = library.path.read_bytes()
    monkeypatch.setattr(Path, "write_text", no_space)
    with pytest.raises(WriteFailed) as caught:
        library.put(CompositeDef("second", inside, "two"))
    assert str(caught.value) == (f"No space left on {library.path.parent}: {library.path.name} needs "
                                 f"{size_text(len(before))}; the previous {library.path.name} is kept.")
    assert list(library.blocks) == ["first"]
    monkeypatch.undo()
    assert library.path.read_bytes() == before and json.loads(before)
    assert temps(library.path.parent) == []


def lenet(tmp_path, capsys, *extra):
    return train(["lenet5", "--dataset", "digits", "--out", str(tmp_path / "run")] + FAST + list(extra), capsys)


def fail_save_number(monkeypatch, n: int, torch_style: bool):
    """The n-th checkpoint (1: last.pt of epoch 1, 2: best.pt of epoch 1, 3: last.pt of epoch 2…) meets a
    full disk: torch's serializer writes a part and stops ("unexpected pos"), or the OS says ENOSPC."""
    real, calls = torch.save, []

    def save(obj, f, *args, **kwargs):
        calls.append(f)
        if len(calls) != n:
            return real(obj, f, *args, **kwargs)
        Path(f).write_bytes(b"PK" * 500)
        if torch_style:
            monkeypatch.setattr("designer.atomic.shutil.disk_usage", lambda _p: Usage(1 << 30, 1 << 30, 4096))
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 19712 vs 19600")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint.torch, "save", save)


@pytest.mark.parametrize("n, torch_style", [(1, False), (2, True), (3, False)])
def test_a_full_disk_at_a_checkpoint_stops_with_what_is_kept(tmp_path, monkeypatch, capsys, n, torch_style):
    run = tmp_path / "run"
    fail_save_number(monkeypatch, n, torch_style)
    code, err = lenet(tmp_path, capsys, "--epochs", "2")
    assert code == 1 and "bug" not in err
    name = "last.pt" if n in (1, 3) else "best.pt"
    if n == 1:
        assert f"error: No space left on {run}: last.pt needs " in err
        assert err.splitlines()[-2].endswith("; no checkpoint was written yet.")
        assert err.splitlines()[-1] == "hint: Free space and start the run again into an empty folder."
        assert not (run / "last.pt").exists()
    else:
        state = torch.load(run / "last.pt", weights_only=True)
        assert state["epoch"] == 1 and state["global_step"] == 5
        size = size_text((run / "last.pt").stat().st_size)
        assert err.splitlines()[-2] == (f"error: No space left on {run}: {name} needs {size}; the checkpoint of "
                                        "epoch 1 is kept (last.pt, step 5).")
        assert err.splitlines()[-1] == "hint: Free space, then resume the run (on the command line: --resume)."
    assert temps(run) == []
    if n == 2:   # freed, resumed: best.pt of epoch 1 is written after all
        monkeypatch.undo()
        assert lenet(tmp_path, capsys, "--resume", "--epochs", "1")[0] == 0
        assert torch.load(run / "best.pt", weights_only=True)["epoch"] == 1
    if n == 3:   # the hint is true: --resume continues from epoch 1
        monkeypatch.undo()
        code, err = lenet(tmp_path, capsys, "--resume", "--epochs", "2")
        assert code == 0 and "resumed at step 5" in err


def test_a_full_disk_for_metrics_csv(tmp_path, monkeypatch, capsys):
    import designer.train.metrics_log as metrics_log

    class FillingFile:   # the disk fills after 1,500 bytes of rows
        def __init__(self, file):
            self.file, self.room = file, 500

        def write(self, text):
            if len(text) > self.room:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self.room -= len(text)
            return self.file.write(text)

        def __getattr__(self, name):
            return getattr(self.file, name)

    monkeypatch.setattr(metrics_log, "open", lambda *a, **k: FillingFile(open(*a, **k)), raising=False)
    run = tmp_path / "run"
    code, err = lenet(tmp_path, capsys, "--epochs", "2")
    assert code == 1
    assert err.splitlines()[-2] == (f"error: No space left on {run}: metrics.csv cannot be written; "
                                    "no checkpoint was written yet.")
    assert (run / "metrics.csv").read_text().startswith("kind,epoch,step,global_step")


def test_a_full_disk_for_model_pt_keeps_the_checkpoints(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.jit, "save", no_space)
    run = tmp_path / "run"
    code, err = lenet(tmp_path, capsys, "--epochs", "1")
    assert code == 1
    assert err.splitlines()[-2].startswith(f"error: No space left on {run}: model.pt needs ")
    assert err.splitlines()[-2].endswith("; the checkpoint of epoch 1 is kept (last.pt, step 5).")
    assert not (run / "model.pt").exists() and temps(run) == []
    monkeypatch.undo()   # free space, resume: model.pt is written
    assert lenet(tmp_path, capsys, "--resume")[0] == 0
    assert torch.jit.load(str(run / "model.pt")) is not None


# ---- out of memory ---------------------------------------------------------------------------------

def fail_step(monkeypatch, exc, at_step: int = 1):
    real, count = Classification.train_step, []

    def step(self, batch, ctx, meter):
        count.append(1)
        if len(count) >= at_step:
            raise exc
        return real(self, batch, ctx, meter)

    monkeypatch.setattr(Classification, "train_step", step)


def test_out_of_memory_on_the_cpu_suggests_a_batch_from_the_estimate(tmp_path, monkeypatch, capsys):
    estimate = memory.Estimate.of(load_graph("lenet5").graph.analyze(), "sgd")
    # free memory (the weights held apart) in which 20 images fit by the estimate: 16, a power of two
    free = int((estimate.fixed_bytes - estimate.params * 4 + 20 * estimate.activation_bytes) / memory.SAFETY) + 1
    monkeypatch.setattr(memory, "cpu_free_bytes", lambda: free)
    fail_step(monkeypatch, RuntimeError(ALLOCATOR), at_step=4)   # step 1 of epoch 2 (3 steps an epoch)
    code, err = lenet(tmp_path, capsys, "--epochs", "2", "--batch-size", "64", "--optimizer", "sgd")
    assert code == 1 and "bug" not in err
    assert err.splitlines()[-2:] == [
        "error: Out of memory at step 4 with a batch of 64 on cpu.",
        f"hint: Try a batch size of 16: by the analysis's estimate it needs about "
        f"{size_text(estimate.bytes_for(16))} to train, and {size_text(free + estimate.params * 4)} are free for it."]
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["epoch"] == 1   # the epoch before is kept
    assert temps(tmp_path / "run") == []


def test_the_suggested_batch_follows_the_analysis(tmp_path):
    analysis = load_graph("vgg11").graph.analyze()
    estimate = memory.Estimate.of(analysis, "sgd")
    weights = estimate.params * 4
    free = int((estimate.fixed_bytes - weights + 20 * estimate.activation_bytes) / memory.SAFETY) + 1
    batch, hint = memory.suggest_batch(estimate, 64, free)
    assert batch == 16
    assert hint == (f"Try a batch size of 16: by the analysis's estimate it needs about "
                    f"{size_text(estimate.fixed_bytes + 16 * estimate.activation_bytes)} to train, and "
                    f"{size_text(free + weights)} are free for it.")
    # the estimate's per-image term against PyTorch: the outputs of every module, float32
    model = load_graph("vgg11").compile()
    values = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: values.append(out.numel()))
             for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    assert 1.0 <= estimate.activation_bytes / (4 * sum(values)) < 1.1
    none, hint = memory.suggest_batch(estimate, 64, weights // 4)
    assert none is None and hint.startswith("Even a batch of 1 needs about ")


@pytest.mark.parametrize("exc, told", [
    (MemoryError(), "error: Out of memory at step 1 with a batch of 32 on cpu."),
    (RuntimeError("DataLoader worker (pid(s) 4242) exited unexpectedly"),
     "error: Out of memory at step 1 with a batch of 32 on cpu: a data-loader worker was killed by the system "
     "(DataLoader worker (pid(s) 4242) exited unexpectedly)."),
])
def test_other_memory_faults_end_the_same_way(tmp_path, monkeypatch, capsys, exc, told):
    fail_step(monkeypatch, exc)
    code, err = lenet(tmp_path, capsys, "--epochs", "1")
    assert code == 1 and err.splitlines()[-2] == told and err.splitlines()[-1].startswith("hint: Try a batch")





def test_a_bug_says_so_once_with_the_traceback_in_error_txt(tmp_path, monkeypatch, capsys):
    fail_step(monkeypatch, ZeroDivisionError("division by zero"))
    run = tmp_path / "run"
    code, err = lenet(tmp_path, capsys, "--epochs", "1")
    assert code == 1
    assert err.splitlines()[-2:] == [
        "error: Training stopped on an unexpected error: ZeroDivisionError: division by zero",
        f"hint: This is a bug in Network Designer; the traceback is in {run / 'error.txt'}, and no checkpoint "
        "was written yet."]
    assert "ZeroDivisionError" in (run / "error.txt").read_text()

    events = []   # the Python API raises it still, after the one Error
    config = TrainConfig(threads=1, limit=100, epochs=1)
    with pytest.raises(ZeroDivisionError):
        Trainer(load_graph("lenet5").graph, config, tmp_path / "api", events.append).run()
    assert isinstance(events[-1], Error) and events[-1].kind == "crash" and events[-1].traceback


# ---- unreadable data --------------------------------------------------------------------------------

def image_folder(root: Path, per_class: int = 20) -> Path:
    from PIL import Image
    rng = np.random.default_rng(0)
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).save(root / c / f"{i}.png")
    return root


@pytest.fixture
def two_outputs(tmp_path):
    from designer.graph.model import SetParam
    doc = load_graph("lenet5")
    doc.graph.apply(SetParam("output", "out_features", 2))
    path = tmp_path / "lenet2.json"
    save_graph(doc, path)
    return str(path)


def test_a_corrupt_png_is_skipped_and_named(tmp_path, capsys, two_outputs):
    root = image_folder(tmp_path / "images")
    good = (root / "cat" / "0.png").read_bytes()
    (root / "cat" / "broken.png").write_bytes(good[:60])            # truncated
    (root / "dog" / "notes.txt").write_text("not an image")
    code, err = train([two_outputs, "--dataset", f"folder:{root}", "--epochs", "1", "--out",
                       str(tmp_path / "run"), "--threads", "1"], capsys)
    assert code == 0
    lines = err.splitlines()
    assert "1 unreadable image skipped: cat/broken.png" in lines
    assert "1 file that is not an image ignored" in lines
    assert any("40 images read from disk" in line for line in lines)


def test_a_class_without_a_readable_image_is_refused_before_the_first_step(tmp_path, capsys, two_outputs):
    root = image_folder(tmp_path / "images")
    for p in (root / "dog").iterdir():
        p.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code, err = train([two_outputs, "--dataset", f"folder:{root}", "--out", str(tmp_path / "run")], capsys)
    assert code == 2
    assert err.strip() == (f"error: The class folder {root / 'dog'} has no readable image (20 could not be "
                           "decoded: dog/0.png, dog/1.png, dog/10.png, dog/11.png, dog/12.png); every class "
                           "needs at least one.")
    assert not (tmp_path / "run" / "metrics.csv").exists()


def test_a_truncated_mnist_file_is_named_before_training(tmp_path, monkeypatch, capsys):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", 200), ("t10k", 50)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(n * 784))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, n) + bytes(n))
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:5000])
    monkeypatch.setenv("DESIGNER_DATA", str(tmp_path))
    monkeypatch.setenv("DESIGNER_OFFLINE", "1")
    code, err = train(["lenet5", "--dataset", "mnist", "--out", str(tmp_path / "run")], capsys)
    assert code == 2
    assert err.strip() == (f"error: The MNIST file {images} is damaged: it holds 5,000 bytes where its header "
                           "promises 156,816; delete it and download it again, or put a whole copy there.")
    assert not (tmp_path / "run").exists()


def test_a_training_process_that_died_is_told_truly():
    from designer.train.worker import died
    killed = died(-9)
    assert killed.message == "The training process ended unexpectedly (exit code -9): it was killed (SIGKILL)."
    assert killed.hint.startswith("The system kills a process that takes too much memory")
    assert died(-11).message == "The training process ended unexpectedly (exit code -11: SIGSEGV)."
    assert died(3).hint == "This is a bug in Network Designer or in PyTorch."


def test_a_folder_whose_run_wrote_no_checkpoint_is_not_offered_for_resuming(tmp_path):
    from designer.train.errors import TrainSetupError
    from designer.train.run_folder import RunFolder
    (tmp_path / "metrics.csv").write_text("kind,epoch\n")   # a run that ran out of memory at step 1
    with pytest.raises(TrainSetupError) as caught:
        RunFolder(tmp_path).check(resume=False)
    assert str(caught.value) == (f"{tmp_path} holds a run that ended before its first checkpoint; choose another "
                                 "folder, or delete that one.")
