"""Hostile or odd kubeconfigs and ends of a process: the real command against the fake API server.

No key or CA material on disk, proxies, auth providers, kubeconfigs edited in place,
and the messages that quote what a kubeconfig says.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import COMMAND, assert_one_line_error
from test_cluster import PLUGIN, Env, _exec_kubeconfig, user


def _tmpdir_env(tmp_path: Path, config: Path) -> tuple[Env, Path]:
    scratch = tmp_path / "scratch-tmp"
    scratch.mkdir()
    return Env(tmp_path / "home", config, TMPDIR=str(scratch)), scratch


# --- item 5: no key or CA material left on disk ----------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_a_refresh_killed_by_a_signal_leaves_no_key_on_disk(fake_apiserver, tmp_path, signum):
    api = fake_apiserver(release="1.33", client_cert_auth=True)
    me, scratch = _tmpdir_env(tmp_path, api.write_kubeconfig(tmp_path / "kubeconfig", user="cert", embed=True))
    assert me.json("deployments")["resources"][0]["apiVersion"] == "apps/v1"
    api.reset()
    api.set_faults(latency_ms=4000)
    refreshing = subprocess.Popen([str(COMMAND), "refresh"], env=me.env, cwd=me.home, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 10
        while api.requests()["count"] == 0 and time.time() < deadline:
            time.sleep(0.05)
        assert api.requests()["count"] > 0  # the refresh is talking to the server, with its key loaded
        assert sorted(os.listdir(scratch)) == []  # not even while it runs
        refreshing.send_signal(signum)
        refreshing.wait(timeout=10)
    finally:
        if refreshing.poll() is None:
            refreshing.kill()
        refreshing.communicate()
    assert refreshing.returncode != 0
    assert [str(p) for p in scratch.rglob("*")] == []


def test_an_exec_plugin_failure_leaves_no_ca_directory(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    config = tmp_path / "kubeconfig"
    _exec_kubeconfig(config, api, ["--exit", "3"])
    doc = yaml.safe_load(config.read_text())
    doc["clusters"][0]["cluster"] = {"server": api.url, "certificate-authority-data": base64.b64encode(Path(api.ca_path).read_bytes()).decode()}
    config.write_text(yaml.safe_dump(doc))
    me, scratch = _tmpdir_env(tmp_path, config)
    for _ in range(2):
        assert_one_line_error(me("deployments"), "failed with exit status 3")
    assert [str(p) for p in scratch.rglob("*")] == []


def test_private_paths_leave_nothing_behind_with_or_without_memfd(tmp_path, monkeypatch):
    from kubectl_apiinfo.kube.transport import with_private_paths

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    for memory in (True, False):
        seen = with_private_paths([b"one", b"two" * 50000], lambda paths: [Path(p).read_bytes() for p in paths], memory=memory)
        assert seen == [b"one", b"two" * 50000]
        assert list(tmp_path.iterdir()) == []
    if hasattr(os, "memfd_create"):
        assert with_private_paths([b"x"], lambda paths: paths[0]).startswith("/proc/self/fd/")


# --- item 12: TLS and client-certificate messages -----------------------------------


def _embedded_cert_kubeconfig(tmp_path: Path, api, key: bytes, cert: bytes | None = None) -> Path:
    config = api.write_kubeconfig(tmp_path / "kubeconfig", user="cert", embed=True)
    doc = yaml.safe_load(config.read_text())
    creds = doc["users"][0]["user"]
    creds["client-key-data"] = base64.b64encode(key).decode()
    if cert is not None:
        creds["client-certificate-data"] = base64.b64encode(cert).decode()
    config.write_text(yaml.safe_dump(doc))
    return config


def test_a_bad_client_key_blames_the_key_not_the_clusters_ca(fake_apiserver, certs, tmp_path):
    api = fake_apiserver(release="1.33", client_cert_auth=True)
    garbage = b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    for i, (key, fragment) in enumerate([
        (garbage, "client certificate and key of user 'fake-user' cannot be used"),
        (Path(certs.stranger_key_path).read_bytes(), "the key does not belong to the certificate"),
        (b"hello", "client-key of user 'fake-user' is not a PEM private key"),
    ]):
        me = Env(tmp_path / f"home{i}", _embedded_cert_kubeconfig(tmp_path, api, key))
        result = me("deployments")
        assert_one_line_error(result, fragment)
        assert "certificate-authority" not in result.stderr and "TLS with" not in result.stderr
    assert api.requests()["count"] == 0  # refused before any connection


def test_a_tls_failure_message_closes_its_parentheses(fake_apiserver, certs, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    config = api.write_kubeconfig(tmp_path / "kubeconfig")
    doc = yaml.safe_load(config.read_text())
    doc["clusters"][0]["cluster"]["certificate-authority"] = str(certs.client_ca_path)  # a CA that did not sign the server
    config.write_text(yaml.safe_dump(doc))
    result = Env(tmp_path / "home", config)("deployments")
    assert_one_line_error(result, "TLS with", "certificate verify failed", "certificate-authority")
    line = result.stderr.strip()
    depth = 0
    for ch in line:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        assert depth >= 0, line
    assert depth == 0, line
    assert "_ssl.c" not in line


# --- item 9: a kubeconfig edited in place ----------------------------------------


def test_a_kubeconfig_edited_in_place_with_its_mtime_kept_is_noticed(fake_apiserver, tmp_path):
    from test_cluster import two_contexts

    one = fake_apiserver(release="1.33", token="tok-one")
    two = fake_apiserver(release="1.29", token="tok-two")
    config, doc = two_contexts(tmp_path, one, two)
    me = Env(tmp_path / "home", config)
    assert me.json("deployments")["source"]["name"] == "one"
    before = os.stat(config)
    doc["current-context"] = "two"  # as long as "one": the size stays the same
    text = yaml.safe_dump(doc).encode()
    assert len(text) == before.st_size
    with open(config, "r+b") as f:  # the same inode, as an editor that writes in place
        f.write(text)
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(config)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert me.json("deployments")["source"]["name"] == "two"
    assert me.json("deployments")["source"]["name"] == "two"  # and then remembered


def test_the_checksum_alone_tells_an_edit_apart():
    from kubectl_apiinfo.sources import choose


    flags = choose.ClusterFlags()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "config")
        Path(path).write_text("current-context: one\n")
        first = choose._resolution_key(flags, [path])
        st = os.stat(path)
        Path(path).write_text("current-context: two\n")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        second = choose._resolution_key(flags, [path])
        import json

        a, b = json.loads(first)[0][0], json.loads(second)[0][0]
        assert a[-1] != b[-1]  # the CRC differs, whatever ctime's resolution
        assert first != second


# --- item 12: an exec plugin that answers with an expired credential ----------------


@pytest.mark.parametrize("accepted", [True, False], ids=["server-accepts", "server-refuses"])
def test_an_expired_exec_credential_runs_the_plugin_at_most_twice(fake_apiserver, tmp_path, accepted):
    api = fake_apiserver(release="1.33", token="stale-tok" if accepted else "something-else")
    counter = tmp_path / "runs"
    config = tmp_path / "kubeconfig"
    _exec_kubeconfig(config, api, ["--fixed-token", "stale-tok", "--expires-in", "-3600", "--counter", str(counter)])
    me = Env(tmp_path / "home", config)
    result = me("deployments", "-o", "name")
    runs = len(counter.read_text().splitlines())
    if accepted:
        assert result.returncode == 0 and result.stdout == "deployments.apps\n", result.stderr
        assert runs == 1
    else:
        assert_one_line_error(result, "401 Unauthorized")
        assert runs == 2  # the first answer, and once more after the 401, as kubectl


# --- item 7: the oidc auth-provider ------------------------------------------------


def _oidc_kubeconfig(path: Path, api, issuer, id_token: str | None, refresh_token: str | None = "rt-initial") -> Path:
    api.write_kubeconfig(path, user="none")
    doc = yaml.safe_load(path.read_text())
    config = {
        "idp-issuer-url": issuer.url,
        "client-id": issuer.client_id,
        "client-secret": issuer.client_secret,
        "idp-certificate-authority-data": base64.b64encode(Path(issuer.ca_path).read_bytes()).decode(),
    }
    if id_token:
        config["id-token"] = id_token
    if refresh_token:
        config["refresh-token"] = refresh_token
    doc["users"][0]["user"] = {"auth-provider": {"name": "oidc", "config": config}}
    # Content the save must keep as it was.
    doc["preferences"] = {"colors": True}
    doc["users"].append({"name": "other", "user": {"token": "other-token"}})
    doc["contexts"].append({"name": "spare", "context": {"cluster": doc["clusters"][0]["name"], "user": "other", "namespace": "kube-system"}})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _provider_config(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["users"][0]["user"]["auth-provider"]["config"]


def _without_tokens(path: Path) -> dict:
    doc = yaml.safe_load(path.read_text())
    for key in ("id-token", "refresh-token"):
        doc["users"][0]["user"]["auth-provider"]["config"].pop(key, None)
    return doc


def test_a_valid_oidc_id_token_is_sent_and_the_issuer_is_not_asked(fake_apiserver, oidc_issuer, tmp_path):
    issuer = oidc_issuer()
    api = fake_apiserver(release="1.33", oidc=issuer.api_config)
    config = _oidc_kubeconfig(tmp_path / "kubeconfig", api, issuer, issuer.id_token(3600))
    before = config.read_bytes()
    me = Env(tmp_path / "home", config)
    assert me.json("deployments")["resources"][0]["apiVersion"] == "apps/v1"
    assert issuer.requests() == [] and config.read_bytes() == before
    assert {r["status"] for r in api.requests()["requests"]} == {200}


def test_an_expired_oidc_id_token_is_refreshed_and_saved_into_its_kubeconfig(fake_apiserver, oidc_issuer, kubectl, tmp_path):
    issuer = oidc_issuer(refresh_tokens=["rt-initial"], rotate=True)
    api = fake_apiserver(release="1.33", oidc=issuer.api_config)
    stale = issuer.id_token(-60)
    config = _oidc_kubeconfig(tmp_path / "kube" / "config", api, issuer, stale)
    os.chmod(config, 0o640)
    kept = _without_tokens(config)
    me = Env(tmp_path / "home", config)
    result = me("deployments", "-o", "name")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n" and result.stderr == "", result.stderr
    tokens = [r for r in issuer.requests() if r["path"] == "/token"]
    assert len(tokens) == 1 and tokens[0]["grant"] == "refresh_token" and tokens[0]["scope"] is None
    saved = _provider_config(config)
    assert saved["id-token"] != stale and saved["refresh-token"] not in ("rt-initial", None)
    assert stale not in result.stderr and "rt-initial" not in result.stderr
    assert _without_tokens(config) == kept  # everything else as it was
    assert os.stat(config).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in config.parent.iterdir()) == ["config"]  # no temporary file left
    # The saved tokens serve the next commands; real kubectl reads the file and is let in with them.
    assert me("deployments", "--refresh").returncode == 0
    assert issuer.refreshes() == 1
    view = subprocess.run([str(kubectl), "--kubeconfig", str(config), "api-versions", "--cache-dir", str(tmp_path / "kc")],
                          capture_output=True, text=True, env=me.env)
    assert view.returncode == 0, view.stderr
    assert issuer.refreshes() == 1 and "apps/v1" in view.stdout.split()


def test_kubectl_itself_refreshes_against_the_fake_issuer_the_same_way(fake_apiserver, oidc_issuer, kubectl, tmp_path):
    """The fake issuer is faithful enough for client-go's oidc plugin and Go's oauth2: kubectl refreshes and saves too."""
    issuer = oidc_issuer(refresh_tokens=["rt-initial"], rotate=True)
    api = fake_apiserver(release="1.33", oidc=issuer.api_config)
    config = _oidc_kubeconfig(tmp_path / "kubeconfig", api, issuer, issuer.id_token(-60))
    theirs = subprocess.run([str(kubectl), "--kubeconfig", str(config), "api-versions", "--cache-dir", str(tmp_path / "kc")],
                            capture_output=True, text=True)
    assert theirs.returncode == 0, theirs.stderr
    tokens = [r for r in issuer.requests() if r["path"] == "/token"]
    assert tokens and tokens[0]["auth"] == "basic"
    assert _provider_config(config)["refresh-token"] != "rt-initial"


def test_a_refused_oidc_token_is_refreshed_once(fake_apiserver, oidc_issuer, tmp_path):
    issuer = oidc_issuer()
    api = fake_apiserver(release="1.33", oidc=issuer.api_config)
    forged = issuer.id_token(3600, key="not-the-issuers-key")  # not expired, but the server refuses it
    config = _oidc_kubeconfig(tmp_path / "kubeconfig", api, issuer, forged)
    me = Env(tmp_path / "home", config)
    assert me.json("deployments")["resources"][0]["apiVersion"] == "apps/v1"
    assert issuer.refreshes() == 1
    assert 401 in [r["status"] for r in api.requests()["requests"]]


@pytest.mark.parametrize("case", ["no refresh token", "refused refresh token", "no id_token in the answer", "bad issuer CA"])
def test_oidc_failures_are_one_line_and_show_no_token(fake_apiserver, oidc_issuer, certs, tmp_path, case):
    issuer = oidc_issuer(refresh_tokens=["rt-known"], omit_id_token=case == "no id_token in the answer")
    api = fake_apiserver(release="1.33", oidc=issuer.api_config)
    stale = issuer.id_token(-60)
    refresh = {"no refresh token": None, "refused refresh token": "rt-unknown"}.get(case, "rt-known")
    config = _oidc_kubeconfig(tmp_path / "kubeconfig", api, issuer, stale, refresh_token=refresh)
    if case == "bad issuer CA":
        doc = yaml.safe_load(config.read_text())
        doc["users"][0]["user"]["auth-provider"]["config"]["idp-certificate-authority-data"] = base64.b64encode(Path(certs.client_ca_path).read_bytes()).decode()
        config.write_text(yaml.safe_dump(doc))
    before = config.read_bytes()
    result = Env(tmp_path / "home", config)("deployments")
    fragment = {
        "no refresh token": "has no refresh-token",
        "refused refresh token": "refused to refresh the id-token of user 'fake-user'",
        "no id_token in the answer": "without an id_token",
        "bad issuer CA": "cannot reach the OIDC issuer",
    }[case]
    assert_one_line_error(result, fragment)
    for secret in (stale, "rt-known", "rt-unknown", issuer.client_secret):
        assert secret not in result.stderr
    assert config.read_bytes() == before
    assert api.requests()["count"] == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_an_oidc_token_that_cannot_be_saved_still_answers_with_a_warning(fake_apiserver, oidc_issuer, tmp_path):
    issuer = oidc_issuer()
    api = fake_apiserver(release="1.33", oidc=issuer.api_config)
    config = _oidc_kubeconfig(tmp_path / "kube" / "config", api, issuer, issuer.id_token(-60))
    os.chmod(config.parent, 0o500)
    try:
        result = Env(tmp_path / "home", config)("deployments", "-o", "name")
    finally:
        os.chmod(config.parent, 0o700)
    assert result.returncode == 0 and result.stdout == "deployments.apps\n"
    assert result.stderr.startswith("warning: the refreshed id-token of user 'fake-user'") and result.stderr.count("\n") == 1
