"""versions -o helm and -o argocd: what helm template and Argo CD are told a release or a cluster serves,
checked against a real helm (from the same PyPI wheel as the tests' kubectl)."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from conftest import COMMAND, clean_env

# A chart that branches as charts do on what the target serves, and prints what helm was told.
CHART_YAML = "apiVersion: v2\nname: probe\nversion: 0.1.0\n"
TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
data:
  pdb: {{ if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" }}policy/v1{{ else }}policy/v1beta1{{ end }}
  aggregator: {{ if .Capabilities.APIVersions.Has "apiregistration.k8s.io/v1beta1" }}v1beta1{{ else }}v1{{ end }}
  pod: {{ if .Capabilities.APIVersions.Has "v1/Pod" }}core{{ else }}none{{ end }}
  widget: {{ if .Capabilities.APIVersions.Has "g0001.example.com/v1/Widget" }}crd{{ else }}none{{ end }}
  kube: {{ .Capabilities.KubeVersion.Version }}
  newer: "{{ semverCompare ">=1.25.0" .Capabilities.KubeVersion.Version }}"
"""


def _lines(result) -> list[str]:
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def _listed(lines: list[str]) -> set[str]:
    return {line.removeprefix("--api-versions=") for line in lines if line.startswith("--api-versions=")}


def test_helm_flags_are_one_word_a_line_for_every_served_group_version_and_kind(cli):
    lines = _lines(cli("versions", "--kube-version", "1.30", "-o", "helm"))
    assert lines[0] == "--kube-version=1.30.0"
    assert all(line.startswith("--api-versions=") and len(line.split()) == 1 for line in lines[1:])
    listed = _listed(lines)
    assert len(listed) == len(lines) - 1, "no name twice"
    assert {"v1", "v1/Pod", "apps/v1/Deployment", "policy/v1/PodDisruptionBudget", "batch/v1/CronJob"} <= listed
    assert "apps/v1/Scale" not in listed and "v1/Eviction" not in listed, "subresources are not resources"
    # Only what a default API server of 1.30 serves: not its off-by-default alpha APIs.
    assert not listed & {"resource.k8s.io/v1alpha2", "storagemigration.k8s.io/v1alpha1", "admissionregistration.k8s.io/v1alpha1"}
    # The group/versions (v1, apps/v1; not v1/Pod, apps/v1/Deployment) are those kubectl api-versions lists.
    group_versions = {n for n in listed if n.count("/") == 0 or (n.count("/") == 1 and not re.fullmatch(r"v\d+\w*", n.split("/")[0]))}
    assert group_versions == set(cli("versions", "--kube-version", "1.30", "-o", "name").stdout.split())
    assert lines[1:] == sorted(lines[1:]), "sorted as Argo CD sorts them"


def test_helm_flags_follow_the_release(cli):
    old = _listed(_lines(cli("versions", "--kube-version", "1.20", "-o", "helm")))
    new = _listed(_lines(cli("versions", "--kube-version", "v1.25.4", "-o", "helm")))
    assert "policy/v1beta1/PodSecurityPolicy" in old and "policy/v1/PodDisruptionBudget" not in old
    assert "policy/v1/PodDisruptionBudget" in new and not any(n.startswith("policy/v1beta1") for n in new)
    assert cli("versions", "--kube-version", "v1.25.4", "-o", "helm").stdout.splitlines()[0] == "--kube-version=1.25.0"


def test_argocd_is_the_applications_helm_fields_as_yaml(cli):
    data = yaml.safe_load(cli("versions", "--kube-version", "1.30", "-o", "argocd").stdout)
    assert list(data) == ["kubeVersion", "apiVersions"]
    assert data["kubeVersion"] == "1.30.0"
    helm = _lines(cli("versions", "--kube-version", "1.30", "-o", "helm"))
    assert data["apiVersions"] == [line.removeprefix("--api-versions=") for line in helm[1:]]


def test_a_cluster_lists_its_crds_and_its_version_without_the_vendor_suffix_also_cached(fake_apiserver, cli, tmp_path):
    api = fake_apiserver(release="1.30", token="t0ken", crd_groups=2, git_version="v1.30.2-eks-0a1b2c3")
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    live = _lines(cli("versions", "-o", "helm"))
    assert live[0] == "--kube-version=1.30.2"
    assert {"g0001.example.com/v1", "g0001.example.com/v1/Widget", "g0002.example.com/v1/Widget"} <= _listed(live)
    argocd = yaml.safe_load(cli("versions", "-o", "argocd").stdout)
    assert argocd["kubeVersion"] == "1.30.2" and "g0002.example.com/v1/Widget" in argocd["apiVersions"]
    api.stop()
    assert _lines(cli("versions", "-o", "helm", "--offline")) == live, "the cached cluster says the same"


