"""The built wheel carries the catalog: installed without the source tree, run from elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from conftest import ROOT, clean_env


def test_non_editable_install_runs_from_another_directory(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(dist.glob("kubectl_apiinfo-*.whl"))
    members = zipfile.ZipFile(wheel).namelist()
    assert "kubectl_apiinfo/catalog_data/index.json" in members
    assert sum(m.startswith("kubectl_apiinfo/catalog_data/releases/") for m in members) == 23

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(elsewhere, PYTHONPATH=str(site))
    where = subprocess.run(
        [sys.executable, "-c", "import kubectl_apiinfo.catalog as c; print(c.__file__)"],
        capture_output=True, text=True, cwd=elsewhere, env=env, check=True,
    ).stdout.strip()
    assert where.startswith(str(site)), where  # not the source checkout

    result = subprocess.run(
        [str(site / "bin" / "kubectl-apiinfo"), "deployments", "--kube-version", "1.16", "-o", "json"],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    served = {v["groupVersion"] for r in answer["resources"] for v in r["versions"] if v["served"]}
    assert served == {"apps/v1"}
