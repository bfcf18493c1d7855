"""The wheel carries everything `netdesigner` needs: built from this tree, installed into a
fresh virtual environment outside the checkout, it lists the presets, sums up VGG-16 and
draws LeNet-5 in its window.

The new environment borrows the test environment's dependencies (torch, PySide6, ...)
through a .pth file naming its site-packages folder. A path line in a .pth file runs no
.pth file of that folder, so the editable install of this checkout stays out of sight;
the tests check that `designer` comes from the wheel. Nothing is downloaded."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["designer", "presets", "resources", "setup.py", "pyproject.toml", "README.md"]
PRESET_COUNT = 19


def run(args, cwd, env=None, timeout=300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


class Installed:
    def __init__(self, wheel: Path, venv: Path, elsewhere: Path, env: dict):
        self.wheel, self.venv, self.elsewhere, self.env = wheel, venv, elsewhere, env
        self.bin = venv / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / ("python.exe" if os.name == "nt" else "python")

    def netdesigner(self, *args, **env) -> subprocess.CompletedProcess:
        return run([self.bin / "netdesigner", *args], cwd=self.elsewhere, env={**self.env, **env})

    def python_says(self, code: str) -> str:
        return run([self.python, "-c", code], cwd=self.elsewhere, env=self.env).stdout.strip()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    # Build from a copy, so that the build writes no build/ or egg-info into the checkout.
    source = tmp / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = tmp / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "-w", dist, source], cwd=tmp)
    [wheel] = dist.glob("*.whl")

    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    new_site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (new_site / "test-environment.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--quiet", wheel], cwd=tmp)

    elsewhere = tmp / "elsewhere"
    (elsewhere / "home").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")}
    env.update(QT_QPA_PLATFORM="offscreen", DESIGNER_OFFLINE="1", HOME=str(elsewhere / "home"),
               XDG_CONFIG_HOME=str(elsewhere / "home" / ".config"),
               XDG_DATA_HOME=str(elsewhere / "home" / ".local" / "share"))
    return Installed(wheel, venv, elsewhere, env)


def test_the_wheel_holds_the_presets_and_samples_but_not_the_preset_builder(installed):
    names = zipfile.ZipFile(installed.wheel).namelist()
    presets = [n for n in names if n.startswith("designer/presets_data/") and n.endswith(".json")]
    assert len(presets) == PRESET_COUNT
    assert "designer/resources_data/samples/digit_seven.png" in names
    assert not [n for n in names if n.endswith("build_presets.py")]
    assert not [n for n in names if n.startswith(("presets/", "resources/", "tests/"))]


def test_designer_comes_from_the_wheel_not_the_checkout(installed):
    where = installed.python_says("import designer, designer.bundled as b; print(designer.__file__); "
                                  "print(b.presets_dir()); print(b.samples_dir())").splitlines()
    for path in map(Path, where):
        assert path.is_relative_to(installed.venv), path
        assert not path.resolve().is_relative_to(ROOT), path


def test_netdesigner_presets_lists_nineteen(installed):
    lines = installed.netdesigner("presets").stdout.splitlines()
    assert len(lines) == PRESET_COUNT
    assert {line.split()[0] for line in lines} >= {"lenet5", "vgg16", "resnet50", "unet", "gan"}


def test_netdesigner_summary_of_vgg16(installed):
    assert "138,357,544" in installed.netdesigner("summary", "vgg16").stdout


def test_netdesigner_draws_lenet5(installed):
    installed.netdesigner("lenet5", "--screenshot", "out.png")
    picture = installed.elsewhere / "out.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
