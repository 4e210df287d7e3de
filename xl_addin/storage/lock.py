"""Advisory locks: one run at a time per workbook (or per folder).

``with locked(path):`` holds the lock of ``path`` (a workbook file or a folder such as the
regional folder) for the block. A second run that asks for the same lock waits up to
:func:`lock_timeout` seconds (5 s; ``XL_ADDIN_LOCK_TIMEOUT`` changes it), then raises
:class:`LockBusy` (exit 2: "another xl-addin run is using ..."), so a recalc or import
always reads the file the previous run saved and no Run log row is lost or doubled.

The lock is a hidden file beside the path, ``.~xl_addin-lock.<name>``, locked with
``flock`` (``msvcrt.locking`` on Windows). It is never an Excel (``~$name``) or LibreOffice
(``.~lock.name#``) owner file, and :func:`~xl_addin.storage.check_not_locked` does not take
it for one. The holder removes the file when it is done; a run that was killed leaves it
behind, unlocked (the system releases a dead process's locks), and the next run simply
takes it. The lock file is opened without following symlinks; a symlink planted in its
place is removed, never followed.

Locks are advisory (only xl_addin runs honour them) and re-entrant within one process:
:func:`~xl_addin.storage.write_atomic` takes the target's lock itself, so a command that
already holds it (read, compute, save) does not wait for itself. Two paths to the same file
(a symlink and its target) share one lock.
"""
from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from pathlib import Path
from typing import Iterator

from ..errors import WorkbookError
from .errors import storage_error

__all__ = ["locked", "LockBusy", "lock_path", "lock_timeout", "LOCK_PREFIX", "DEFAULT_TIMEOUT"]

LOCK_PREFIX = ".~xl_addin-lock."
DEFAULT_TIMEOUT = 5.0
_POLL = 0.05

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class LockBusy(WorkbookError):
    """Another run holds the lock of this workbook or folder (exit 2)."""


_held: dict[str, list[int]] = {}      # lock file -> [fd, depth], this process's locks
_guard = threading.RLock()


def lock_timeout() -> float:
    """Seconds a run waits for another run's lock: ``XL_ADDIN_LOCK_TIMEOUT`` or 5."""
    try:
        return max(0.0, float(os.environ.get("XL_ADDIN_LOCK_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def lock_path(path: Path | str) -> Path:
    """The lock file of ``path`` (symlinks resolved): ``.~xl_addin-lock.<name>`` beside it."""
    real = Path(os.path.realpath(path))
    return real.with_name(LOCK_PREFIX + real.name)


def _open(lock: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(lock, flags, 0o666)
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
    os.unlink(lock)                    # a symlink in our lock file's place: never follow it
    return os.open(lock, flags | os.O_EXCL, 0o666)


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except (BlockingIOError, PermissionError):
        return False
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EDEADLK):
            return False
        raise


def _holder(lock: Path) -> str:
    try:
        with open(lock, "rb") as f:
            pid = f.read(40).decode("ascii", "replace").split()
        return f" (process {pid[0]})" if pid and pid[0].isdigit() else ""
    except OSError:
        return ""


def _acquire(path: Path, lock: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        fd = _open(lock)
        try:
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockBusy(f"{path}: another xl-addin run is using it{_holder(lock)}; "
                                   f"waited {timeout:g} s. Let that run finish, then try again")
                time.sleep(_POLL)
            if fcntl is None:  # pragma: no cover - Windows: the file is never removed
                return fd
            # The previous holder removes the file before it unlocks; if it did, ours is an
            # orphan and the next run would lock a new file: start again on the new one.
            try:
                st = os.stat(lock, follow_symlinks=False)
            except FileNotFoundError:
                st = None
            mine = os.fstat(fd)
            if st is not None and (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev):
                with contextlib.suppress(OSError):   # who holds it: for the message only
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode())
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _release(lock: Path, fd: int) -> None:
    if fcntl is not None:
        with contextlib.suppress(OSError):
            os.unlink(lock)
    os.close(fd)


@contextlib.contextmanager
def locked(path: Path | str, *, timeout: float | None = None) -> Iterator[Path]:
    """Hold the advisory lock of ``path`` (a workbook, or a folder such as the regional
    folder ``email`` works in) for the ``with`` block; yields the lock file's path.

    Waits up to ``timeout`` seconds (default :func:`lock_timeout`, 5 s) for another run
    to let go, then raises :class:`LockBusy` naming ``path``. Re-entrant in one process.
    A folder that cannot hold the lock file (read-only, missing, no space) raises
    :class:`~xl_addin.storage.StorageError` naming it, like any write there would.

        from xl_addin.storage import locked

        with locked(regional_dir):       # one `email` at a time per regional folder
            send_all(...)
    """
    path = Path(path)
    lock = lock_path(path)
    key = str(lock)
    with _guard:
        nested = key in _held
        if nested:
            _held[key][1] += 1
    if not nested:   # wait without blocking this process's other threads' locks
        try:
            fd = _acquire(path, lock, lock_timeout() if timeout is None else timeout)
        except OSError as e:
            raise storage_error(e, path, folder=lock.parent) from None
        with _guard:
            _held[key] = [fd, 1]
    try:
        yield lock
    finally:
        with _guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                _release(lock, entry[0])
