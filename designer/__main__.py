"""`python -m designer` and the `netdesigner` script.

    python -m designer [FILE_OR_PRESET] [--screenshot PNG]     the window
    python -m designer summary FILE_OR_PRESET [--input C,H,W] [--json]
    python -m designer presets
    python -m designer export FILE_OR_PRESET -o OUT [--format ...]
    python -m designer train FILE_OR_PRESET --dataset NAME ...
    python -m designer import SOURCE -o OUT.json|OUT.pth [--input C,H,W]
    python -m designer diff A B [--json]
    python -m designer runs DIR...
    python -m designer profile FILE_OR_PRESET [--device auto|cpu|cuda] [--batch-sizes 1,8,32] [--json]
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

SUBCOMMANDS = {
    "summary": "designer.cli.summary",
    "presets": "designer.cli.presets",
    "export": "designer.cli.export",
    "train": "designer.cli.train",
    "import": "designer.cli.import_model",
    "diff": "designer.cli.diff",
    "runs": "designer.cli.runs",
    "profile": "designer.cli.profile",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[argv[0]])
        parser = argparse.ArgumentParser(prog=f"netdesigner {argv[0]}", description=module.__doc__)
        module.add_arguments(parser)
        return module.run(parser.parse_args(argv[1:]))
    parser = argparse.ArgumentParser(
        prog="netdesigner", description="Open the Network Designer window.",
        epilog="subcommands: " + ", ".join(SUBCOMMANDS) + " (try: netdesigner summary --help)")
    parser.add_argument("document", nargs="?", help="a .json document or a preset name (e.g. lenet5)")
    parser.add_argument("--screenshot", metavar="PNG", help="save the drawn window as a PNG and exit")
    args = parser.parse_args(argv)
    from designer.ui.app import run_app
    return run_app(args.document, screenshot=args.screenshot)


def entry() -> int:
    """The program's entry: main, where a reader that stops reading (`diff a b | head`) ends the
    output quietly, as other command-line tools do, instead of in a BrokenPipeError."""
    try:
        code = main()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # Python flushes stdout again at exit
        return 0


if __name__ == "__main__":
    sys.exit(entry())
