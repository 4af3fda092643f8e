"""Bytes OpenSSL must read from a path (a client certificate and key), at paths no one else can open and
no file system keeps: anonymous memory files on Linux, else a private file removed right after use."""

from __future__ import annotations

import os
import shutil
import tempfile


def with_private_paths(blobs, use, memory: bool = True):
    """use(paths) with each blob readable at a path only this process can open, gone when use returns.

    On Linux the paths are anonymous memory files (memfd, /proc/self/fd/N), so no
    file system ever holds the data; elsewhere a 0600 file in a 0700 directory,
    removed right after use.
    """
    if memory and hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fds: list[int] = []
        try:
            try:
                for blob in blobs:
                    fds.append(os.memfd_create("kubectl-apiinfo", os.MFD_CLOEXEC))
                    _write_all(fds[-1], blob)
            except OSError:
                pass  # memfd refused (a sandbox): use the directory below
            else:
                return use([f"/proc/self/fd/{fd}" for fd in fds])
        finally:
            for fd in fds:
                os.close(fd)
    directory = tempfile.mkdtemp(prefix="kubectl-apiinfo-")  # mode 0700
    try:
        paths = []
        for i, blob in enumerate(blobs):
            paths.append(os.path.join(directory, str(i)))
            fd = os.open(paths[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                _write_all(fd, blob)
            finally:
                os.close(fd)
        return use(paths)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
