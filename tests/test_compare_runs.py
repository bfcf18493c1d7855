"""Runs compared (designer/train/run_compare.py, `designer runs`): only the settings that
differ, the best and last metrics side by side, the networks' difference, one long CSV."""
import csv
import json

from designer import load_graph
from designer.__main__ import main
from designer.graph.fileformat import dumps
from designer.train.config import TrainConfig
from designer.train.run_compare import compare_runs, find_runs, run_colour, write_long_csv

HEADER = "kind,epoch,step,global_step,time_s,lr,samples_per_s,loss,accuracy\n"


def fake_run(folder, graph, accuracies, **settings):
    """A run folder as the engine leaves it: config.json, metrics.csv (two steps an epoch),
    document.json."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(TrainConfig(**settings).to_json())
    rows, step = [HEADER], 0
    for epoch, acc in enumerate(accuracies, 1):
        for s in (1, 2):
            step += 1
            rows.append(f"step,{epoch},{s},{step},{step * 0.5},0.001,100.0,{2.0 / step},,\n")
        rows.append(f"train,{epoch},2,{step},{step * 0.5},0.001,,{1.5 / epoch},{acc - 0.1}\n")
        rows.append(f"val,{epoch},2,{step},{step * 0.5},0.001,,{1.0 / epoch},{acc}\n")
    (folder / "metrics.csv").write_text("".join(rows))
    (folder / "document.json").write_text(dumps(graph))
    return folder


def two_runs(tmp_path):
    lenet = load_graph("lenet5").graph
    wide = lenet.copy()
    wide.set_param("c1", "out_channels", 8)
    a = fake_run(tmp_path / "runs" / "a", lenet, [0.5, 0.7], lr=0.001, epochs=2, threads=1)
    b = fake_run(tmp_path / "runs" / "b", wide, [0.6, 0.65, 0.8], lr=0.003, epochs=3, threads=2)
    return a, b, lenet, wide


def test_the_table_shows_only_the_settings_that_differ_and_the_metrics_side_by_side(tmp_path):
    a, b, lenet, wide = two_runs(tmp_path)
    c = compare_runs([a, b])
    assert c.settings == ["epochs", "lr"]        # threads differ too, but say how, not what
    assert compare_runs([a, b], all_settings=True).settings == ["epochs", "lr", "threads"]
    rows = {r[0]: r for r in c.rows()}
    header = c.header()
    assert rows["a"][header.index("lr")] == "0.001" and rows["b"][header.index("lr")] == "0.003"
    assert rows["a"][header.index("best")] == "accuracy 70.0% (epoch 2)"
    assert rows["b"][header.index("best")] == "accuracy 80.0% (epoch 3)"
    assert rows["b"][header.index("last val loss")] == f"{1 / 3:.4g}"
    assert [r.colour for r in c.runs] == [run_colour(0), run_colour(1)]


def test_runs_of_different_networks_show_the_network_diff(tmp_path, capsys):
    a, b, lenet, wide = two_runs(tmp_path)
    c = compare_runs([a, b])
    assert list(c.diffs) == ["b"] and c.reference == "a"
    d = c.diffs["b"]
    assert [x.id for x in d.changed][:1] == ["c1"] and d.params_delta == 852
    assert main(["runs", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "Network of b against a:" in out and "out_channels 6 → 8" in out
    assert "0 added, 0 removed, 4 changed, +852 params" in out


def test_ranked_json_and_one_long_csv_with_a_run_column(tmp_path, capsys):
    a, b, *_ = two_runs(tmp_path)
    out_csv = tmp_path / "all.csv"
    assert main(["runs", str(a), str(b), "--rank", "--json", "--csv", str(out_csv)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in data["runs"]] == ["b", "a"]
    assert data["runs"][0]["best"]["value"] == 0.8
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:3] == ["run", "kind", "epoch"]
    assert sum(r["run"] == "a" for r in rows) == 2 * 4 and sum(r["run"] == "b" for r in rows) == 3 * 4
    assert write_long_csv([a], tmp_path / "one.csv") == 8


def test_a_folder_without_runs_says_so(tmp_path, capsys):
    assert find_runs([tmp_path]) == []
    assert main(["runs", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: no run folder (with config.json or run.json) in {tmp_path}\n"


def test_a_csv_that_cannot_be_written_is_one_line(tmp_path, capsys):
    a, b, *_ = two_runs(tmp_path)
    missing = tmp_path / "no such folder" / "all.csv"
    assert main(["runs", str(a), "--csv", str(missing)]) == 2
    assert capsys.readouterr().err == f"error: cannot write {missing}: No such file or directory\n"
