"""The cache folder and the store's own files in it: made 0700 when the plugin makes it, left as found otherwise.

A cache folder may be one the user already had (a shared folder, their home,
something --cache-dir names through a link): its mode is theirs, and of what
is in it only the store's own files are ever moved or deleted, namely the SQLite
database with its journal files and diskcache's value files (in two levels of
two-hex-digit folders; the previous format kept large values there).  The
database the plugin makes is 0600, whatever the folder's mode.  A corrupt
database goes aside into the folder ASIDE inside the cache folder, replacing
the copy there: one copy of the evidence is kept.
"""

from __future__ import annotations

import errno
import os
import re

DATABASE = "cache.db"
DATABASE_FILES = (DATABASE, DATABASE + "-wal", DATABASE + "-shm")  # SQLite keeps its journals beside the database
ASIDE = "corrupt"
_HEX_FOLDER = re.compile(r"^[0-9a-f]{2}$")
_VALUE_FILE = re.compile(r"^[0-9a-f]{28}\.val$")  # diskcache.Disk.filename's
# A link where the store's folder should be could lead outside the cache: never followed.
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def make(directory: str) -> None:
    """The folder, with its parents; only a folder made here is set to 0700."""
    os.makedirs(os.path.dirname(os.path.abspath(directory)), exist_ok=True)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        if not os.path.isdir(directory):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), directory) from None
        return
    # mkdir's mode is cut by the umask, which may leave even the owner without write access.
    fd = os.open(directory, _FOLDER)
    try:
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def make_database(directory: str) -> None:
    """An empty database file, 0600, unless there is one: SQLite gives its journal files the database's
    mode, so the store's files are private even in a folder others may read."""
    try:
        fd = os.open(os.path.join(directory, DATABASE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)  # (the umask may have cut the owner's write access)
    finally:
        os.close(fd)


def move_aside(directory: str) -> str:
    """Move the database's files into ASIDE in the folder (made 0700 if missing), after deleting the copy
    already there; returns ASIDE's path.  OSError if ASIDE is not a folder (a link is not followed)."""
    top = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            os.mkdir(ASIDE, 0o700, dir_fd=top)
        except FileExistsError:
            pass
        aside = os.open(ASIDE, _FOLDER, dir_fd=top)
        try:
            _delete_store_files(aside)
            for name in DATABASE_FILES:
                try:
                    os.replace(name, name, src_dir_fd=top, dst_dir_fd=aside)
                except FileNotFoundError:
                    pass
            for first, second, name in _value_files(top):
                with _Folder(aside, first, make=True) as a, _Folder(a, second, make=True) as b:
                    with _Folder(top, first) as from_a, _Folder(from_a, second) as from_b:
                        os.replace(name, name, src_dir_fd=from_b, dst_dir_fd=b)
            _remove_empty_value_folders(top)
        finally:
            os.close(aside)
    finally:
        os.close(top)
    return os.path.join(directory, ASIDE)


def _delete_store_files(fd: int) -> None:
    """The previous copy: the store's own files only, whatever else someone put there."""
    for name in DATABASE_FILES:
        try:
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            pass
    for first, second, name in _value_files(fd):
        with _Folder(fd, first) as a, _Folder(a, second) as b:
            os.unlink(name, dir_fd=b)
    _remove_empty_value_folders(fd)


def _value_files(fd: int) -> list[tuple[str, str, str]]:
    """(folder, sub-folder, file) of every diskcache value file under the folder fd."""
    found = []
    for first in _names(fd, _HEX_FOLDER):
        with _Folder(fd, first) as a:
            for second in _names(a, _HEX_FOLDER):
                with _Folder(a, second) as b:
                    found += [(first, second, name) for name in _names(b, _VALUE_FILE)]
    return found


def _remove_empty_value_folders(fd: int) -> None:
    for first in _names(fd, _HEX_FOLDER):
        with _Folder(fd, first) as a:
            for second in _names(a, _HEX_FOLDER):
                _remove_if_empty(a, second)
        _remove_if_empty(fd, first)


def _remove_if_empty(fd: int, name: str) -> None:
    try:
        os.rmdir(name, dir_fd=fd)
    except OSError:
        pass  # not empty: someone else's files are in it


def _names(fd: int, pattern: re.Pattern) -> list[str]:
    """Names in the folder fd matching pattern, links excluded."""
    import stat

    found = []
    with os.scandir(fd) as entries:
        for entry in entries:
            if pattern.match(entry.name) and not entry.is_symlink():
                kind = entry.stat(follow_symlinks=False).st_mode
                if (stat.S_ISDIR(kind) if pattern is _HEX_FOLDER else stat.S_ISREG(kind)):
                    found.append(entry.name)
    return found


class _Folder:
    """A folder opened under another (never through a link), closed on leaving; made first if make."""

    def __init__(self, parent: int, name: str, make: bool = False):
        if make:
            try:
                os.mkdir(name, 0o700, dir_fd=parent)
            except FileExistsError:
                pass
        self.fd = os.open(name, _FOLDER, dir_fd=parent)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *exc) -> None:
        os.close(self.fd)
