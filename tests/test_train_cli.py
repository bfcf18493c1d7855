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
