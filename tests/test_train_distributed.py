"""`torchrun --nproc_per_node=2` (gloo, CPU) trains LeNet-5 for one epoch into one
run folder whose metrics match a single-process run's."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from designer.__main__ import main
from designer.train.metrics_log import read

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["train", "lenet5", "--dataset", "digits", "--epochs", "1", "--device", "cpu", "--threads", "1"]


@pytest.mark.slow
def test_torchrun_with_two_processes_matches_one_process(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT), DESIGNER_OFFLINE="1")
    two = tmp_path / "two"
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "designer"] + ARGS + ["--out", str(two)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 processes" in done.stderr
    assert done.stdout.count("finished: 1 epoch") == 1  # only rank 0 speaks
    assert sorted(p.name for p in two.iterdir()) == ["best.pt", "config.json", "document.json", "last.pt", "metrics.csv",
                                                 "model.pt"]

    one = tmp_path / "one"
    assert main(ARGS + ["--out", str(one)]) == 0
    rows_two, rows_one = read(two / "metrics.csv"), read(one / "metrics.csv")
    assert [(r["kind"], r["global_step"]) for r in rows_two] == [(r["kind"], r["global_step"]) for r in rows_one]
    # the same global batches (DistributedSampler splits each one over the processes), gradients averaged
    for a, b in zip(rows_two, rows_one):
        assert float(a["loss"]) == pytest.approx(float(b["loss"]), rel=1e-4), (a, b)
    val_two, val_one = rows_two[-1], rows_one[-1]
    assert val_two["kind"] == "val"
    assert float(val_two["accuracy"]) == pytest.approx(float(val_one["accuracy"]), abs=1 / 359)
