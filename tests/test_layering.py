"""The layers stay layers (docs/ARCHITECTURE.md, "Layers").

The contracts are declared for import-linter in pyproject.toml ([tool.importlinter]) and
run here with `lint-imports`, which reads every import, function-local ones included.
What import-linter cannot see, when an import runs, is checked by importing in a fresh
interpreter: `import designer` loads neither Qt nor torch, and designer.graph loads no
torch until a block is built."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "designer"
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
QT = {"PySide6", "shiboken6", "pyqtgraph"}


def lint_imports(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.is_file():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the test extras (pip install -e '.[test]')")
    return subprocess.run([str(LINT_IMPORTS), "--config", str(PYPROJECT), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def contracts() -> list[dict]:
    from importlinter.api import read_configuration
    return read_configuration(str(PYPROJECT))["contracts_options"]


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " 0 broken" in result.stdout


def layers_of(contract: dict) -> list[set[str]]:
    return [{m.strip() for m in layer.replace(":", "|").split("|")} for layer in contract["layers"]]


def subpackages() -> set[str]:
    """designer's modules and packages one level down, but for the entry point."""
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name not in ("__init__.py", "__main__.py")}
    return {f"designer.{n}" for n in names}


def test_the_layer_contract_orders_every_part_of_the_package():
    [layered] = [c for c in contracts() if c["type"] == "layers"]
    layers = layers_of(layered)
    order = ["designer.ui", "designer.cli", "designer.train", "designer.document", "designer.compile",
             "designer.graph", "designer.atomic"]
    position = {m: i for i, layer in enumerate(layers) for m in layer}
    assert [position[m] for m in order] == sorted(position[m] for m in order)
    assert position["designer.introspection"] == position["designer.cli"]
    assert {"designer.layers", "designer.grid_arithmetic", "designer.bundled"} <= layers[-1]
    assert subpackages() <= set(position), "a new part of designer needs its place in the layer contract"


def test_the_no_qt_contract_covers_everything_below_the_window():
    [no_qt] = [c for c in contracts() if c["type"] == "forbidden" and QT <= set(c["forbidden_modules"])]
    assert set(no_qt["source_modules"]) == subpackages() - {"designer.ui"}
    assert "designer.cli" in no_qt["source_modules"]
    assert not no_qt.get("allow_indirect_imports")


def test_the_contracts_bite(tmp_path):
    """A copy of the package whose graph reaches up to the window, from inside a function, fails."""
    copy = tmp_path / "designer"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    model = copy / "graph" / "model.py"
    model.write_text(model.read_text(encoding="utf-8")
                     + "\n\ndef _window():\n    from designer.ui import main_window\n    return main_window\n",
                     encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = lint_imports(tmp_path, env)
    assert result.returncode != 0, result.stdout[-4000:]
    assert "designer.graph is not allowed to import designer.ui" in result.stdout
    assert "designer.graph.model -> designer.ui.main_window" in result.stdout
    assert "is not allowed to import PySide6" in result.stdout  # the Qt contract sees the chain through the window


def loaded_after(code: str) -> set[str]:
    """The top-level names of the modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True,
                         timeout=120).stdout
    return set(out.strip().splitlines()[-1].split())


def test_importing_designer_loads_neither_qt_nor_torch():
    assert loaded_after("import designer") & (QT | {"torch", "torchvision"}) == set()


def test_the_graph_loads_no_torch_at_import():
    """Every module of designer.graph imported (function-local imports do not run), and a
    document opened, analysed, grouped and ungrouped: still no torch, no Qt."""
    code = """
import pkgutil, importlib
import designer.graph
for m in pkgutil.walk_packages(designer.graph.__path__, "designer.graph."):
    importlib.import_module(m.name)
from designer import load_graph
from designer.graph import Graph, all_blocks
assert load_graph("lenet5").analyze().total_params == 61706
h = Graph()
h.add_node("Input", {"shape": [192, 28, 28]}, id="x")
h.add_node("Inception", id="inc")
h.add_node("Residual", {"out_channels": 64}, id="res")
h.chain("x", "inc", "res")
assert h.analyze().ok
h.ungroup("inc")
h.group(["res"], "mine")
assert h.analyze().ok
[b.summary(b.defaults()) for b in all_blocks()]
"""
    assert loaded_after(code) & (QT | {"torch", "torchvision"}) == set()


def test_the_catalog_is_whole_whichever_declaration_is_imported_first():
    """Regression: importing designer.graph.composite first left the catalog with two blocks."""
    code = """
from designer.graph import composite
from designer.graph.block import all_blocks, get_block
assert get_block("Input").type == "Input"
assert len(all_blocks()) >= 30, len(all_blocks())
"""
    assert loaded_after(code) & (QT | {"torch"}) == set()
