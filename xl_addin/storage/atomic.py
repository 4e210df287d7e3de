"""Atomic saves: a file is either as it was or completely the new one, never half-written.

:func:`write_atomic` is the one way xl_addin writes a file (workbooks, regional files and
their manifest, the email outbox, CSV/JSON exports, the add-in). See docs/workbook.md,
"Saving safely", for the guarantees in a user's words.
"""
from __future__ import annotations

import contextlib
import errno
import gc
import os
import re
import secrets
import shutil
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Callable

from ..errors import WorkbookError
from .errors import StorageError, storage_error
from .lock import locked

__all__ = ["StorageError", "write_atomic", "write_bytes", "write_text", "clean_leftovers",
           "storage_error", "check_not_locked", "owner_files", "no_symlink", "append_nofollow",
           "TEMP_PREFIX"]

TEMP_PREFIX = ".~xl_addin-tmp."
"""Temporary files are ``.~xl_addin-tmp.<host>.<pid>.<random><suffix>`` in the target's
folder; the host and process id tell a later run whether the writer is still alive."""
_OLD_TEMP_PREFIX = ".~xl_addin_"     # temporary files of versions before this one (mkstemp)
_STALE_AGE = 3600.0                  # a temp of another host, or an old-style one: 1 h


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:24] or "host"


_HOST = _host()
_cleaned: set[str] = set()          # folders this process has already cleaned


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(host: str, pid: int) -> bool:
    if host != _HOST or os.name == "nt":
        return True                      # cannot tell: the age rule decides
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True                      # exists, belongs to someone else
    return True


def clean_leftovers(folder: Path | str, *, force: bool = False) -> list[Path]:
    """Remove the temporary files that killed runs left in ``folder`` (once per folder and
    process unless ``force``): ours whose writing process is gone, and those of another
    host or an older version after an hour. Returns what was removed."""
    folder = Path(folder)
    key = os.path.realpath(folder)
    if key in _cleaned and not force:
        return []
    _cleaned.add(key)
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if name.startswith(TEMP_PREFIX):
            parts = name[len(TEMP_PREFIX):].split(".")
            if len(parts) < 3 or not parts[1].isdigit():
                continue
            stale = not _alive(parts[0], int(parts[1]))
        elif name.startswith(_OLD_TEMP_PREFIX):
            stale = None
        else:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stale is None or (not stale and (parts[0] != _HOST or os.name == "nt")):
                stale = now - st.st_mtime > _STALE_AGE
            if stale and not stat.S_ISDIR(st.st_mode):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _temp_path(folder: Path, suffix: str) -> Path:
    return folder / f"{TEMP_PREFIX}{_HOST}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"


def _create(tmp: Path) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    os.close(os.open(tmp, flags, 0o666))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):   # some file systems cannot sync a folder
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _keep_mode(old: os.stat_result | None, tmp: Path) -> None:
    """The new file gets the old one's permissions (and owner, when we may), else the
    permissions of any new file under the user's umask."""
    if old is None:
        os.chmod(tmp, 0o666 & ~_umask())
        return
    os.chmod(tmp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown") and hasattr(os, "geteuid") and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.chown(tmp, old.st_uid, old.st_gid)


def _backup_copy(target: Path, bak_tmp: Path) -> None:
    """``bak_tmp`` as a second name of ``target`` (a hard link: no copy, no space), or a
    full copy synced to disk where the file system has no hard links."""
    try:
        os.link(target, bak_tmp, follow_symlinks=False)
        return
    except OSError as e:
        if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EROFS):
            raise
    _create(bak_tmp)
    shutil.copy2(target, bak_tmp)
    _fsync(bak_tmp)


def _resolve(path: Path, follow_symlinks: bool) -> Path:
    path = Path(os.path.abspath(path))
    if follow_symlinks and os.path.islink(path):
        return Path(os.path.realpath(path))
    return path


