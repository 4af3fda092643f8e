"""The user's files: read with bounds (a regular file or stdin, never more bytes than a limit), replaced whole.

A device, a FIFO or a socket is refused before a byte is read (opened without
blocking, so a FIFO with no writer cannot hang us); /dev/zero never fills memory.
"""

from __future__ import annotations

import os
import stat
import sys

from kubectl_apiinfo.errors import UserError

MIB = 1024 * 1024


class TooLarge(UserError):
    """The input is over its limit."""


def read_bounded(path: str, limit: int, what: str, stdin: bool = True) -> bytes:
    """The bytes of path ('-' is stdin where stdin is True), at most limit of them; what names the input in
    messages ("a manifest", "a kubeconfig", "a bundle").  OSError as open() raises it, for the caller to word."""
    if path == "-" and stdin:
        data = sys.stdin.buffer.read(limit + 1)
        shown = "stdin"
    else:
        with open_regular(path, what, stdin) as f:
            if os.fstat(f.fileno()).st_size > limit:  # known before a byte is read (the read below still stops at it)
                raise TooLarge(f"{path} is over {limit // MIB} MB, the most {what} may be")
            data = f.read(limit + 1)
        shown = path
    if len(data) > limit:
        raise TooLarge(f"{shown} is over {limit // MIB} MB, the most {what} may be")
    return data


def open_regular(path: str, what: str, stdin: bool = True):
    """path opened for reading in binary ('-' is stdin where stdin is True), refused when it is not a regular
    file (a FIFO or /dev/zero would never end): for a reader that streams its input and bounds each piece
    itself, and for read_bounded.  OSError as open() raises it."""
    if path == "-" and stdin:
        return sys.stdin.buffer
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", path)
        if not stat.S_ISREG(mode):
            where = "a regular file, or '-' for stdin" if stdin else "a regular file"
            raise UserError(f"{path} is not a regular file; {what} is read from {where}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def replace_file(target: str, data: bytes, like=None) -> None:
    """Replace the regular file target whole: the bytes go to a private temporary file beside it (created
    exclusively, mode 0600, its name unguessable), which is then renamed over it.  like, an os.stat_result,
    gives the new file that mode and owner (a kubeconfig keeps its own)."""
    import tempfile

    folder, name = os.path.split(target)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            if like is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(like.st_mode))
                try:
                    os.fchown(f.fileno(), like.st_uid, like.st_gid)
                except OSError:
                    pass  # not ours to give away: the file stays ours
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
