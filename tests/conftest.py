"""Shared test helpers: the real command in a subprocess, and the shared Kubernetes data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakeapi.shared_data import location, manifests_location, missing_reason, present

ROOT = Path(__file__).resolve().parent.parent
# The shared Kubernetes data ($K8S_DATA, else ../shared/k8s-data): a test that needs it
# takes the k8s_data fixture, or is turned into a skip by the fake API server's
# fixtures when it failed for want of the OpenAPI documents (fakeapi/fixtures.py).
# Without the data both skip with this one reason.
K8S_DATA = location()
HAVE_K8S_DATA = present(K8S_DATA)
K8S_DATA_MISSING = missing_reason()
COMMAND = Path(sys.executable).parent / "kubectl-apiinfo"

sys.path.insert(0, str(ROOT / "catalog"))

# Fixtures for the fake API server and a real kubectl live beside the server code.
pytest_plugins = ["fakeapi.fixtures"]


@pytest.fixture
def shared_manifests() -> Path:
    """The shared real manifests' folder (../shared/manifests); the test skips without it."""
    folder = manifests_location()
    if not (folder / "list.tsv").is_file():
        pytest.skip(f"needs the shared manifests: {folder} is absent (set K8S_DATA beside it)")
    return folder


@pytest.fixture
def k8s_data() -> Path:
    """The shared Kubernetes data's folder; the test skips without it."""
    if not HAVE_K8S_DATA:
        pytest.skip(K8S_DATA_MISSING)
    return K8S_DATA


def clean_env(home: Path, **extra: str) -> dict:
    """An environment with no kubeconfig or cache of the developer's leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KUBECTL_APIINFO"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    env.update(extra)
    return env


class CLI:
    def __init__(self, home: Path):
        self.home = home
        self.env = clean_env(home)

    def __call__(self, *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 60):
        return subprocess.run(
            [str(COMMAND), *args],
            capture_output=True,
            text=True,
            cwd=cwd or self.home,
            env=env or self.env,
            timeout=timeout,
        )

    def json(self, *args: str):
        result = self(*args, "-o", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    home = tmp_path / "home"
    home.mkdir()
    return CLI(home)


def use_contexts(cli: CLI, folder: Path, servers: dict) -> None:
    """One kubeconfig with a context per fake API server ({context name: server}), made cli's KUBECONFIG."""
    import yaml

    merged: dict = {}
    for name, server in servers.items():
        config = yaml.safe_load(server.write_kubeconfig(folder / f"kubeconfig-{name}", context_name=name).read_text())
        if not merged:
            merged = config
            continue
        for section in ("clusters", "users", "contexts"):
            merged[section] += config[section]
    (folder / "kubeconfig").write_text(yaml.safe_dump(merged))
    cli.env["KUBECONFIG"] = str(folder / "kubeconfig")


def crd_head(kind: str, plural: str, group: str = "example.com") -> str:
    """A v1 CustomResourceDefinition's YAML up to its versions list: the tests' CRDs differ only below it."""
    return (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata: {{name: {plural}.{group}}}\nspec:\n  group: {group}\n"
        f"  names: {{kind: {kind}, plural: {plural}}}\n  scope: Namespaced\n  versions:\n"
    )


def assert_one_line_error(result, *fragments: str) -> None:
    """A failure the kubectl way: non-zero, one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