def write_atomic(path: Path | str, write: Callable[[Path], object], *, backup: bool = False,
                 follow_symlinks: bool = True) -> Path:
    """Write a file so that it is either the old one or the whole new one, never half.

    ``write(tmp)`` writes the new content to ``tmp``, a temporary file in the target's
    folder; it is synced to disk and renamed over the target (the folder synced too).
    With ``backup`` the previous file is kept as ``<name>.bak``, itself replaced
    atomically (a hard link, or a synced copy), so a full disk never leaves a truncated
    ``.bak``. On any failure the temporary files are removed and the target and its
    ``.bak`` are exactly as before; an OS error becomes a :class:`StorageError` naming the
    path and what to do.

    A ``path`` that is a symlink is resolved and the file it points to is replaced (the
    link stays a link); with ``follow_symlinks=False`` (a file whose name we chose, such as
    a regional workbook) a symlink there is replaced by the file, never followed. A
    ``.bak`` that is a symlink is always replaced, never followed. The target keeps its
    permissions. The folder must exist. The target's lock (:func:`~.lock.locked`) is held
    while writing, and leftovers of killed runs in the folder are removed first
    (:func:`clean_leftovers`). Returns the path written (symlinks resolved).
    """
    given = Path(path)
    target = _resolve(given, follow_symlinks)
    folder = target.parent
    if os.path.isdir(target) and not os.path.islink(target):
        raise StorageError(f"{given}: is a folder, not a file; give a file name; nothing was changed")
    if not os.path.isdir(folder):
        why = ("is a file, not a folder" if os.path.lexists(folder) else "does not exist")
        raise StorageError(f"{given}: the folder {folder} {why}; create the folder first or "
                           "choose another; nothing was changed")
    bak_path = target.with_name(target.name + ".bak")
    if backup and os.path.isdir(bak_path) and not os.path.islink(bak_path):
        raise StorageError(f"{bak_path}: is a folder, where the previous {target.name} is kept "
                           "as a file; move the folder away; nothing was changed")
    with locked(target):
        clean_leftovers(folder)
        tmp: Path | None = None
        bak_tmp: Path | None = None
        failure: StorageError | None = None
        hook = sys.unraisablehook
        try:
            tmp = _temp_path(folder, target.suffix)
            _create(tmp)
            write(tmp)
            try:
                old = os.stat(target, follow_symlinks=False)
                old = old if stat.S_ISREG(old.st_mode) else None
            except FileNotFoundError:
                old = None
            _keep_mode(old, tmp)
            _fsync(tmp)
            if backup and old is not None:
                bak_tmp = _temp_path(folder, ".bak")
                _backup_copy(target, bak_tmp)
            os.replace(tmp, target)
            tmp = None
            if bak_tmp is not None:
                os.replace(bak_tmp, bak_path)
                bak_tmp = None
            _fsync_dir(folder)
        except OSError as e:
            if e.filename is not None and os.path.dirname(os.path.abspath(e.filename)) != str(folder):
                raise   # about another file (one the writer reads): its own message
            failure = storage_error(e, given, folder=folder)
            # A writer that failed mid-way (a full disk) may leave a zip file open in its
            # frames; it closes when they are freed and fails again. That second error
            # is this one: keep it off the user's screen.
            sys.unraisablehook = _quiet_os_errors(hook)
        finally:
            for leftover in (tmp, bak_tmp):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)
        if failure is not None:
            try:
                gc.collect()
            finally:
                sys.unraisablehook = hook
            raise failure
    return target


def _quiet_os_errors(hook):
    def quiet(unraisable) -> None:
        if not isinstance(unraisable.exc_value, OSError):
            hook(unraisable)
    return quiet


def write_bytes(path: Path | str, data: bytes, **kwargs) -> Path:
    """:func:`write_atomic` of ``data``."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), **kwargs)


def write_text(path: Path | str, text: str, *, encoding: str = "utf-8", **kwargs) -> Path:
    """:func:`write_atomic` of ``text`` (no newline translation)."""
    return write_bytes(path, text.encode(encoding), **kwargs)


def no_symlink(path: Path | str) -> Path:
    """Remove ``path`` if it is a symlink (a file whose name we chose is replaced, never
    followed); returns ``path``."""
    path = Path(path)
    if os.path.islink(path):
        os.unlink(path)
    return path


def append_nofollow(path: Path | str) -> int:
    """A file descriptor appending to ``path`` (created under the umask), never through a
    symlink: one there is removed first. For logs, which grow by whole lines."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o666)
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
    os.unlink(path)
    return os.open(path, flags | os.O_EXCL, 0o666)


# ----------------------------------------------------------------------------- owner files

def owner_files(path: Path | str) -> list[Path]:
    """Where Excel (``~$name.xlsx``, or ``~$`` over the first two letters of a long name)
    and LibreOffice (``.~lock.name#``) leave an owner file while they have ``path`` open;
    for a symlink, beside the link and beside the file it points to."""
    path = Path(path)
    names = [path]
    if os.path.islink(path):
        names.append(Path(os.path.realpath(path)))
    out: list[Path] = []
    for p in names:
        n = p.name
        for c in (p.with_name("~$" + n), p.with_name("~$" + (n[2:] if len(n) > 2 else n)),
                  p.with_name(f".~lock.{n}#")):
            if c not in out:
                out.append(c)
    return out


def check_not_locked(path: Path | str) -> None:
    """Refuse to write a workbook that Excel or LibreOffice has open: they leave an owner
    file beside it (:func:`owner_files`), and writing then would lose the user's unsaved
    edits (or fail, on Windows). xl_addin's own lock file is not an owner file."""
    path = Path(path)
    for c in owner_files(path):
        if os.path.lexists(c):
            raise WorkbookError(f"{path}: the workbook is open in Excel or LibreOffice (found {c.name}); "
                                "close it there, or use the ribbon button inside Excel, then try again")
    if os.path.isfile(path):
        try:
            with open(path, "r+b"):
                pass
        except PermissionError:
            raise WorkbookError(f"{path}: the file is locked or read-only (is it open in Excel?); "
                                "close it and try again") from None
        except OSError as e:
            if e.errno == errno.EROFS:
                raise storage_error(e, path) from None
            raise
