"""The typer-free fast path: the same answers as the typer CLI, and none of typer's import cost."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from conftest import COMMAND, clean_env
from kubectl_apiinfo.cli import typer_app as cli
from kubectl_apiinfo.cli import router as fastpath


def _declared(command) -> set:
    return {opt for p in command.params if getattr(p, "param_type_name", "") == "option" for opt in p.opts} - {"--help", "-h"}


def test_option_tables_match_what_the_typer_cli_declares():
    root = typer.main.get_command(cli.app)
    for name, table in fastpath.OPTIONS.items():
        assert set(table) == _declared(root.commands[name]), name


@pytest.mark.parametrize(
    "args",
    [
        ["deployments"],
        ["deploy", "-o", "json", "--kube-version", "1.15"],
        ["--kube-version=1.19", "ingresses.v1beta1.networking.k8s.io", "-owide"],
        ["show", "events", "-o", "yaml"],
        ["podsecuritypolicies"],
        ["deploymnets"],
        ["resources", "--namespaced", "--verbs", "create", "--verbs=watch", "--sort-by", "kind"],
        ["resources", "--namespaced", "false", "-o", "name", "--kube-version", "1.24"],
        ["resources", "--api-group", "", "--no-headers", "-o", "wide"],
        ["versions", "--kube-version", "v1.22.3", "-o", "wide"],
        ["releases", "-o", "json"],
        ["deployments", "-o", "bogus"],
        ["deployments", "--kube-version", "1.99"],
        ["resources", "--sort-by", "age"],
        ["deployments", "--offline"],
        ["deployments", "--refresh", "--offline"],
    ],
)
def test_fast_and_typer_paths_answer_alike(tmp_path, args):
    env = clean_env(tmp_path)
    fast = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env=env)
    slow = subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env={**env, "KUBECTL_APIINFO_NO_FASTPATH": "1"})
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fastpath.parse(args) is not None  # these really took the fast path


@pytest.mark.parametrize(
    "args",
    [
        ["--help"], ["deployments", "--help"], ["refresh", "extra"], ["cache", "list"], ["version"], ["resources", "--bogus"],
        ["deployments", "--no-headers"], ["deployments", "pods"], ["resources", "pods"], [], ["deployments", "-o"],
        ["deployments", "--offline=true"], ["--", "deployments"],
    ],
)
def test_everything_else_goes_to_typer(args):
    assert fastpath.parse(args) is None


def test_a_cached_query_imports_neither_typer_nor_requests_nor_yaml(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert subprocess.run([str(COMMAND), "deployments"], env=env, capture_output=True).returncode == 0
    for args in (["deployments"], ["resources"], ["deployments", "--kube-version", "1.20"]):
        probe = (
            "import sys\nfrom kubectl_apiinfo.cli.main import main\n"
            f"sys.argv = ['kubectl-apiinfo', *{args!r}]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "heavy = sorted(m for m in ('typer', 'click', 'requests', 'urllib3', 'yaml', 'rich') if m in sys.modules)\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        assert result.stderr.endswith("HEAVY="), (args, result.stderr[-300:])
    assert api.requests()["count"] == 3


def test_refresh_on_both_paths(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", aggregated=False)
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert fastpath.parse(["refresh", "-o", "json"]) is not None
    fast = subprocess.run([str(COMMAND), "refresh", "-o", "json"], capture_output=True, text=True, env=env)
    slow = subprocess.run([str(COMMAND), "refresh", "-o", "json"], capture_output=True, text=True, env={**env, "KUBECTL_APIINFO_NO_FASTPATH": "1"})
    assert fast.returncode == slow.returncode == 0, fast.stderr + slow.stderr
    assert fast.stdout == slow.stdout and fast.stderr == slow.stderr
    api.stop()
    fast = subprocess.run([str(COMMAND), "refresh"], capture_output=True, text=True, env=env)
    slow = subprocess.run([str(COMMAND), "refresh"], capture_output=True, text=True, env={**env, "KUBECTL_APIINFO_NO_FASTPATH": "1"})
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fast.returncode == 1 and fast.stderr.startswith("error: refreshing fake failed")
