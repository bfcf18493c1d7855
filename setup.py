"""Which packages the wheel holds; everything else about the project is in pyproject.toml.

Besides designer/ and its sub-packages, two folders at the top of the repository ship
inside the package as data, where importlib.resources finds them (designer/bundled.py):

    presets/     -> designer.presets_data      the preset documents and their README
    resources/   -> designer.resources_data    sample images

They stay where they are in the repository; `package_dir` maps them, for a built wheel
and for `pip install -e .` alike (setuptools' editable finder maps them too). The script
that writes the presets, presets/build_presets.py, is no part of the package.
"""
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

DATA_PACKAGES = {"designer.presets_data": "presets", "designer.resources_data": "resources"}


class BuildPy(build_py):
    """build_py that takes only the __init__.py of the data packages, not the scripts beside the data."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        if package in DATA_PACKAGES:
            modules = [m for m in modules if m[1] == "__init__"]
        return modules


setup(
    packages=find_packages(include=["designer", "designer.*"]) + list(DATA_PACKAGES),
    package_dir=DATA_PACKAGES,
    package_data={"designer.presets_data": ["*.json", "README.md"],
                  "designer.resources_data": ["samples/*.png"]},
    include_package_data=False,
    cmdclass={"build_py": BuildPy},
)
