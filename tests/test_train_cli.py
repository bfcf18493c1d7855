"""`python -m designer train`: progress, summary, exit codes, resume."""
import pytest

from designer.__main__ import main
from designer.train.metrics_log import read

FAST = ["--threads", "1", "--limit", "200"]


def main_code(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # an unreadable document exits from the loader, as the shell sees it
        return exc.code


def test_train_prints_progress_and_a_summary(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "lenet5", "--dataset", "digits", "--epochs", "1", "--out", str(out)] + FAST) == 0
    captured = capsys.readouterr()
    assert "epoch 1/1 [" in captured.err and "samples/s" in captured.err and "ETA" in captured.err
    assert "epoch 1/1: train loss" in captured.err and "val loss" in captured.err
    summary = captured.out.strip().splitlines()[-1]
    assert summary.startswith("finished: 1 epoch, 5 steps in ") and "best val accuracy" in summary
    assert summary.endswith(f"→ {out}")
    for name in ("config.json", "metrics.csv", "model.pt", "last.pt", "best.pt"):
        assert (out / name).is_file()
    # the drawing trained is kept, as the window's runs keep it: `designer runs` compares networks
    from designer import load_graph
    from designer.graph.fileformat import dumps
    assert (out / "document.json").read_text(encoding="utf-8") == dumps(load_graph("lenet5").graph)

    # --resume reads config.json back; --epochs takes it further on the same curve
    assert main(["train", "lenet5", "--out", str(out), "--resume", "--epochs", "2"]) == 0
    assert "resumed at step 5" in capsys.readouterr().err
    rows = read(out / "metrics.csv")
    assert [int(r["global_step"]) for r in rows if r["kind"] == "step"] == list(range(1, 11))


@pytest.mark.parametrize("argv, message", [
    (["lenet5", "--dataset", "shapes"], "error: The network ends in 10 outputs but shapes has 3 classes"),
    (["lenet5", "--dataset", "imagenet"], "error: There is no dataset 'imagenet'"),
    (["lenet5", "--lr", "-1"], "error: lr must be above 0, not -1"),
    (["no_such_preset"], "error: "),
    (["lenet5", "--resume"], "error: There is no last.pt in"),
])
def test_setup_problems_exit_2_with_one_line(tmp_path, capsys, argv, message):
    code = main_code(["train"] + argv + ["--out", str(tmp_path / "run")] + FAST)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1, err


def test_the_progress_lines_come_from_the_typed_events():
    import io

    from designer.cli.train import Progress, summary_line
    from designer.train.events import Done, Epoch, Error, Log, Started, Step
    stream = io.StringIO()
    progress = Progress(stream)
    progress(Started(config={}, epochs=2, device="cpu (1 thread)", task="classification",
                     task_description="classification (10 classes)", dataset="digits", classes=[], train_size=40,
                     val_size=10, steps_per_epoch=4, total_steps=8, world_size=2, resumed_at=3, columns=[],
                     run_dir="out"))
    progress(Log("a note"))
    progress(Step(epoch=1, step=4, global_step=4, loss=0.25, lr=0.1, samples_per_s=100.0, time_s=1.0))
    progress(Epoch(epoch=1, global_step=4, time_s=1.0, lr=0.1, train={"loss": 0.5},
                   val={"loss": 0.75, "accuracy": 0.5}, train_time_s=1.0, samples_per_s=100.0))
    progress(Error("It broke.", "Try again."))
    assert stream.getvalue().splitlines() == [
        "classification (10 classes) on cpu (1 thread), 2 processes: 8 steps (4 an epoch), resumed at step 3",
        "a note",
        "epoch 1/2 [####################] step 4/4  loss 0.2500  100 samples/s  ETA …",  # one step: no rate yet
        "epoch 1/2: train loss 0.5000; val loss 0.7500, accuracy 50.0 %",
        "error: It broke.",
        "hint: Try again.",
    ]
    assert progress.last_epoch.val["accuracy"] == 0.5
    done = Done("finished", "out", {"epoch": 1, "metric": "accuracy", "value": 0.5}, 1, 4, 2.0)
    assert summary_line(done, progress) == \
        "finished: 1 epoch, 4 steps in 2.0 s, best val accuracy 50.0 % (epoch 1) → out"
