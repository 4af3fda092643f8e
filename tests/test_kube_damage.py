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
from test_cluster import Env, _exec_kubeconfig


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
    from kubectl_apiinfo.kube.private_paths import with_private_paths

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


def _encrypted(key_pem: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization  # trustme's own dependency

    key = serialization.load_pem_private_key(key_pem, None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw"))


def test_a_bad_client_key_blames_the_key_not_the_clusters_ca(fake_apiserver, certs, tmp_path):
    api = fake_apiserver(release="1.33", client_cert_auth=True)
    garbage = b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    for i, (key, fragment) in enumerate([
        (garbage, "client certificate and key of user 'fake-user' cannot be used"),
        (Path(certs.stranger_key_path).read_bytes(), "the key does not belong to the certificate"),
        (b"hello", "client-key of user 'fake-user' is not a PEM private key"),
        (_encrypted(Path(certs.client_key_path).read_bytes()), "the key is encrypted, which kubectl does not support"),
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
    from kubectl_apiinfo.sources.cluster.access import resolution_key
    from kubectl_apiinfo.sources.cluster.flags import ClusterFlags

    flags = ClusterFlags()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "config")
        Path(path).write_text("current-context: one\n")
        first = resolution_key(flags, [path])
        st = os.stat(path)
        Path(path).write_text("current-context: two\n")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        second = resolution_key(flags, [path])
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


def test_contexts_sharing_an_oidc_user_refresh_its_token_once(fake_apiserver, oidc_issuer, tmp_path):
    issuer = oidc_issuer(refresh_tokens=["rt-initial"], rotate=True)  # a spent refresh-token stops working
    one = fake_apiserver(release="1.33", oidc=issuer.api_config)
    two = fake_apiserver(release="1.29", oidc=issuer.api_config)
    config = _oidc_kubeconfig(tmp_path / "kubeconfig", one, issuer, issuer.id_token(-60))
    doc = yaml.safe_load(config.read_text())
    doc["clusters"].append({"name": "two", "cluster": {**doc["clusters"][0]["cluster"], "server": two.url}})
    doc["contexts"] = [{"name": "one", "context": {"cluster": "fake", "user": "fake-user"}},
                       {"name": "two", "context": {"cluster": "two", "user": "fake-user"}}]
    doc["current-context"] = "one"
    config.write_text(yaml.safe_dump(doc))
    result = Env(tmp_path / "home", config)("refresh", "--all-contexts")
    assert result.returncode == 0, result.stderr + result.stdout
    assert issuer.refreshes() == 1
    assert one.requests()["count"] and two.requests()["count"]


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


@pytest.mark.parametrize("rotate", [False, True], ids=["same-refresh-token", "rotated-refresh-token"])
def test_an_oidc_token_that_cannot_be_saved_still_answers_with_a_warning(fake_apiserver, oidc_issuer, tmp_path, rotate):
    issuer = oidc_issuer(rotate=rotate)
    api = fake_apiserver(release="1.33", oidc=issuer.api_config)
    config = _oidc_kubeconfig(tmp_path / "kube" / "config", api, issuer, issuer.id_token(-60))
    before = config.read_bytes()
    lock = Path(str(config) + ".lock")
    lock.write_text("")  # kubectl's lock: another writer is at work
    result = Env(tmp_path / "home", config)("deployments", "-o", "name")
    assert result.returncode == 0 and result.stdout == "deployments.apps\n"
    assert result.stderr.startswith("warning: the refreshed id-token of user 'fake-user'") and result.stderr.count("\n") == 1
    assert f"{lock} exists" in result.stderr
    assert config.read_bytes() == before and lock.exists()
    lock.unlink()
    again = Env(tmp_path / "home", config)("deployments", "--refresh")
    if rotate:  # the unsaved new refresh-token is lost, and the old one is spent
        assert "will need a new login" in result.stderr
        assert_one_line_error(again, "refused to refresh")
    else:
        assert "the next command refreshes it again" in result.stderr
        assert again.returncode == 0 and again.stderr == ""
        assert not lock.exists() and config.read_bytes() != before


# --- item 6: proxy-url --------------------------------------------------------------


def _with_proxy(tmp_path: Path, api, proxy_url: str) -> Path:
    config = api.write_kubeconfig(tmp_path / "kubeconfig")
    doc = yaml.safe_load(config.read_text())
    doc["clusters"][0]["cluster"]["proxy-url"] = proxy_url
    config.write_text(yaml.safe_dump(doc))
    return config


@pytest.mark.parametrize("auth", [False, True], ids=["no-auth", "username-password"])
def test_a_socks5_proxy_url_is_used_as_kubectl_uses_it(fake_apiserver, socks5_proxy, kubectl, tmp_path, auth):
    proxy = socks5_proxy(username="pxuser", password="px-s3cret") if auth else socks5_proxy()
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    url = proxy.url.replace("socks5://", "socks5://pxuser:px-s3cret@") if auth else proxy.url
    me = Env(tmp_path / "home", _with_proxy(tmp_path, api, url))
    answer = me.json("deployments")
    assert answer["resources"][0]["apiVersion"] == "apps/v1"
    ours = proxy.connections()
    assert ours and all((c["host"], c["port"]) == ("127.0.0.1", api.port) for c in ours)
    # kubectl goes the same way through the same proxy.
    theirs = subprocess.run([str(kubectl), "api-versions", "--cache-dir", str(tmp_path / "kc")], capture_output=True, text=True, env=me.env)
    assert theirs.returncode == 0, theirs.stderr
    assert len(proxy.connections()) > len(ours)
    assert {c["atyp"] for c in proxy.connections()} == {c["atyp"] for c in ours}


def test_an_unreachable_socks5_proxy_is_blamed_on_the_proxy(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    result = Env(tmp_path / "home", _with_proxy(tmp_path, api, "socks5://someone:pw-hidden@127.0.0.1:1"))("deployments")
    assert_one_line_error(result, "through the socks5 proxy-url socks5://***@127.0.0.1:1")
    assert "pw-hidden" not in result.stderr and "not a valid URL" not in result.stderr


@pytest.mark.parametrize("proxy_url,fragment", [
    ("ftp://proxy.example:21", "has the scheme 'ftp'"),
    ("socks4://proxy.example:1080", "has the scheme 'socks4'"),
    ("proxy.example:3128", "has the scheme 'proxy.example'"),
    ("10.0.0.1:3128", "has no scheme"),
    ("http://", "has no host"),
    ("http://proxy.example:99999", "is not a valid URL"),
])
def test_a_proxy_url_kubectl_refuses_is_blamed_on_the_proxy_url(fake_apiserver, kubectl, tmp_path, proxy_url, fragment):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    me = Env(tmp_path / "home", _with_proxy(tmp_path, api, proxy_url))
    result = me("deployments")
    assert_one_line_error(result, "proxy-url of cluster 'fake'", fragment)
    assert "server" not in result.stderr.split("proxy-url", 1)[0]
    assert api.requests()["count"] == 0
    theirs = subprocess.run([str(kubectl), "api-versions", "--cache-dir", str(tmp_path / "kc")], capture_output=True, text=True, env=me.env)
    assert theirs.returncode != 0  # kubectl refuses it too


# --- item 12: a directory as the kubeconfig --------------------------------------------


def test_a_directory_given_as_the_kubeconfig_is_called_a_directory(tmp_path):
    folder = tmp_path / "kubeconfigs"
    folder.mkdir()
    for args, env in (
        (["--kubeconfig", str(folder)], {}),
        ([], {"KUBECONFIG": str(folder)}),
    ):
        result = Env(tmp_path / "home", None, **env)(*args, "deployments")
        assert_one_line_error(result, f"the kubeconfig {folder} is a directory, not a file", str(folder / "config"))
        assert "permissions" not in result.stderr


# --- item 12: plain HTTP to an HTTPS server ------------------------------------------


def test_plain_http_to_an_https_server_says_it_speaks_https(fake_apiserver, oidc_issuer, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc")
    plain = api.url.replace("https://", "http://")
    # The fake API server answers as Go's net/http does (400 "Client sent an HTTP request to an HTTPS server").
    status = subprocess.run([sys.executable, "-c", f"import urllib.request,sys\ntry: urllib.request.urlopen({plain + '/version'!r})\nexcept urllib.error.HTTPError as e: print(e.code, e.read().decode())"],
                            capture_output=True, text=True)
    assert status.stdout.startswith("400 Client sent an HTTP request to an HTTPS server"), status
    result = Env(tmp_path / "home")("-s", plain, "deployments")
    assert_one_line_error(result, f"{plain} speaks HTTPS, not plain HTTP; use {api.url} as the server")
    # A server that just drops the connection (Python's ssl module does) is recognised by its handshake.
    issuer = oidc_issuer()
    dropped = Env(tmp_path / "home2")("-s", issuer.url.replace("https://", "http://"), "deployments")
    assert_one_line_error(dropped, "speaks HTTPS", f"use {issuer.url} as the server")
    closed = Env(tmp_path / "home3")("-s", "http://127.0.0.1:1", "deployments")
    assert_one_line_error(closed, "cannot connect to http://127.0.0.1:1")


# --- item 12: escape sequences in kubeconfig names --------------------------------------


def test_escape_sequences_in_a_context_name_never_reach_the_terminal_raw(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken-abc", metrics=True, fail_group_versions=["metrics.k8s.io/v1beta1"])
    evil = "prod\x1b]0;owned\x07\x1b[2J\rX"
    config = api.write_kubeconfig(tmp_path / "kubeconfig", context_name=evil)
    me = Env(tmp_path / "home", config)
    outputs = []
    first = me("deployments")  # fetches: the failed-group warning names the context
    outputs += [first]
    assert first.returncode == 0, first.stderr
    assert "warning: discovery of metrics.k8s.io/v1beta1 failed on prod\\x1b]0;owned\\x07" in first.stderr
    outputs += [me("cache", "list"), me("cache", "list", "-o", "name"), me("resources", "--api-group", "apps")]
    api.stop()
    cold = Env(tmp_path / "cold", config)
    outputs += [cold("deployments", "--offline")]  # an error that names the context
    assert_one_line_error(outputs[-1], "no snapshot of prod\\x1b]0;owned\\x07\\x1b[2J\\rX is cached")
    outputs += [me("--context", evil + "-missing", "pods")]
    assert_one_line_error(outputs[-1], "context 'prod\\x1b]0;owned\\x07\\x1b[2J\\rX-missing'")
    for result in outputs:
        for text in (result.stdout, result.stderr):
            assert "\x1b" not in text and "\x07" not in text and "\r" not in text, text
    assert "context prod\\x1b]0;owned" in first.stdout


# --- item 12: KUBECONFIG naming nothing usable ------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_a_kubeconfig_variable_naming_nothing_usable_says_the_catalog_answers(tmp_path, kind):
    named = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    if kind == "empty":
        for path in named:
            path.write_text("")
    me = Env(tmp_path / "home", None, KUBECONFIG=os.pathsep.join(map(str, named)))
    for args in (["show", "deployments"], ["resources", "--api-group", "apps"], ["versions"], ["deployments", "-o", "json"]):
        result = me(*args)
        assert result.returncode == 0, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"warning: KUBECONFIG={named[0]}"), result.stderr
        assert "answering from the offline catalog" in lines[0]
    quiet = Env(tmp_path / "home2")("versions")  # no KUBECONFIG, no ~/.kube/config: the plain offline use
    assert quiet.returncode == 0 and quiet.stderr == ""


# --- the TLS settings still apply, now that they live in memory --------------------------


@pytest.mark.parametrize("embed", [False, True], ids=["ca-file", "ca-data"])
def test_tls_server_name_and_the_ca_apply_with_and_without_a_client_certificate(fake_apiserver, kubectl, tmp_path, embed):
    api = fake_apiserver(release="1.33", token="t0ken-abc", client_cert_auth=True)
    for i, (user_kind, name, works) in enumerate([
        ("token", "localhost", True),  # the certificate names localhost: verified against it, not 127.0.0.1
        ("cert", "localhost", True),
        ("token", "elsewhere.example", False),
        ("cert", "elsewhere.example", False),
    ]):
        config = api.write_kubeconfig(tmp_path / f"kubeconfig{i}", user=user_kind, embed=embed)
        doc = yaml.safe_load(config.read_text())
        doc["clusters"][0]["cluster"]["tls-server-name"] = name
        config.write_text(yaml.safe_dump(doc))
        me = Env(tmp_path / f"home{i}", config)
        ours = me("versions", "-o", "name")
        theirs = subprocess.run([str(kubectl), "api-versions", "--cache-dir", str(tmp_path / f"kc{i}")], capture_output=True, text=True, env=me.env)
        assert (ours.returncode == 0) == works == (theirs.returncode == 0), (ours.stderr, theirs.stderr)
        if works:
            assert ours.stdout.split() == theirs.stdout.split()
        else:
            assert_one_line_error(ours, "TLS with", "elsewhere.example")


@pytest.mark.parametrize(
    "impostor, fragment",
    [
        ({"/version": "html"}, "sent a web page, not JSON, for /version"),
        ({"/apis": "html"}, "sent a web page, not JSON, for /apis"),
        ({"/api": "json"}, "answered /api with no discovery document"),
        ({"/apis": "json"}, "answered /apis with no discovery document"),
    ],
    ids=["html-version", "html-apis", "json-api", "json-apis"],
)
def test_a_login_page_or_foreign_json_is_no_cluster_that_serves_nothing(fake_apiserver, tmp_path, impostor, fragment):
    api = fake_apiserver(release="1.33", token="t0ken", impostor=impostor)
    result = Env(tmp_path / "home", api.write_kubeconfig(tmp_path / "kubeconfig"))("deployments")
    assert_one_line_error(result, fragment, "check that the server address is the cluster's API server")


def test_a_token_with_a_line_break_is_named_as_the_credentials_not_the_url(fake_apiserver, tmp_path):
    api = fake_apiserver(release="1.33", token="t0ken")
    config = api.write_kubeconfig(tmp_path / "kubeconfig")
    doc = yaml.safe_load(config.read_text())
    doc["users"][0]["user"] = {"token": "s3cr3t-part\nsecond-line"}
    config.write_text(yaml.safe_dump(doc))
    result = Env(tmp_path / "home", config)("deployments")
    assert_one_line_error(result, "credentials of user", "line break", "fix the token")
    assert "not a valid URL" not in result.stderr and "s3cr3t" not in result.stderr
