"""Sweeps (designer/train/sweep.py, `train --sweep`): a grid of settings trained one run after
another into one folder each, then ranked."""
import csv
import json

import pytest

from designer.__main__ import main
from designer.train.errors import TrainConfigError
from designer.train.sweep import grid, parse_axes, setting_name

FAST = ["--dataset", "digits", "--max-steps", "2", "--limit", "200", "--threads", "1"]


def test_a_2x2_sweep_of_lenet5_trains_four_runs_and_ranks_them(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(["train", "lenet5", "--sweep", "lr=0.001,0.003", "--sweep", "batch_size=32,64",
                 "--out", str(out)] + FAST)
    assert code == 0
    names = ["lr=0.001_batch_size=32", "lr=0.001_batch_size=64", "lr=0.003_batch_size=32", "lr=0.003_batch_size=64"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == names
    best = {}
    for name in names:
        run = out / name
        for f in ("config.json", "metrics.csv", "model.pt", "document.json", "run.json"):
            assert (run / f).is_file(), (name, f)
        config = json.loads((run / "config.json").read_text())
        assert f"lr={config['lr']:g}_batch_size={config['batch_size']}" == name
        with open(run / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert max(int(r["global_step"]) for r in rows) == 2
        best[name] = max(float(r["accuracy"]) for r in rows if r["kind"] == "val")
    assert json.loads((out / "sweep.json").read_text())["runs"] == names

    table = capsys.readouterr().out.split("\n\n")[-1].strip().splitlines()
    assert table[0].split()[:4] == ["#", "run", "batch_size", "lr"]
    ranked = [line.split()[1] for line in table[2:6]]
    assert [line.split()[0] for line in table[2:6]] == ["1", "2", "3", "4"]
    assert sorted(ranked) == names
    # best validation accuracy first (as metrics.csv says), ties in the order they ran
    assert ranked == sorted(names, key=lambda n: (-best[n], names.index(n)))

    # the same sweep again into the same folder: refused before anything is touched
    before = (out / names[0] / "run.json").read_text()
    code = main(["train", "lenet5", "--sweep", "lr=0.001,0.003", "--sweep", "batch_size=32,64",
                 "--out", str(out)] + FAST)
    err = capsys.readouterr().err
    assert code == 2
    assert err.endswith(f"error: {out / names[0]} holds a run already; resume it or choose another folder.\n")
    assert (out / names[0] / "run.json").read_text() == before


@pytest.mark.parametrize("spec, message", [
    ("lr=abc", "--sweep lr: 'abc' is not a number"),
    ("colour=red,blue", "--sweep 'colour': a sweep can vary lr, batch_size,"),
    ("lr", "--sweep 'lr' must read like lr=0.001,0.003"),
    ("batch_size=0,32", "batch_size=0: batch_size must be at least 1, not 0"),
])
def test_a_sweep_that_cannot_start_says_why_in_one_line(tmp_path, capsys, spec, message):
    code = main(["train", "lenet5", "--sweep", spec, "--out", str(tmp_path / "s")] + FAST)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert not (tmp_path / "s").exists()


def test_the_grid_varies_the_first_setting_slowest():
    axes = parse_axes(["lr=0.001,0.003", "batch-size=32,64", "nesterov=true,false"])
    points = grid(axes)
    assert len(points) == 8 and points[0] == {"lr": 0.001, "batch_size": 32, "nesterov": True}
    assert points[1] == {"lr": 0.001, "batch_size": 32, "nesterov": False}
    assert setting_name(points[-1]) == "lr=0.003_batch_size=64_nesterov=false"
    with pytest.raises(TrainConfigError, match="given twice"):
        parse_axes(["lr=0.1", "lr=0.2"])


def test_a_bug_in_a_run_ends_the_sweep_in_words_without_a_traceback(tmp_path, capsys, monkeypatch):
    def bug(self):
        raise ValueError("boom")
    monkeypatch.setattr("designer.train.engine.Trainer._train", bug)
    out = tmp_path / "s"
    code = main(["train", "lenet5", "--sweep", "lr=0.1,0.2", "--out", str(out)] + FAST)
    err = capsys.readouterr().err
    assert code == 1
    assert "error: Training stopped on an unexpected error: ValueError: boom\n" in err
    assert "Traceback" not in err and (out / "lr=0.1" / "error.txt").is_file()
    assert json.loads((out / "lr=0.1" / "run.json").read_text())["status"] == "failed"
    assert not (out / "lr=0.2").exists()   # a bug would end every run alike
