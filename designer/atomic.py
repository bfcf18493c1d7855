"""Writing a file so that a crash or an error mid-way leaves the old file whole:
write beside the target under a temporary name, flush, rename over it, then flush
the folder (POSIX) so that a power loss cannot undo the rename.
No torch and no Qt here: every layer writes its files through this module.

Temporary names carry the writer: `.NAME.PID-HOST-RANDOM.tmp`. A writer killed
mid-way (kill -9, a power cut) leaves its temporary file behind; the next write of
the same target removes those whose process is gone, never one a live process is
still writing (`pid_alive`, and only for temporary files made on this host).

A write the disk refuses (full, over quota, read-only, not ours to write) raises
`WriteFailed`, an OSError whose text is one sentence saying what could not be
written where, how much room it needed, and that the previous file is kept.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

# errors that mean "this place cannot take the file", whoever writes it
FULL = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None)
REFUSED = FULL | {errno.EROFS, errno.EACCES, errno.EPERM}
SLACK = 1 << 20           # a failed write with less free space than this left is taken for a full disk
LEGACY_AGE_S = 3600       # temporary files of older versions (no PID in the name) older than this are litter


class WriteFailed(OSError):
    """A file could not be written because of where it goes. `str()` is one sentence;
    `reason()` is its first half, for callers that say themselves what is kept."""

    def __init__(self, target, code: int, needed: int | None = None, kept: bool | None = None):
        super().__init__(code, os.strerror(code), str(target))
        self.target = Path(target)
        self.needed = needed          # bytes the file needed, when known
        self.kept = self.target.exists() if kept is None else kept   # the previous file is there, whole

    @property
    def full(self) -> bool:
        return self.errno in FULL

    def reason(self) -> str:
        folder, name = folder_of(self.target), self.target.name
        if self.errno == errno.ENOSPC or (self.full and self.errno != getattr(errno, "EDQUOT", None)):
            where = f"No space left on {folder}"
        elif self.full:
            where = f"The disk quota is used up on {folder}"
        elif self.errno == errno.EROFS:
            return f"{folder} is on a read-only disk: {name} cannot be written"
        else:
            return f"{folder} may not be written to (permission denied): {name} cannot be written"
        return f"{where}: {name} needs {size_text(self.needed)}" if self.needed else \
            f"{where}: {name} cannot be written"

    def __str__(self) -> str:
        kept = f"the previous {self.target.name} is kept" if self.kept else "nothing was written"
        return f"{self.reason()}; {kept}."

    def __reduce__(self):   # crosses process boundaries whole
        return type(self), (str(self.target), self.errno, self.needed, self.kept)


def size_text(n: int) -> str:
    """Bytes for a person: 0.8 MB, 12 KB, 3.1 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if n >= scale / 10:
            return f"{n / scale:.1f} {unit}"
    return f"{max(1, round(n / 1e3))} KB"


def folder_of(target) -> Path:
    target = Path(target)
    return target.parent if str(target.parent) else Path(".")


def write_failure(exc: BaseException, target, needed: int | None = None, written: int = 0,
                  kept: bool | None = None) -> WriteFailed | None:
    """`exc` as a WriteFailed when the place `target` goes to refused it: an OSError with
    ENOSPC, EDQUOT, EROFS, EACCES or EPERM, or a writer's failure that names no OS error
    (torch's serializer says "unexpected pos …") while the disk has no room left for the rest.
    None when it is something else."""
    if isinstance(exc, WriteFailed):
        return exc
    if isinstance(exc, OSError) and exc.errno in REFUSED:
        return WriteFailed(target, exc.errno, needed, kept)
    if isinstance(exc, OSError) and exc.errno is not None:
        return None   # the OS named another cause (no such folder, a name too long…): not the room left
    if isinstance(exc, (OSError, RuntimeError)):
        try:
            free = shutil.disk_usage(folder_of(target)).free
        except OSError:
            return None
        if free < max((needed or 0) - written, 0) + SLACK:
            return WriteFailed(target, errno.ENOSPC, needed or written or None, kept)
    return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs now (on this machine)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # PermissionError: it exists, owned by someone else
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:
    import ctypes   # os.kill(pid, 0) sends Ctrl-C on Windows; ask for a handle instead
    handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)   # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    ctypes.windll.kernel32.CloseHandle(handle)
    return True


_HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]
_TEMP = re.compile(r"(\d+)-([0-9a-f]{6})-[0-9a-f]{8}")
_LEGACY = re.compile(r"[a-z0-9_]{8}")   # tempfile.mkstemp's names, from versions before the PID was in it


def _temp_name(target: Path) -> str:
    return f".{target.name}.{os.getpid()}-{_HOST}-{secrets.token_hex(4)}.tmp"


def _is_litter(entry: os.DirEntry, prefix: str) -> bool:
    name = entry.name
    if not (name.startswith(prefix) and name.endswith(".tmp")):
        return False
    middle = name[len(prefix):-len(".tmp")]
    m = _TEMP.fullmatch(middle)
    if m:
        return m.group(2) == _HOST and not pid_alive(int(m.group(1)))
    if _LEGACY.fullmatch(middle):
        try:
            return time.time() - entry.stat(follow_symlinks=False).st_mtime > LEGACY_AGE_S
        except OSError:
            return False
    return False


def remove_litter(target) -> list[Path]:
    """Remove the temporary files and folders that dead writers of `target` left beside it;
    returns what was removed. Never touches one whose writer still runs."""
    target = Path(target)
    folder = folder_of(target)
    prefix = f".{target.name}."
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _is_litter(entry, prefix):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass   # another writer removed it first, or it is not ours to remove
    return removed


def sync_folder(folder) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass   # some file systems do not sync folders; the rename is as durable as they make it
    finally:
        os.close(fd)


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _new_temp(target: Path, folder: Path, make_dir: bool) -> Path:
    while True:
        tmp = folder / _temp_name(target)
        try:
            if make_dir:
                os.mkdir(tmp, 0o700)
            else:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return tmp
        except FileExistsError:
            continue


def _refused(exc: BaseException, target: Path, needed: int | None, written: int, kept: bool):
    failure = write_failure(exc, target, needed, written, kept)
    if failure is None or failure is exc:
        return None
    return failure


@contextmanager
def atomic_path(target, size_hint: int | None = None):
    """Yields a temporary path in the target's folder; on success it replaces the
    target, on any error it is removed and the target is untouched. A refusal of the
    disk is raised as WriteFailed (`size_hint`: the bytes the file will need, when the
    writer knows them better than the old file's size)."""
    target = Path(target)
    folder = folder_of(target)
    kept = target.exists()
    old = _size(target) if kept else 0
    remove_litter(target)
    tmp = None
    try:
        tmp = _new_temp(target, folder, make_dir=False)
        try:   # the mode of the file replaced, else the usual one
            os.chmod(tmp, target.stat().st_mode & 0o777 if kept else 0o644)
        except OSError:
            pass
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
        sync_folder(folder)
    except BaseException as exc:
        written = _size(tmp) if tmp is not None else 0
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        failure = _refused(exc, target, size_hint or max(old, written) or None, written, kept)
        if failure is not None:
            raise failure from exc
        raise


@contextmanager
def atomic_folder(target):
    """For writers that make several files named after the target (ONNX with its
    external weights): yields a temporary folder; on success every file in it is
    moved beside the target, the one named like the target last."""
    target = Path(target)
    folder = folder_of(target)
    kept = target.exists()
    remove_litter(target)
    tmp = None
    try:
        tmp = _new_temp(target, folder, make_dir=True)
        yield tmp
        produced = sorted(tmp.iterdir(), key=lambda p: p.name == target.name)
        for p in produced:
            with open(p, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(p, folder / p.name)
        sync_folder(folder)
    except BaseException as exc:
        written = sum(_size(p) for p in tmp.iterdir()) if tmp is not None and tmp.is_dir() else 0
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        failure = _refused(exc, target, written or None, written, kept)
        if failure is not None:
            raise failure from exc
        raise
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
