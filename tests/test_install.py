"""Installs as users make them: the wheel's contents, `pip install .` and `pipx install .`, run from elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, clean_env


def _served_in_1_16(command: Path, cwd: Path, env: dict) -> set:
    result = subprocess.run(
        [str(command), "deployments", "--kube-version", "1.16", "-o", "json"],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return {v["groupVersion"] for r in json.loads(result.stdout)["resources"] for v in r["versions"] if v["served"]}


def test_the_wheel_carries_the_catalog(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    members = zipfile.ZipFile(next(dist.glob("kubectl_apiinfo-*.whl"))).namelist()
    assert "kubectl_apiinfo/catalog_data/index.json" in members
    assert sum(m.startswith("kubectl_apiinfo/catalog_data/releases/") for m in members) == 23
    assert not any("__pycache__" in m or m.startswith(("tests/", "catalog/")) for m in members)


def test_pip_install_dot_runs_from_another_directory(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], check=True, capture_output=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(elsewhere)
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kubectl_apiinfo.sources.catalog.releases as c; print(c.__file__)"],
        capture_output=True, text=True, cwd=elsewhere, env=env, check=True,
    ).stdout.strip()
    assert where.startswith(str(venv)), where  # the installed copy, not the source checkout
    assert _served_in_1_16(venv / "bin" / "kubectl-apiinfo", elsewhere, env) == {"apps/v1"}
    assert (venv / "bin" / "kubectl_complete-apiinfo").exists()


def test_pipx_install_dot(tmp_path):
    home = tmp_path / "pipx"
    env = clean_env(tmp_path, PIPX_HOME=str(home), PIPX_BIN_DIR=str(tmp_path / "bin"), PIPX_MAN_DIR=str(tmp_path / "man"))
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run([sys.executable, "-m", "pipx", "install", str(ROOT)], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    installed = tmp_path / "bin" / "kubectl-apiinfo"
    assert _served_in_1_16(installed, tmp_path, env) == {"apps/v1"}
    completion = subprocess.run([str(tmp_path / "bin" / "kubectl_complete-apiinfo"), "__complete", "dep"], capture_output=True, text=True, env=env)
    assert completion.stdout.splitlines() == ["deployments", "deployments.apps", ":4"]
