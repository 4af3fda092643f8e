"""Live clusters: the real command against the fake API server, over HTTPS, in subprocesses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COMMAND, assert_one_line_error, clean_env

PLUGIN = Path(__file__).resolve().parent / "exec_plugins" / "credential_plugin.py"


class Env:
    """The command run as a user with one kubeconfig and one cache directory."""

    def __init__(self, home: Path, kubeconfig: Path | None = None, **extra: str):
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.env = clean_env(home, **extra)
        if kubeconfig is not None:
            self.env["KUBECONFIG"] = str(kubeconfig)
        self.cache_dir = home / ".cache" / "kubectl-apiinfo"

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(COMMAND), *args], capture_output=True, text=True, env=self.env, cwd=self.home, timeout=timeout)

    def json(self, *args: str):
        result = self(*args, "-o", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def user(tmp_path: Path, api, **kw) -> Env:
    return Env(tmp_path / "home", api.write_kubeconfig(tmp_path / "kubeconfig", **kw))


def two_contexts(tmp_path: Path, one, two) -> tuple[Path, dict]:
    """One kubeconfig with contexts 'one' and 'two' (current: one) for two servers; and its content."""
    import yaml

    a = yaml.safe_load(one.write_kubeconfig(tmp_path / "a.yaml", context_name="one").read_text())
    b = yaml.safe_load(two.write_kubeconfig(tmp_path / "b.yaml", context_name="two").read_text())
    for key in ("clusters", "users", "contexts"):
        a[key] += b[key]
    config = tmp_path / "kubeconfig"
    config.write_text(yaml.safe_dump(a))
    return config, a


def served_rows(snapshot_json: dict) -> set:
    return {(r["name"], r["apiVersion"]) for r in snapshot_json["resources"]}


# --- fetch once, answer from the cache --------------------------------------


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated", "legacy"])
def test_first_query_fetches_then_the_cache_answers_with_zero_requests(fake_apiserver, tmp_path, aggregated):
    api = fake_apiserver(release="1.33", token="t0ken-abc", aggregated=aggregated)
    me = user(tmp_path, api)
    first = me.json("deployments")
    made = api.requests()["count"]
    if aggregated:
        assert made == 4  # /version, /api, /apis and the CRDs (what each version says of itself)
    else:
        assert made > 20  # one request per group/version
    assert first["source"]["kind"] == "cluster" and first["source"]["discovery"] == ("aggregated" if aggregated else "legacy")
    assert first["resources"][0]["apiVersion"] == "apps/v1"

    api.reset()
    second = me.json("deployments")
    assert api.requests()["count"] == 0
    assert second["resources"] == first["resources"]
    assert second["source"]["fromCache"] is True

    api.stop()
    text = me("deployments")
    assert text.returncode == 0 and text.stderr == ""
    assert re.search(r"^SOURCE:\s+context fake at https://127\.0\.0\.1:\d+, Kubernetes v1\.33\.\d+, discovery cached, fetched \d+s ago$", text.stdout, re.M)
    assert me.json("resources")["resources"]  # every query works from the snapshot


def test_refresh_fetches_again_and_offline_never_does(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    assert_one_line_error(me("deployments", "--offline"), "no snapshot of fake is cached",
                          "'kubectl apiinfo refresh --context fake' fetches one")
    assert api.requests()["count"] == 0
    me.json("deployments")
    api.reset()
    me.json("deployments", "--refresh")
    log = api.requests()["requests"]
    assert sorted(r["path"] for r in log) == ["/api", "/apis", "/version"]
    # The refresh revalidates with the ETags it stored, and the server's 304 is enough.
    assert all(r["headers"].get("If-None-Match") for r in log if r["path"] in ("/api", "/apis"))
    assert [r["status"] for r in log if r["path"] in ("/api", "/apis")] == [304, 304]
    api.reset()
    me.json("deployments", "--offline")
    assert api.requests()["count"] == 0
    assert_one_line_error(me("deployments", "--offline", "--refresh"), "contradict")


def test_an_unreachable_cluster_answers_from_the_snapshot_with_one_warning(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    before = me.json("pods")
    api.stop()
    result = me("pods", "--refresh", "-o", "json")
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: cannot connect to https://127.0.0.1:")
    assert "answering from the snapshot fetched" in lines[0]
    assert json.loads(result.stdout)["resources"] == before["resources"]


def test_unreachable_without_snapshot_uses_the_last_seen_version_else_fails(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.24", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("versions")
    assert me("cache", "clear").returncode == 0
    api.stop()
    result = me("deployments", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert "answering from the catalog release 1.24" in result.stderr
    assert json.loads(result.stdout)["source"]["kind"] == "catalog"
    assert json.loads(result.stdout)["source"]["kubernetesVersion"] == "1.24"

    stranger = Env(tmp_path / "other-home", tmp_path / "kubeconfig")  # no cache, nothing known
    assert_one_line_error(stranger("deployments"), "cannot connect to https://127.0.0.1:", "no cached snapshot of fake")


# --- partial failure ----------------------------------------------------------


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated-stale", "legacy-503"])
def test_a_failing_aggregated_api_gives_the_full_answer_and_one_warning(fake_apiserver, tmp_path, aggregated):
    api = fake_apiserver(release="1.33", token="t0ken-abc", metrics=True, aggregated=aggregated)
    healthy = user(tmp_path / "a", api).json("resources")
    assert ("pods", "metrics.k8s.io/v1beta1") in served_rows(healthy)

    api.set_faults(fail_group_versions=["metrics.k8s.io/v1beta1"])
    me = user(tmp_path / "b", api)
    result = me("resources", "-o", "json")
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: discovery of metrics.k8s.io/v1beta1 failed"), result.stderr
    rows = served_rows(json.loads(result.stdout))
    assert rows == {r for r in served_rows(healthy) if r[1] != "metrics.k8s.io/v1beta1"}
    # kubectl api-versions lists it: it is served, only what it serves is unknown
    assert "metrics.k8s.io/v1beta1" in me("versions", "-o", "name").stdout.split()


def test_malformed_discovery_is_one_line_and_keeps_the_old_snapshot(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    before = me.json("resources")
    api.set_faults(malformed=["/apis"])
    result = me("resources", "--refresh", "-o", "json")
    # The refresh fails; the previous snapshot answers, with one warning.
    assert result.returncode == 0
    assert result.stderr.count("\n") == 1 and "malformed JSON for /apis" in result.stderr
    assert json.loads(result.stdout) == before
    api.stop()
    assert me.json("resources") == before
    # With nothing cached, the same fault is a one-line error.
    api2 = fake_apiserver(release="1.33", token="t0ken-abc", malformed=["/apis"])
    assert_one_line_error(user(tmp_path / "other", api2)("resources"), "malformed JSON for /apis")


def test_unauthorized_is_one_line_without_the_token(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="right-token-1234")
    me = user(tmp_path, api, token="wrong-token-5678")
    result = me("deployments")
    assert_one_line_error(result, "401 Unauthorized")
    assert "wrong-token-5678" not in result.stderr + result.stdout


# --- secrets ------------------------------------------------------------------


def test_no_secret_reaches_the_cache_or_a_bundle(fake_apiserver, certs, tmp_path):
    token = "s3cret-token-7d41c9"
    api = fake_apiserver(release="1.33", token=token, client_cert_auth=True)
    home = tmp_path / "home"
    me = Env(home, api.write_kubeconfig(tmp_path / "token.yaml"))
    me.json("deployments")
    cert_user = Env(home, api.write_kubeconfig(tmp_path / "cert.yaml", user="cert", context_name="viacert", embed=True))
    assert cert_user.json("pods")["source"]["name"] == "viacert"
    exec_config = tmp_path / "exec.yaml"
    _exec_kubeconfig(exec_config, api, ["--fixed-token", token], context="viaexec")
    exec_user = Env(home, exec_config)
    assert exec_user.json("services")["source"]["name"] == "viaexec"
    bundle = tmp_path / "bundle.json"
    assert me("cache", "export", str(bundle)).returncode == 0

    secrets = [token.encode()]
    for pem in (certs.client_cert_path, certs.client_key_path):
        body = [line for line in Path(pem).read_bytes().splitlines() if line and not line.startswith(b"-----")]
        secrets += body[:3]  # lines of the certificate and key bodies
    files = [p for p in me.cache_dir.rglob("*") if p.is_file()] + [bundle]
    assert len(files) >= 2
    for f in files:
        data = f.read_bytes()
        for s in secrets:
            assert s not in data, f"{s[:10]!r}... found in {f}"
    assert b"viaexec" in b"".join(f.read_bytes() for f in files)  # the grep does see the cache's contents
    assert (os.stat(me.cache_dir).st_mode & 0o777) == 0o700


def _exec_kubeconfig(path: Path, api, plugin_args: list[str], context: str = "fake", extra_files: Path | None = None) -> None:
    import yaml

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": api.url, "certificate-authority": str(api.ca_path)}}],
        "users": [
            {
                "name": f"{context}-user",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": sys.executable,
                        "args": [str(PLUGIN), *plugin_args],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-user"}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(doc))


def test_exec_plugin_runs_again_after_a_401(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="rotating-2")
    counter = tmp_path / "runs"
    config = tmp_path / "kubeconfig"
    _exec_kubeconfig(config, api, ["--token", "rotating", "--counter", str(counter)])
    me = Env(tmp_path / "home", config)
    assert me.json("deployments")["resources"][0]["apiVersion"] == "apps/v1"
    assert len(counter.read_text().splitlines()) == 2  # rotating-1 was refused, rotating-2 accepted
    statuses = [r["status"] for r in api.requests()["requests"]]
    assert 401 in statuses and statuses.count(200) == 4  # /version, /api, /apis, the CRD list
    api.reset()
    me.json("deployments")  # from the cache: the plugin does not run at all
    assert len(counter.read_text().splitlines()) == 2


def test_merged_kubeconfig_with_an_exec_user_works_as_kubectl_does(fake_apiserver, kubectl, tmp_path):
    """Two files: the first sets the context and the exec user, the second holds the cluster."""
    import yaml

    api = fake_apiserver(release="1.33", token="exec-token-99")
    first, second = tmp_path / "a" / "config", tmp_path / "b" / "config"
    first.parent.mkdir()
    second.parent.mkdir()
    (second.parent / "ca.crt").write_bytes(Path(api.ca_path).read_bytes())
    second.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "decoy",
        "clusters": [{"name": "prod", "cluster": {"server": api.url, "certificate-authority": "ca.crt"}}],
        "contexts": [{"name": "work", "context": {"cluster": "nowhere", "user": "nobody"}}],
    }))
    first.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "work",
        "contexts": [{"name": "work", "context": {"cluster": "prod", "user": "ops"}}],
        "users": [{"name": "ops", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
            "args": [str(PLUGIN), "--fixed-token", "exec-token-99"]}}}],
    }))
    env = Env(tmp_path / "home", None, KUBECONFIG=f"{first}{os.pathsep}{tmp_path / 'missing'}{os.pathsep}{second}")
    ours = env("versions", "-o", "name")
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run([str(kubectl), "api-versions", "--cache-dir", str(tmp_path / "kc")], capture_output=True, text=True, env=env.env)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout.split() == theirs.stdout.split()
    assert env.json("deployments")["source"]["name"] == "work"


def test_insecure_skip_tls_verify_warns(fake_apiserver, tmp_path):
    import yaml

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    config = tmp_path / "kubeconfig"
    doc = yaml.safe_load(api.write_kubeconfig(config).read_text())
    doc["clusters"][0]["cluster"] = {"server": api.url, "insecure-skip-tls-verify": True}
    config.write_text(yaml.safe_dump(doc))
    result = Env(tmp_path / "home", config)("deployments", "-o", "name")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n"
    assert result.stderr.startswith("warning: the kubeconfig sets insecure-skip-tls-verify") and result.stderr.count("\n") == 1

    strict = yaml.safe_load(config.read_text())
    strict["clusters"][0]["cluster"] = {"server": api.url}  # no CA, no skip: the system roots refuse it
    config.write_text(yaml.safe_dump(strict))
    assert_one_line_error(Env(tmp_path / "home2", config)("deployments"), "TLS with", "certificate-authority")


# --- side by side with kubectl ------------------------------------------------


@pytest.mark.parametrize("aggregated", [True, False], ids=["aggregated", "legacy"])
def test_kubectl_api_resources_and_ours_agree(fake_apiserver, kubectl, tmp_path, aggregated):
    api = fake_apiserver(release="1.33", token="t0ken-abc", aggregated=aggregated, metrics=True, crd_groups=3)
    me = user(tmp_path, api)

    def kubectl_out(*args):
        r = subprocess.run([str(kubectl), *args, "--cache-dir", str(tmp_path / "kc")], capture_output=True, text=True, env=me.env)
        assert r.returncode == 0, r.stderr
        return r.stdout

    for args in ([], ["-o", "wide"], ["--sort-by", "kind"], ["--namespaced=false"], ["--api-group", "apps"], ["--verbs", "create,watch"], ["-o", "name"]):
        ours = me("resources", *args)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == kubectl_out("api-resources", *args), args
    assert me("versions", "-o", "name").stdout == kubectl_out("api-versions")


def test_through_kubectl_proxy(fake_apiserver, kubectl, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    proxy = subprocess.Popen(
        [str(kubectl), "proxy", "--port=0", "--cache-dir", str(tmp_path / "kc")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=me.env,
    )
    try:
        line = proxy.stdout.readline()
        port = re.search(r":(\d+)", line).group(1)
        nobody = Env(tmp_path / "nobody")  # no kubeconfig at all: only -s
        via_proxy = nobody("-s", f"http://127.0.0.1:{port}", "resources")
        assert via_proxy.returncode == 0, via_proxy.stderr
        assert via_proxy.stdout == me("resources").stdout
        assert nobody.json("cache", "list")["snapshots"][0]["server"] == f"http://127.0.0.1:{port}"
    finally:
        proxy.kill()
        proxy.wait()


def test_kubectls_own_cache_answers_offline(fake_apiserver, kubectl, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", aggregated=False)
    kube_cache = tmp_path / "kubecache"
    me = Env(tmp_path / "home", api.write_kubeconfig(tmp_path / "kubeconfig"), KUBECACHEDIR=str(kube_cache))
    r = subprocess.run([str(kubectl), "api-resources", "--cache-dir", str(kube_cache)], capture_output=True, text=True, env=me.env)
    assert r.returncode == 0, r.stderr
    api.stop()
    result = me("resources", "--offline")
    assert result.returncode == 0, result.stderr
    assert "kubectl's discovery cache" in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == r.stdout


# --- the cache ----------------------------------------------------------------


def test_a_corrupt_cache_is_reported_and_rebuilt(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    (me.cache_dir / "cache.db").write_bytes(b"this is not a database" * 100)
    result = me("deployments", "-o", "name")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n"
    assert result.stderr.count("\n") == 1 and "unreadable" in result.stderr
    api.reset()
    assert me("deployments", "-o", "name").stderr == ""  # rebuilt: the next query is quiet and cached
    assert api.requests()["count"] == 0


def test_export_and_import_carry_snapshots_to_an_air_gapped_machine(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", crd_groups=2)
    me = user(tmp_path, api)
    online = me.json("widgets")
    bundle = tmp_path / "bundle.json"
    assert me("cache", "export", str(bundle)).returncode == 0
    api.stop()

    airgap = Env(tmp_path / "airgap", tmp_path / "kubeconfig")
    result = airgap("cache", "import", str(bundle))
    assert result.returncode == 0 and "imported 1 snapshot: fake" in result.stderr
    assert airgap.json("widgets", "--offline")["resources"] == online["resources"]
    assert [r["name"] for r in airgap.json("cache", "list")["snapshots"]] == ["fake"]


@pytest.mark.parametrize(
    "content,fragment",
    [
        (b"\x00\xffnot json", "not a JSON bundle"),
        (b'{"kind": "Something", "schemaVersion": 1, "snapshots": []}', "kind is not KubectlApiinfoBundle"),
        (b'{"kind": "KubectlApiinfoBundle", "schemaVersion": 1, "snapshots": [{"identity": "x"}]}', "snapshots[0]"),
        (b"[" * 100000 + b"]" * 100000, "not a JSON bundle"),
        (b'{"kind": "KubectlApiinfoBundle", "schemaVersion": "' + b"9" * (5 << 20) + b'", "snapshots": []}', "schemaVersion '99999"),
        (b'{"kind": "KubectlApiinfoBundle", "schemaVersion": ' + b"9" * 5000 + b', "snapshots": []}', "not a JSON bundle"),
    ],
    ids=["binary", "wrong-kind", "bad-entry", "deep-nesting", "5MB-version", "5000-digit-version"],
)
def test_a_bad_bundle_is_refused_and_changes_nothing(fake_apiserver, tmp_path, content, fragment):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    before = me.json("cache", "list")
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    refused = me("cache", "import", str(bad))
    assert_one_line_error(refused, fragment)
    assert len(refused.stderr) < 300, "what a bundle says is quoted, never echoed whole"
    assert me.json("cache", "list") == before


def test_a_bundle_with_a_valid_and_a_broken_entry_imports_nothing(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    me.json("deployments")
    bundle = tmp_path / "bundle.json"
    me("cache", "export", str(bundle))
    data = json.loads(bundle.read_text())
    broken = json.loads(json.dumps(data["snapshots"][0]))
    broken["identity"] = "another"
    broken["snapshot"]["groups"][0]["versions"][0]["resources"][0]["verbs"] = "all"
    data["snapshots"].append(broken)
    bundle.write_text(json.dumps(data))
    fresh = Env(tmp_path / "fresh", tmp_path / "kubeconfig")
    assert_one_line_error(fresh("cache", "import", str(bundle)), "snapshots[1]", "verbs", "nothing was imported")
    assert fresh.json("cache", "list")["snapshots"] == []


def test_refresh_all_contexts_fetches_every_cluster(fake_apiserver, tmp_path):

    one = fake_apiserver(release="1.33", token="tok-one")
    two = fake_apiserver(release="1.29", token="tok-two", aggregated=False)
    config, a = two_contexts(tmp_path, one, two)
    me = Env(tmp_path / "home", config)
    rows = {r["context"]: r for r in me.json("refresh", "--all-contexts")["refreshed"]}
    assert set(rows) == {"one", "two"}
    assert (rows["one"]["kubernetesVersion"], rows["one"]["discovery"]) == ("1.33", "aggregated")
    assert (rows["two"]["kubernetesVersion"], rows["two"]["discovery"]) == ("1.29", "legacy")
    assert sorted(r["name"] for r in me.json("cache", "list")["snapshots"]) == ["one", "two"]
    one.reset(), two.reset()
    assert me.json("versions", "--context", "two")["versions"]
    assert one.requests()["count"] == two.requests()["count"] == 0

    two.stop()
    result = me("refresh", "--all-contexts")
    assert_one_line_error(result, "refreshing two failed")
    assert re.search(r"^one\s+https://\S+\s+1\.33\s+aggregated\s+\d+\s+ok$", result.stdout, re.M)


def test_a_cluster_serving_a_removed_beta_learns_its_lifecycle(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.24", token="t0ken-abc")
    answer = user(tmp_path, api).json("poddisruptionbudgets")
    versions = {v["groupVersion"]: v for v in answer["resources"][0]["versions"]}
    assert versions["policy/v1beta1"]["served"]
    lifecycle = versions["policy/v1beta1"]["lifecycle"]
    assert (lifecycle["deprecated"], lifecycle["removed"], lifecycle["replacement"]) == ("1.21", "1.25", "policy/v1/PodDisruptionBudget")


def test_broken_kubeconfig_is_one_line(tmp_path):
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nclusters: [\n")
    assert_one_line_error(Env(tmp_path / "home", config)("deployments"), "not valid YAML")
    assert_one_line_error(Env(tmp_path / "home2")("deployments", "--kubeconfig", str(tmp_path / "nope")), "does not exist")
    assert_one_line_error(Env(tmp_path / "home3")("deployments", "--request-timeout", "soon", "-s", "https://127.0.0.1:1"), "--request-timeout")


def test_switching_context_is_noticed_although_answers_come_from_the_cache(fake_apiserver, tmp_path):
    import yaml

    one = fake_apiserver(release="1.33", token="tok-one")
    two = fake_apiserver(release="1.29", token="tok-two")
    config, a = two_contexts(tmp_path, one, two)
    me = Env(tmp_path / "home", config)
    assert me.json("versions")["versions"] and me.json("pods")["source"]["kubernetesVersion"] == "1.33"
    assert me.json("pods", "--context", "two")["source"]["kubernetesVersion"] == "1.29"
    a["current-context"] = "two"  # what 'kubectl config use-context two' does
    config.write_text(yaml.safe_dump(a))
    assert me.json("pods")["source"]["kubernetesVersion"] == "1.29"
    assert me.json("pods", "--context", "one")["source"]["kubernetesVersion"] == "1.33"


def test_token_flag_overrides_the_kubeconfig_user(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="the-right-one")
    me = user(tmp_path, api, token="an-old-one")
    assert_one_line_error(me("deployments"), "401 Unauthorized")
    assert me.json("deployments", "--token", "the-right-one")["resources"][0]["apiVersion"] == "apps/v1"


def test_request_timeout(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", latency_ms=3000)
    me = user(tmp_path, api)
    result = me("deployments", "--request-timeout", "500ms")
    assert_one_line_error(result, "did not answer within 0.5s", "--request-timeout")
    api.set_faults(latency_ms=0)
    assert me("deployments", "--request-timeout", "5s", "-o", "name").stdout == "deployments.apps\n"


def test_cache_directory_flag_and_environment_variable(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    elsewhere = tmp_path / "elsewhere"
    me.env["KUBECTL_APIINFO_CACHE_DIR"] = str(elsewhere)
    me.json("deployments")
    assert (elsewhere / "cache.db").exists() and not me.cache_dir.exists()
    flagged = tmp_path / "flagged"
    me.json("deployments", "--cache-dir", str(flagged))
    assert (flagged / "cache.db").exists()
    assert [s["name"] for s in me.json("cache", "list", "--cache-dir", str(flagged))["snapshots"]] == ["fake"]


@pytest.mark.parametrize("server,fragment", [("https://[::1", "not a valid URL"), ("https://127.0.0.1:1", "Connection refused")])
def test_bad_server_addresses_are_one_line(tmp_path, server, fragment):
    assert_one_line_error(Env(tmp_path / "home")("-s", server, "deployments"), fragment)


def test_a_refresh_killed_midway_leaves_the_previous_snapshot(fake_apiserver, tmp_path):
    import signal
    import time

    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = user(tmp_path, api)
    before = me.json("resources")
    api.set_faults(latency_ms=5000)
    refreshing = subprocess.Popen([str(COMMAND), "refresh"], env=me.env, cwd=me.home, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while api.requests()["count"] == 0 and time.time() < deadline:
        time.sleep(0.05)  # wait until the refresh is talking to the server
    assert api.requests()["count"] > 0
    refreshing.send_signal(signal.SIGKILL)
    refreshing.wait()
    api.stop()
    assert me.json("resources", "--offline") == before


@pytest.mark.skipif(not __import__("shutil").which("script"), reason="needs util-linux 'script' for a terminal")
def test_refresh_shows_progress_on_a_terminal_only(fake_apiserver, tmp_path):
    import shlex

    one = fake_apiserver(release="1.33", token="tok-one")
    two = fake_apiserver(release="1.29", token="tok-two")
    config, _ = two_contexts(tmp_path, one, two)
    me = Env(tmp_path / "home", config)
    piped = me("refresh", "--all-contexts")
    assert piped.returncode == 0 and "refreshed" not in piped.stderr
    command = shlex.join([str(COMMAND), "refresh", "--all-contexts"])
    tty = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, env=me.env, cwd=me.home)
    assert tty.returncode == 0
    assert "refreshed 2/2" in tty.stdout  # script puts the terminal's stdout and stderr together


def test_credentials_in_the_server_url_reach_no_cache_or_message(fake_apiserver, tmp_path):
    import yaml

    api = fake_apiserver(release="1.33")  # no authentication: the URL's password is only a secret to keep
    config = tmp_path / "kubeconfig"
    doc = yaml.safe_load(api.write_kubeconfig(config, user="none").read_text())
    doc["clusters"][0]["cluster"]["server"] = api.url.replace("https://", "https://someone:hunter2-pw@")
    config.write_text(yaml.safe_dump(doc))
    me = Env(tmp_path / "home", config)
    answer = me.json("deployments")
    assert "hunter2-pw" not in json.dumps(answer) and answer["source"]["server"].startswith("https://***@127.0.0.1:")
    api.stop()
    failed = me("deployments", "--refresh")
    assert failed.returncode == 0 and "hunter2-pw" not in failed.stderr and "***@" in failed.stderr
    flagged = Env(tmp_path / "other")("-s", api.url.replace("https://", "https://someone:hunter2-pw@"), "pods")
    assert flagged.returncode != 0 and "hunter2-pw" not in flagged.stderr
    for f in [p for p in (tmp_path / "home").rglob("*") if p.is_file()] + [p for p in (tmp_path / "other").rglob("*") if p.is_file()]:
        assert b"hunter2-pw" not in f.read_bytes(), f


@pytest.mark.parametrize("path", ["/version", "/api", "/apis"])
def test_a_server_that_echoes_the_token_in_its_reason_never_gets_it_printed_or_stored(fake_apiserver, tmp_path, path):
    api = fake_apiserver(release="1.33", token="s3cret-t0ken-xyz", status_override={path: 500}, echo_credentials=True)
    me = user(tmp_path, api, token="s3cret-t0ken-xyz")
    result = me("deployments")
    assert result.returncode == 1 and "500" in result.stderr, result.stderr
    assert "s3cret-t0ken-xyz" not in result.stderr + result.stdout
    assert "***" in result.stderr, "the reason is still shown, the credential cut out"
    for file in [p for p in me.cache_dir.rglob("*") if p.is_file()] if me.cache_dir.exists() else []:
        assert b"s3cret-t0ken-xyz" not in file.read_bytes(), file


def test_versions_lists_a_group_version_whose_discovery_failed_as_kubectl_does(fake_apiserver, tmp_path):
    """kubectl api-versions lists a group/version whose resource list failed: it is served, what it serves is unknown."""
    api = fake_apiserver(release="1.33", token="t0ken", metrics=True, fail_group_versions=["metrics.k8s.io/v1beta1"])
    me = user(tmp_path, api)
    rows = {r["groupVersion"]: r for r in me.json("versions")["versions"]}
    assert rows["metrics.k8s.io/v1beta1"]["resources"] is None and rows["metrics.k8s.io/v1beta1"]["discoveryFailed"]
    wide = me("versions", "-o", "wide")
    assert wide.returncode == 0
    line = next(l for l in wide.stdout.splitlines() if l.startswith("metrics.k8s.io/v1beta1 "))
    assert line.split()[-1] == "unknown"
    assert "discovery of metrics.k8s.io/v1beta1 failed" in wide.stderr and "--refresh" not in line


def test_cache_list_is_sorted_by_name(fake_apiserver, tmp_path):
    one, two = fake_apiserver(release="1.33", token="a"), fake_apiserver(release="1.32", token="b")
    config, _ = two_contexts(tmp_path, one, two)
    me = Env(tmp_path / "home", config)
    for context in ("two", "one"):  # fetched in the other order
        assert me("deployments", "--context", context).returncode == 0
    assert [r["name"] for r in me.json("cache", "list")["snapshots"]] == ["one", "two"]
    assert me("cache", "list", "-o", "name").stdout.split() == ["one", "two"]
