"""Every read from a server is bounded (issue 17, item 4): the real command against a hostile fake API server.

A body is capped after decompression, so a gigabyte, or a gzip bomb of a megabyte on the wire, costs
little memory and one clear line; the request timeout is a deadline for the whole exchange, so a server
trickling a byte at a time is cut off at it; revalidating a stale snapshot takes about its second.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import pytest

from conftest import COMMAND, assert_one_line_error
from test_cluster import user

GIB = 1 << 30
RSS_BUDGET_MB = 200


def _run_measured(env, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    """Run the command; (its result, its peak resident memory in MB), from the kernel's own count for that child."""
    out, err, peak = env.home / "stdout", env.home / "stderr", env.home / "peak"
    # A child started from pytest inherits pytest's own peak (Linux keeps the high-water mark across exec), so a
    # small launcher starts the command and reports that grandchild's peak alone.
    launcher = (
        "import os, subprocess, sys\n"
        "p = subprocess.Popen(sys.argv[2:])\n"
        "_, status, usage = os.wait4(p.pid, 0)\n"
        "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    with open(out, "wb") as o, open(err, "wb") as e:
        process = subprocess.Popen([sys.executable, "-c", launcher, str(peak), str(COMMAND), *args], stdout=o, stderr=e,
                                   env=env.env, cwd=env.home, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)  # the launcher and the command under it
                os.wait4(process.pid, 0)
                pytest.fail(f"{args} ran over {timeout}s")
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    result = subprocess.CompletedProcess(process.args, process.returncode, out.read_text(), err.read_text())
    return result, int(peak.read_text()) / 1024


@pytest.mark.parametrize(
    "fault, path, args, message",
    [
        ("oversized", "/apis", ("deployments",), "more than 32 MB for /apis, the most read for discovery"),
        ("gzip_bomb", "/apis", ("deployments",), "more than 32 MB for /apis, the most read for discovery"),
    ],
    ids=["1GB", "gzip-bomb"],
)
def test_a_gigabyte_of_discovery_is_one_line_and_little_memory(fake_apiserver, tmp_path, fault, path, args, message):
    api = fake_apiserver(release="1.33", token="t0ken", **{fault: {path: GIB}})
    result, peak_mb = _run_measured(user(tmp_path, api), *args)
    assert_one_line_error(result, message)
    assert peak_mb < RSS_BUDGET_MB, f"{peak_mb:.0f} MB resident"


@pytest.mark.parametrize("fault", ["oversized", "gzip_bomb"])
def test_a_gigabyte_openapi_document_is_refused_and_explain_answers_from_the_catalog(fake_apiserver, tmp_path, fault):
    api = fake_apiserver(release="1.33", token="t0ken", **{fault: {"/openapi/v3/apis/apps/v1": GIB}})
    result, peak_mb = _run_measured(user(tmp_path, api), "explain", "deployments.spec.replicas")
    assert result.returncode == 0, result.stderr
    assert "FIELD: replicas <integer>" in result.stdout
    warning = result.stderr.strip().splitlines()
    assert len(warning) == 1 and "the most read for an OpenAPI document" in warning[0], result.stderr
    assert "answering from the catalog release 1.33" in warning[0]
    assert peak_mb < RSS_BUDGET_MB, f"{peak_mb:.0f} MB resident"


def test_a_trickling_server_is_cut_off_at_the_request_timeout(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", trickle_ms={"/apis": 200})  # each byte well inside the timeout
    started = time.monotonic()
    result = user(tmp_path, api)("deployments", "--request-timeout", "2s", timeout=60)
    took = time.monotonic() - started
    assert_one_line_error(result, "did not answer within 2s", "--request-timeout")
    assert took < 6, f"{took:.1f}s"


def test_revalidating_against_a_trickling_server_answers_from_the_snapshot_in_about_a_second(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken")
    me = user(tmp_path, api)
    first = me.json("deployments")
    api.set_faults(trickle_ms={"/version": 200, "/api": 200, "/apis": 200})
    started = time.monotonic()
    result = me("deployments", "-o", "json", "--cache-ttl", "0s", timeout=60)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "answering from the snapshot" in result.stderr and "did not answer within 1s" in result.stderr
    answer = json.loads(result.stdout)
    assert answer.pop("source")["fetchedAt"] == first["source"]["fetchedAt"]
    first.pop("source")
    assert answer == first
    assert took < 4, f"{took:.1f}s"
