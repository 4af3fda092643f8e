"""Completion: kubectl's plugin completion protocol, and typer's shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import COMMAND, clean_env

HELPER = Path(sys.executable).parent / "kubectl_complete-apiinfo"


def complete(env: dict, *words: str) -> tuple[list[str], str]:
    result = subprocess.run([str(HELPER), "__complete", *words], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    return lines[:-1], lines[-1]


def test_resource_names_for_a_partial_word(tmp_path):
    env = clean_env(tmp_path)
    found, directive = complete(env, "dep")
    assert found == ["deployments", "deployments.apps"] and directive == ":4"
    found, _ = complete(env, "show", "ingr")
    assert "ingresses" in found and "ingresses.networking.k8s.io" in found and "show" not in found
    found, _ = complete(env, "")
    assert {"show", "resources", "versions", "cache", "pods", "configmaps"} <= set(found)
    # The catalog release named on the line decides: 1.15 still had extensions/v1beta1.
    assert "deployments.extensions" in complete(env, "--kube-version", "1.15", "deployments.")[0]
    assert "deployments.extensions" not in complete(env, "deployments.")[0]


def test_completion_knows_the_commands_the_cli_has(tmp_path):
    import typer

    from kubectl_apiinfo.cli import typer_app

    root = typer.main.get_command(typer_app.build(lambda *a: None))
    env = clean_env(tmp_path)
    assert set(root.commands) <= set(complete(env, "")[0])
    assert complete(env, "cache", "")[0] == list(root.commands["cache"].commands)


def test_flags_and_flag_values(tmp_path):
    env = clean_env(tmp_path)
    assert complete(env, "-o", "")[0] == ["table", "wide", "json", "yaml", "name"]
    assert complete(env, "--kube-version", "1.3")[0] == [f"1.{n}" for n in range(30, 38)]
    assert complete(env, "resources", "--sort")[0] == ["--sort-by"]
    assert complete(env, "cache", "")[0] == ["list", "clear", "export", "import"]
    assert complete(env, "--kubeconfig", "")[1] == ":0"  # file names: the shell's own completion


def test_a_cached_cluster_completes_its_crds_without_the_network(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", crd_groups=2)
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert "widgets" not in complete(env, "wid")[0]  # nothing cached: the catalog has no widgets
    assert api.requests()["count"] == 0
    assert subprocess.run([str(COMMAND), "refresh"], env=env, capture_output=True).returncode == 0
    api.stop()
    found, _ = complete(env, "wid")
    assert "widgets" in found and "widgets.g0001.example.com" in found


def test_kubectl_completes_the_plugin(kubectl, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in (COMMAND, HELPER):
        (bin_dir / tool.name).symlink_to(tool)
    env = clean_env(tmp_path, PATH=f"{bin_dir}{os.pathsep}{Path(kubectl).parent}{os.pathsep}/usr/bin:/bin")
    result = subprocess.run([str(kubectl), "__complete", "apiinfo", "dep"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["deployments", "deployments.apps"]


def test_the_main_command_acts_as_the_helper_under_that_name(tmp_path):
    linked = tmp_path / "kubectl_complete-apiinfo"
    linked.symlink_to(COMMAND)
    result = subprocess.run([str(linked), "__complete", "statef"], capture_output=True, text=True, env=clean_env(tmp_path))
    assert result.stdout.splitlines() == ["statefulsets", "statefulsets.apps", ":4"]


def test_typer_shell_completion_offers_resources(tmp_path):
    env = clean_env(tmp_path, _KUBECTL_APIINFO_COMPLETE="complete_bash", COMP_WORDS="kubectl-apiinfo cronj", COMP_CWORD="1")
    result = subprocess.run([str(COMMAND)], capture_output=True, text=True, env=env)
    assert result.stdout.split() == ["cronjobs", "cronjobs.batch"]
    env.update(COMP_WORDS="kubectl-apiinfo show cronj", COMP_CWORD="2")
    assert subprocess.run([str(COMMAND)], capture_output=True, text=True, env=env).stdout.split() == ["cronjobs", "cronjobs.batch"]
    script = subprocess.run([str(COMMAND), "--show-completion", "bash"], capture_output=True, text=True, env=clean_env(tmp_path))
    assert "_KUBECTL_APIINFO_COMPLETE" in script.stdout


def test_explain_completes_field_paths_and_leaves_room_for_the_next_dot(tmp_path):
    env = clean_env(tmp_path)
    found, directive = complete(env, "explain", "--kube-version", "1.30", "deployments.spec.template.spec.containers.res")
    assert found == ["deployments.spec.template.spec.containers." + f for f in ("resizePolicy", "resources", "restartPolicy")]
    assert directive == ":6", "no space after a field: another '.' may follow"
    found, _ = complete(env, "explain", "--kube-version", "1.26", "deployments.spec.template.spec.containers.res")
    assert found == ["deployments.spec.template.spec.containers.resources"], "1.26 has no resizePolicy"
    found, directive = complete(env, "explain", "deploy")
    assert "deployments" in found and directive == ":4"


def test_a_cached_cluster_completes_field_paths_from_its_cached_documents(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", crd_groups=2)
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    assert subprocess.run([str(COMMAND), "explain", "widgets.spec"], env=env, capture_output=True).returncode == 0
    api.reset()
    for reachable in (True, False):
        found, directive = complete(env, "explain", "widgets.spec.po")
        assert (found, directive) == (["widgets.spec.ports"], ":6")
        assert complete(env, "explain", "widgets.spec.a")[0] == ["widgets.spec.annotations"]
        # apps/v1's document is not cached: the catalog release of the cluster's version answers, as explain does.
        assert complete(env, "explain", "deployments.spec.rep")[0] == ["deployments.spec.replicas"]
        # No document of g0002 is cached: nothing, quietly (complete() checks stderr).
        assert complete(env, "explain", "widgets.g0002.example.com.spec.po")[0] == []
        if reachable:
            assert api.requests()["count"] == 0, "completion never asks the server"
            api.stop()


def test_field_path_completion_prints_nothing_but_candidates(fake_apiserver, kubectl, tmp_path):
    """The sources warn as a query would; completing, nothing reaches the terminal but candidates."""
    env = clean_env(tmp_path, KUBECONFIG=str(tmp_path / "no-such-file"))
    assert complete(env, "explain", "deployments.sp")[0] == ["deployments.spec"]
    # Nothing of ours cached, kubectl's caches only: they answer, without a warning.
    api = fake_apiserver(release="1.33", token="t0ken", crd_groups=1)
    env = clean_env(tmp_path, KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")),
                    KUBECACHEDIR=str(tmp_path / "kube-cache"))
    explained = subprocess.run([str(kubectl), "explain", "widgets.spec"], env=env, capture_output=True, text=True, timeout=120)
    assert explained.returncode == 0, explained.stderr
    api.stop()
    assert complete(env, "explain", "widgets.spec.po")[0] == ["widgets.spec.ports"]
