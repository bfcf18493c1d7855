"""Before Qt starts: a missing display or missing xcb libraries end in one sentence, not Qt's abort."""
import os
import subprocess
import sys

from designer.ui import platform_check

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)
"""

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'
ROCKY = 'ID="rocky"\nID_LIKE="rhel centos fedora"\n'


def test_ldd_not_found_lines_are_read_once_each():
    assert platform_check.parse_ldd(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert platform_check.parse_ldd("") == []


def test_the_package_manager_follows_os_release():
    assert platform_check.distribution(DEBIAN) == "apt"
    assert platform_check.distribution(UBUNTU) == "apt"
    assert platform_check.distribution(FEDORA) == "dnf"
    assert platform_check.distribution(ROCKY) == "dnf"
    assert platform_check.distribution("ID=arch\n") == ""


def test_missing_libraries_become_one_install_command(monkeypatch):
    monkeypatch.setattr(platform_check, "_ldd", lambda path: LDD_OUTPUT)
    monkeypatch.setattr(platform_check, "_loadable", lambda name: False)
    monkeypatch.setattr(platform_check, "distribution", lambda: "apt")
    if platform_check._xcb_plugin() is None:        # a PySide6 wheel without the xcb plugin
        monkeypatch.setattr(platform_check, "_xcb_plugin", lambda: "libqxcb.so")
    assert platform_check.problem({"DISPLAY": ":0"}, "linux") == (
        "Qt cannot open a window here: the system lacks libxcb-icccm.so.4, libxcb-keysyms.so.1, "
        "libxcb-cursor.so.0 (needed by Qt's xcb platform plugin). Install them, then start again:\n"
        "    sudo apt install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0")


def test_dnf_and_unknown_systems():
    missing = ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libweird.so.2"]
    assert platform_check.install_sentence(missing, "dnf").splitlines()[1:] == [
        "    sudo dnf install xcb-util-cursor xcb-util-wm",
        "    (and the package that provides libweird.so.2)"]
    unknown = platform_check.install_sentence(missing[:2], "").splitlines()[1:]
    assert unknown == ["    sudo apt install libxcb-cursor0 libxcb-icccm4",
                       "    sudo dnf install xcb-util-cursor xcb-util-wm"]


def test_other_platforms_and_plugins_are_not_checked(monkeypatch):
    monkeypatch.setattr(platform_check, "missing_libraries", lambda: ["libxcb-cursor.so.0"])
    assert platform_check.problem({"DISPLAY": ":0"}, "darwin") is None
    assert platform_check.problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert platform_check.problem({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux") is None
    assert platform_check.problem({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}, "linux").startswith(
        "Qt cannot open a window here")


def test_no_display_is_one_sentence_from_the_command_line():
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "designer", "lenet5"], env=env,
                          capture_output=True, text=True, timeout=120)
    if not sys.platform.startswith("linux"):
        return
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "No display to open the window on (DISPLAY is not set). Run it from a desktop session, "
        "or draw it to a file without one: "
        "QT_QPA_PLATFORM=offscreen python -m designer lenet5 --screenshot lenet5.png")
    assert "Traceback" not in done.stderr


def test_a_display_no_server_answers_is_one_sentence_not_qts_abort(tmp_path):
    """DISPLAY left over from another session (or a server that has gone): Qt aborts with a core
    dump; the check says so first. A local X server is found by its socket, a remote one is Qt's to try."""
    import socket
    free = next(n for n in range(500, 600) if not os.path.exists(f"/tmp/.X11-unix/X{n}"))
    assert not platform_check.display_answers(f":{free}")
    assert platform_check.display_answers("localhost:10.0")       # ssh's forwarding: not checked here
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["DISPLAY"] = f":{free}.0"
    done = subprocess.run([sys.executable, "-m", "designer", "lenet5"], env=env,
                          capture_output=True, text=True, timeout=120)
    if not sys.platform.startswith("linux") or platform_check.missing_libraries():
        return
    assert (done.returncode, done.stderr.strip()) == (1, (
        f"No display server answers at DISPLAY=:{free}.0 (Qt would abort). Run it from a desktop session, "
        "or check DISPLAY, or draw it to a file without one: "
        "QT_QPA_PLATFORM=offscreen python -m designer lenet5 --screenshot lenet5.png"))
    # a server listening on the abstract socket of that name answers
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(f"\0/tmp/.X11-unix/X{free}")
        server.listen(1)
        assert platform_check.display_answers(f":{free}")
