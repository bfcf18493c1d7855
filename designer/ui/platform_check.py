"""Before Qt starts on Linux: is there a display, and can Qt's xcb plugin load?

On a fresh Debian, Ubuntu or Fedora desktop, Qt's xcb platform plugin lacks a few
system libraries (libxcb-cursor0 above all: Qt 6.5+ opens it at run time), and Qt
then aborts with "could not load the Qt platform plugin xcb" and a core dump. This
module finds the missing libraries first, without importing Qt: it reads the
plugin's dependencies with `ldd` and tries the one Qt opens by hand, and turns the
result into the one command that installs them. A DISPLAY that no X server answers
(left over from another session) would abort Qt too: a local one is tried on its socket.

`problem()` returns the sentence to print, or None when Qt can start.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

# Opened by the xcb plugin at run time (dlopen), so ldd does not list it.
RUNTIME_LIBRARIES = ("libxcb-cursor.so.0",)

# soname -> (Debian/Ubuntu package, Fedora/RHEL package)
PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)

WITHOUT_DISPLAY = ("draw it to a file without one: "
                   "QT_QPA_PLATFORM=offscreen python -m designer lenet5 --screenshot lenet5.png")


def problem(environ=None, platform: str | None = None) -> str | None:
    """The sentence that says why the window cannot open here, or None."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith("xcb"):
        return None                      # offscreen, wayland, vnc...: not ours to check
    if not chosen and environ.get("WAYLAND_DISPLAY"):
        return None                      # Qt takes the Wayland plugin first
    display = environ.get("DISPLAY")
    if not display:
        return ("No display to open the window on (DISPLAY is not set). Run it from a desktop "
                f"session, or {WITHOUT_DISPLAY}")
    missing = missing_libraries()
    if missing:
        return install_sentence(missing, distribution())
    if not display_answers(display):
        return (f"No display server answers at DISPLAY={display} (Qt would abort). Run it from a desktop "
                f"session, or check DISPLAY, or {WITHOUT_DISPLAY}")
    return None



def display_answers(display: str) -> bool:
    """Whether an X server listens for a local DISPLAY (":0", ":1.0"), on its socket file or the
    abstract socket of the same name; True for a remote one (host:10.0 over ssh), which Qt tries."""
    local = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if local is None:
        return True
    path = f"/tmp/.X11-unix/X{local.group(1)}"
    for address in (path, "\0" + path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(address)
                return True
            except OSError:
                continue
    return False


def missing_libraries() -> list[str]:
    """The shared libraries the xcb plugin needs and this system lacks (sonames)."""
    plugin = _xcb_plugin()
    if plugin is None:
        return []
    missing = parse_ldd(_ldd(plugin))
    for name in RUNTIME_LIBRARIES:
        if name not in missing and not _loadable(name):
            missing.append(name)
    return missing


def parse_ldd(text: str) -> list[str]:
    """Sonames that `ldd` reports as "not found", each once, in order."""
    seen: list[str] = []
    for name in _NOT_FOUND.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def distribution(os_release: str | None = None) -> str:
    """"apt", "dnf" or "" (unknown), from /etc/os-release's ID and ID_LIKE."""
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
    words = set()
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            words.update(value.strip().strip('"').lower().split())
    if words & {"debian", "ubuntu", "linuxmint", "pop"}:
        return "apt"
    if words & {"fedora", "rhel", "centos", "rocky", "almalinux"}:
        return "dnf"
    return ""


def install_sentence(missing: list[str], manager: str) -> str:
    """One line naming what is missing, then the command that installs it."""
    apt = _unique(PACKAGES[name][0] for name in missing if name in PACKAGES)
    dnf = _unique(PACKAGES[name][1] for name in missing if name in PACKAGES)
    unknown = [name for name in missing if name not in PACKAGES]
    lines = [f"Qt cannot open a window here: the system lacks {', '.join(missing)} "
             "(needed by Qt's xcb platform plugin). Install them, then start again:"]
    if apt and manager in ("apt", ""):
        lines.append("    sudo apt install " + " ".join(apt))
    if dnf and manager in ("dnf", ""):
        lines.append("    sudo dnf install " + " ".join(dnf))
    if unknown:
        lines.append("    (and the package that provides " + ", ".join(unknown) + ")")
    return "\n".join(lines)


def _unique(items) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")    # finds the package without importing Qt
    if spec is None or spec.origin is None:
        return None
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def _ldd(path: Path) -> str:
    try:
        return subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""                        # no ldd: let Qt try


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True
