"""The layers stay layers: the document model imports neither torch nor Qt, and the
compiler and the training engine never import Qt (DESIGN.md, "Layers enforced").

Checked twice: by importing in a fresh interpreter and looking at sys.modules,
and statically, by reading every source file's imports with `ast` (which also
catches an import on a code path the first check does not run)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "designer"
NO_QT = ("graph", "compile", "train", "inspect")


def loaded_after(code: str) -> list[str]:
    """The torch and PySide6 modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport sys\nprint(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'PySide6'}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True,
                         timeout=120).stdout
    return eval(out.strip().splitlines()[-1])  # noqa: S307 - our own probe's printed list


def test_the_document_model_imports_neither_torch_nor_qt():
    code = """
import designer, designer.graph
from designer import load_graph
from designer.graph import Graph, all_blocks
g = load_graph("lenet5")
assert g.analyze().total_params == 61706
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
    assert loaded_after(code) == []


def test_the_catalog_is_whole_whichever_declaration_is_imported_first():
    """Regression: importing designer.graph.composite first left the catalog with two blocks."""
    code = """
from designer.graph import composite
from designer.graph.block import all_blocks, get_block
assert get_block("Input").type == "Input"
assert len(all_blocks()) >= 30, len(all_blocks())
"""
    assert loaded_after(code) == []


@pytest.mark.parametrize("package", ["compile", "train"])
def test_the_compiler_and_the_trainer_do_not_import_qt(package):
    if not (PACKAGE / package / "__init__.py").is_file():
        pytest.skip(f"designer.{package} is not written yet")
    modules = sorted(p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
                     for p in (PACKAGE / package).rglob("*.py") if p.name != "__main__.py")
    code = "\n".join(f"import {m.removesuffix('.__init__')}" for m in modules)
    assert "PySide6" not in loaded_after(code)


def module_level_imports(tree: ast.Module):
    """Imports that run when the module is imported: everything outside function bodies."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_names(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [node.module or ""] if node.level == 0 else []


def sources(package: str):
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", NO_QT)
def test_no_source_file_of_the_lower_layers_mentions_qt(package):
    offenders = []
    for path in sources(package):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                    n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "pyqtgraph") for n in imported_names(node)):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_document_model_imports_torch_only_inside_functions():
    offenders = []
    for path in sources("graph"):
        for node in module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if any(n.split(".")[0] in ("torch", "torchvision") for n in imported_names(node)):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
    assert sources("graph"), "the checks above must have files to read"


def test_the_static_check_sees_imports_hidden_in_conditionals():
    """The checker itself: a module-level import under `if` or `try` counts, one in a function does not."""
    tree = ast.parse("if True:\n    import torch\ntry:\n    from torch import nn\nexcept ImportError:\n    pass\n"
                     "def f():\n    import torch\nclass C:\n    import torch.nn\n")
    found = [imported_names(n)[0] for n in module_level_imports(tree)]
    assert sorted(found) == ["torch", "torch", "torch.nn"]
