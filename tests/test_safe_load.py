"""Every .pt the product reads goes through torch.load(weights_only=True): a pickle that
would run code is refused, with one clear line, having run nothing."""
import ast
import builtins
import pickle
from pathlib import Path

import pytest
import torch

from designer import load_graph
from designer.__main__ import main
from designer.compile import UnsafeFileError, WeightsFileError, load_torch_file, load_weights
from designer.graph import GraphError

PACKAGE = Path(__file__).resolve().parents[1] / "designer"


class WritesAFile:
    """Unpickling this calls exec, which writes `target`."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (builtins.exec, (f"open({str(self.target)!r}, 'w').write('pwned')",))


def malicious(folder: Path, name: str, target: Path, zipped: bool = True) -> Path:
    path = folder / name
    payload = {"state_dict": {"c1.weight": torch.zeros(1)}, "graph": WritesAFile(target)}
    if zipped:
        torch.save(payload, path)
    else:  # the legacy, raw-pickle form
        with open(path, "wb") as f:
            pickle.dump(payload, f)
    return path


def test_the_payload_is_real_when_loaded_unsafely(tmp_path):
    """Control: without weights_only the file does write, so the refusals below mean something."""
    canary = tmp_path / "written_by_unsafe_load"
    path = malicious(tmp_path, "evil.pt", canary)
    torch.load(path, weights_only=False)
    assert canary.read_text() == "pwned"


@pytest.mark.parametrize("zipped", [True, False], ids=["torch.save", "raw pickle"])
def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path, zipped):
    canary = tmp_path / "never_written"
    path = malicious(tmp_path, "evil.pt", canary, zipped)
    with pytest.raises(WeightsFileError) as caught:
        load_torch_file(path)
    message = str(caught.value)
    assert "refused" in message and "\n" not in message
    if zipped:
        assert isinstance(caught.value, UnsafeFileError) and "exec" in message
    assert not canary.exists()


def test_every_way_in_refuses_it(tmp_path, capsys):
    canary = tmp_path / "never_written"
    path = malicious(tmp_path, "evil.pt", canary)
    with pytest.raises(GraphError, match="refused"):
        load_graph(path).graph
    with pytest.raises(GraphError, match="refused"):
        load_weights(torch.nn.Linear(1, 1), path)
    for argv in (["summary", str(path)], ["export", str(path), "-o", str(tmp_path / "out.pt")]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert "refused" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not canary.exists()
    assert not (tmp_path / "out.pt").exists()


def test_files_that_are_not_weights_get_one_line(tmp_path):
    (tmp_path / "text.pt").write_text('{"not": "torch"}')
    (tmp_path / "empty.pt").write_bytes(b"")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(tmp_path / "scripted.pt"))
    torch.save(torch.nn.Linear(2, 2), tmp_path / "whole_module.pt")  # a pickled class: refused too
    expected = {"text.pt": "refused", "empty.pt": "empty", "scripted.pt": "TorchScript",
                "whole_module.pt": "torch.nn.modules.linear.Linear", "missing.pt": "no such file"}
    for name, words in expected.items():
        with pytest.raises(WeightsFileError) as caught:
            load_torch_file(tmp_path / name)
        assert words in str(caught.value) and "\n" not in str(caught.value), (name, str(caught.value))


def test_plain_weights_still_load(tmp_path):
    torch.save({"w": torch.ones(2, 3), "step": 7, "name": "x"}, tmp_path / "ok.pt")
    loaded = load_torch_file(tmp_path / "ok.pt")
    assert loaded["step"] == 7 and torch.equal(loaded["w"], torch.ones(2, 3))


def _torch_load_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
            yield node


def test_the_product_reads_pt_files_only_with_weights_only():
    """A guard over the whole package: any torch.load must say weights_only=True."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for call in _torch_load_calls(ast.parse(path.read_text(encoding="utf-8"))):
            flag = next((k.value for k in call.keywords if k.arg == "weights_only"), None)
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{call.lineno}")
    assert not offenders, f"torch.load without weights_only=True: {offenders}"


@pytest.mark.parametrize("content", [b"", b"abcd", b"\x80\x02", b"PK\x03\x04" + b"\x00" * 40, bytes(range(256)) * 3])
def test_junk_files_give_one_line_errors(tmp_path, content):
    from designer.compile.errors import WeightsFileError
    from designer.compile.safe_load import load_torch_file
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(WeightsFileError) as caught:
        load_torch_file(path)
    assert "\n" not in str(caught.value) and "junk.pt" in str(caught.value)
