"""Saving files safely: atomic replace, one backup, advisory locks, no leftovers.

- :func:`write_atomic` (and :func:`write_bytes`, :func:`write_text`): the only way
  xl_addin writes a file.
- :func:`locked`: one run at a time per workbook or folder.
- :func:`check_not_locked`: refuse a workbook that Excel or LibreOffice has open.
- :class:`StorageError` / :class:`LockBusy`: what goes wrong, one line each (exit 2).
"""
from .atomic import (TEMP_PREFIX, StorageError, append_nofollow, check_not_locked, clean_leftovers,
                     no_symlink, owner_files, storage_error, write_atomic, write_bytes, write_text)
from .lock import LOCK_PREFIX, LockBusy, lock_path, lock_timeout, locked

__all__ = ["write_atomic", "write_bytes", "write_text", "locked", "LockBusy", "StorageError",
           "check_not_locked", "owner_files", "clean_leftovers", "storage_error", "lock_path",
           "lock_timeout", "no_symlink", "append_nofollow", "TEMP_PREFIX", "LOCK_PREFIX"]
