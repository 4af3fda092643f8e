"""Output that cannot be written as it is: a terminal that is not UTF-8, a full disk."""

from __future__ import annotations

import json
import subprocess

from conftest import COMMAND, assert_one_line_error, clean_env


def run(tmp_path, *args, env=None, **kwargs):
    return subprocess.run([str(COMMAND), *args], env={**clean_env(tmp_path), **(env or {})}, **kwargs)


def test_an_ascii_terminal_gets_ascii_not_a_crash(tmp_path):
    utf8 = run(tmp_path, "deployments", "--kube-version", "1.16", capture_output=True, text=True)
    assert "1.15–1.37" in utf8.stdout  # the en dash an ASCII stream cannot encode
    ascii_ = run(tmp_path, "deployments", "--kube-version", "1.16", env={"PYTHONIOENCODING": "ascii"}, capture_output=True)
    assert ascii_.returncode == 0, ascii_.stderr
    text = ascii_.stdout.decode("ascii")  # every byte is ASCII
    assert "1.15-1.37" in text and text.count("\n") == utf8.stdout.count("\n")
    listing = run(tmp_path, "resources", "-o", "json", env={"PYTHONIOENCODING": "ascii"}, capture_output=True)
    assert listing.returncode == 0 and json.loads(listing.stdout.decode("ascii"))["resources"]


def test_an_ascii_terminal_gets_warnings_and_errors_too(tmp_path):
    result = run(tmp_path, "podsecuritypolicies", env={"PYTHONIOENCODING": "ascii"}, capture_output=True)
    assert result.returncode == 1
    lines = result.stderr.decode("ascii").splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in lines[0]


def test_a_full_disk_is_one_line(tmp_path):
    for args in (["deployments"], ["releases", "-o", "json"], ["resources", "-o", "yaml"]):
        with open("/dev/full", "w") as full:
            result = run(tmp_path, *args, stdout=full, stderr=subprocess.PIPE, text=True)
        assert result.returncode == 1
        assert_one_line_error(result, "cannot write the answer to stdout", "No space left on device")
