"""The lecture's LeNet-5 numbers, through the command line and the Python API."""
import json
import subprocess
import sys

import torch

from designer import load_graph

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_summary_json_matches_the_lecture():
    out = subprocess.run([sys.executable, "-m", "designer", "summary", "lenet5", "--json"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    d = json.loads(out)
    assert d["total_params"] == 61706
    assert d["weight_params"] == 61470 == (5 * 5) * 6 + (5 * 5 * 6) * 16 + (16 * 5 * 5) * 120 + 120 * 84 + 84 * 10
    assert list(d["output_shapes"].values()) == [[10]]
    c1 = next(layer for layer in d["layers"] if layer["name"] == "c1")
    assert c1["output_shape"] == [6, 28, 28]
    assert d["errors"] == []


def test_lenet5_counts_equal_torch_modules_built_per_block():
    """Each block's own torch module, built on the meta device, has the analysed count."""
    g = load_graph("lenet5").graph
    a = g.analyze()
    with torch.device("meta"):
        x = torch.empty(1, 1, 32, 32)
        for node_id in a.order[1:]:
            info = a.nodes[node_id]
            module = g.spec(node_id).build(g.nodes[node_id].params, info.in_shapes)
            x = module(x)
            assert tuple(x.shape[1:]) == info.output_shape, node_id
            assert sum(p.numel() for p in module.parameters()) == info.params, node_id


def test_summary_exit_codes(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    r = subprocess.run([sys.executable, "-m", "designer", "summary", str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert "not valid JSON" in r.stderr and "Traceback" not in r.stderr
    g = load_graph("lenet5").graph
    g.set_param("c5", "kernel_size", 7)  # 5×5 input: the kernel no longer fits
    from designer import save_graph
    broken = tmp_path / "broken.json"
    save_graph(g, broken)
    r = subprocess.run([sys.executable, "-m", "designer", "summary", str(broken)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1
    assert "error at c5" in r.stdout and "larger than the padded input" in r.stdout
