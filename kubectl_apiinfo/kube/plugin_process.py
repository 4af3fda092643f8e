"""An exec credential plugin run as a bounded child: its output capped, its time limited, and at the limit
killed together with every process it started, none of them waited for."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from typing import Optional

OUTPUT_LIMIT = 1 << 20  # an ExecCredential, even with a certificate and key, is a few KB


class Late(Exception):
    """The plugin did not finish in time; what says what it failed to do ("answer", "exit")."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class OverLimit(Exception):
    """The plugin printed more than OUTPUT_LIMIT."""


def run(argv: list, stdin, stderr, env: dict, timeout: Optional[float]) -> tuple[bytes, int]:
    """(what argv printed, its exit status).  stdin None: no input, and the plugin gets its own process group,
    so a timeout ends what it started too; else it is the terminal a person answers prompts on, with no timeout.
    OSError (FileNotFoundError) as Popen raises it."""
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        start_new_session=stdin is None,
    )
    chunks: list = []
    size = [0]

    def read() -> None:
        try:
            while size[0] <= OUTPUT_LIMIT:
                chunk = process.stdout.read1(65536)
                if not chunk:
                    return
                size[0] += len(chunk)
                chunks.append(chunk)
        except (OSError, ValueError):
            return  # the pipe broke or was closed: what was read is judged as it is, no thread traceback

    reader = threading.Thread(target=read, name="exec plugin output", daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(timeout)
    try:
        if reader.is_alive():
            raise Late("answer")  # nor closed its output: it, or something it started, still holds it
        if size[0] > OUTPUT_LIMIT:
            raise OverLimit()
        left = None if timeout is None else max(0.1, timeout - (time.monotonic() - started))
        try:
            return b"".join(chunks), process.wait(left)
        except subprocess.TimeoutExpired:
            raise Late("exit") from None
    except (Late, OverLimit):
        _kill(process, own_group=stdin is None)
        raise
    finally:
        if not reader.is_alive():  # else a close would wait on the reader, which holds the buffer's lock
            process.stdout.close()


def _kill(process: subprocess.Popen, own_group: bool) -> None:
    try:
        if own_group and hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except OSError:
        pass  # already gone
    process.wait()