def test_a_group_version_whose_discovery_failed_is_listed_without_kinds(fake_apiserver, cli, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", metrics=True, fail_group_versions=["metrics.k8s.io/v1beta1"])
    cli.env["KUBECONFIG"] = str(api.write_kubeconfig(tmp_path / "kubeconfig"))
    result = cli("versions", "-o", "helm")
    listed = _listed(_lines(result))
    assert "metrics.k8s.io/v1beta1" in listed and not any(n.startswith("metrics.k8s.io/v1beta1/") for n in listed)
    assert "discovery of metrics.k8s.io/v1beta1 failed" in result.stderr


def test_kubectls_cache_knows_no_version_so_none_is_printed_and_a_warning_says_so(fake_apiserver, kubectl, cli, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken", aggregated=False)
    cli.env.update(KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")), KUBECACHEDIR=str(tmp_path / "kc"))
    fill = subprocess.run([str(kubectl), "api-resources", "--cache-dir", str(tmp_path / "kc")], capture_output=True, text=True, env=cli.env)
    assert fill.returncode == 0, fill.stderr
    api.stop()
    result = cli("versions", "--offline", "-o", "helm")
    lines = _lines(result)
    assert not any(line.startswith("--kube-version") for line in lines) and "--api-versions=apps/v1/Deployment" in lines
    assert "warning: the Kubernetes version of" in result.stderr and "helm assumes its own" in result.stderr
    assert "kubeVersion" not in yaml.safe_load(cli("versions", "--offline", "-o", "argocd").stdout)


def test_the_helm_and_argocd_printers_print_any_catalog_release():
    from kubectl_apiinfo.answers import listings
    from kubectl_apiinfo.printers.listings import CAPABILITIES
    from kubectl_apiinfo.sources.catalog import releases

    for release in (releases.release_names()[0], releases.newest()):
        answer = listings.capabilities(releases.load_release(release))
        assert answer["kubeVersion"] == f"{release}.0" and not answer["skipped"]
        for output, printer in CAPABILITIES.items():
            assert printer(answer, False).count("\n") >= len(answer["apiVersions"]), output


def test_a_name_a_shell_would_split_is_left_out_with_a_warning():
    from kubectl_apiinfo.answers import listings
    from kubectl_apiinfo.model import APISnapshot, Group, GroupVersion, Resource, SnapshotSource

    snapshot = APISnapshot(SnapshotSource("cluster", "odd"), [
        Group("odd.example.com", [GroupVersion("v1", [Resource("things", "Thing *", True, ["get"]), Resource("ones", "One", True, ["get"])])]),
    ])
    answer = listings.capabilities(snapshot)
    assert answer == {"kubeVersion": None, "apiVersions": ["odd.example.com/v1", "odd.example.com/v1/One"],
                      "skipped": ["odd.example.com/v1/Thing *"]}


# --- a real helm ---------------------------------------------------------------------------


@pytest.fixture
def chart(tmp_path):
    folder = tmp_path / "probe"
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(CHART_YAML)
    (folder / "templates" / "probe.yaml").write_text(TEMPLATE)
    return folder


def _render(helm, chart, env: dict, *args: str) -> dict:
    """helm template of the chart as a user types it: $(kubectl-apiinfo versions ARGS -o helm), split by the shell."""
    line = f'"$HELM" template x "$CHART" $("$APIINFO" versions {" ".join(args)} -o helm)' if args else '"$HELM" template x "$CHART"'
    env = {**env, "HELM": str(helm), "CHART": str(chart), "APIINFO": str(COMMAND)}
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {line}"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["data"]


def test_helm_template_renders_the_targets_branch(helm, chart, tmp_path):
    env = clean_env(tmp_path / "home")
    old = _render(helm, chart, env, "--kube-version", "1.20")
    new = _render(helm, chart, env, "--kube-version", "1.25")
    assert (old["pdb"], old["aggregator"], old["pod"], old["kube"], old["newer"]) == ("policy/v1beta1", "v1beta1", "core", "v1.20.0", "false")
    assert (new["pdb"], new["aggregator"], new["pod"], new["kube"], new["newer"]) == ("policy/v1", "v1", "core", "v1.25.0", "true")
    # Without the flags helm knows no kinds at all: the chart takes its fallback branch.
    assert _render(helm, chart, env)["pdb"] == "policy/v1beta1"


def test_helm_template_of_a_cached_cluster_sees_its_crds_and_compares_its_version(helm, chart, fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.30", token="t0ken", crd_groups=1, git_version="v1.30.2-eks-0a1b2c3")
    env = clean_env(tmp_path / "home", KUBECONFIG=str(api.write_kubeconfig(tmp_path / "kubeconfig")))
    subprocess.run([str(COMMAND), "refresh"], env=env, capture_output=True, check=True, timeout=60)
    api.stop()
    data = _render(helm, chart, env, "--offline")
    assert (data["pdb"], data["widget"], data["kube"], data["newer"]) == ("policy/v1", "crd", "v1.30.2", "true")
    assert _render(helm, chart, env, "--kube-version", "1.30")["widget"] == "none", "the catalog has no CRDs"
