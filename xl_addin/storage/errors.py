"""What goes wrong when a file is written: one line naming the path and what to do."""
from __future__ import annotations

import errno
import os
from pathlib import Path

from ..errors import WorkbookError

__all__ = ["StorageError", "storage_error"]


class StorageError(WorkbookError):
    """A file or folder we cannot write (no space, permission denied, read-only, missing
    folder, a folder given as a file); one line naming the path and what to do (exit 2).
    Nothing was changed."""



def storage_error(e: OSError, path: Path | str, *, folder: Path | str | None = None) -> StorageError:
    """One line for an OS error while writing ``path``: the path, why, and what to do."""
    path = Path(path)
    folder = Path(folder) if folder is not None else path.parent
    code = e.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        why = f"no space left on the disk holding {folder}; free some space or write elsewhere, then try again"
    elif code == errno.EROFS:
        why = f"{folder} is on a read-only disk; write the file somewhere else"
    elif code in (errno.EACCES, errno.EPERM):
        why = (f"permission denied: you may not write in {folder}; choose a folder you can "
               "write to, or ask its owner for write access")
        if os.name == "nt":   # Windows also refuses to replace a file another program has open
            why += " (or close the file if Excel or another program has it open)"
    elif code == errno.EISDIR:
        why = "is a folder, not a file; give a file name"
    elif code in (errno.ENOENT, errno.ENOTDIR):
        why = f"the folder {folder} does not exist; create it first or choose another folder"
    elif code == errno.ENAMETOOLONG:
        why = "the file name is too long; choose a shorter one"
    else:
        why = f"cannot write ({e.strerror or e}); check the disk and the folder, then try again"
    return StorageError(f"{path}: {why}; nothing was changed")
