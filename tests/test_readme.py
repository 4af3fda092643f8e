"""The README's example output is what the command prints (catalog examples: no cluster needed)."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import COMMAND, ROOT, clean_env

EXAMPLE = re.compile(r"^\$ kubectl apiinfo (?P<args>[^\n#|]*?)(?: \| head -(?P<head>\d+))?\n(?P<out>.*?)(?=^\$ |^```)", re.M | re.S)


def examples() -> list[tuple[str, str, str]]:
    text = (ROOT / "README.md").read_text()
    found = [(m["args"].strip(), m["head"], m["out"]) for m in EXAMPLE.finditer(text) if "--kube-version" in m["args"]]
    assert len(found) >= 3
    return found


@pytest.mark.parametrize("args,head,expected", examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_readme_example_output(tmp_path, args, head, expected):
    out = subprocess.run([str(COMMAND), *args.split()], capture_output=True, text=True, env=clean_env(tmp_path)).stdout
    if head:
        out = "".join(out.splitlines(True)[: int(head)])
    assert out == expected
