"""kubeconfig loading with client-go's rules, against real files in temporary directories."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubectl_apiinfo.kube import kubeconfig
from kubectl_apiinfo.kube.credentials import NO_CREDENTIALS, ExecCredentials, StaticCredentials, clear_exec_cache
from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.kube.kubeconfig import ClusterAccess, KubeConfig

PLUGIN = Path(__file__).resolve().parent / "exec_plugins" / "credential_plugin.py"
V1 = "client.authentication.k8s.io/v1"
SECRET = "s3cr3t-kubeconfig-value-91ab"
SECRET_B64 = base64.b64encode(SECRET.encode()).decode()


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_exec_cache()
    yield
    clear_exec_cache()


def config(clusters=None, users=None, contexts=None, current=None, **extra) -> dict:
    doc = {"apiVersion": "v1", "kind": "Config", **extra}
    for section, item, entries in (("clusters", "cluster", clusters), ("users", "user", users), ("contexts", "context", contexts)):
        if entries is not None:
            doc[section] = [{"name": name, item: body} for name, body in entries.items()]
    if current is not None:
        doc["current-context"] = current
    return doc


def write(path: Path, doc) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def env(home: Path, *kubeconfigs: Path | str, **extra) -> dict:
    """A controlled environment: HOME in the tmp dir, KUBECONFIG as given, the real PATH."""
    home.mkdir(parents=True, exist_ok=True)
    e = {"HOME": str(home), "PATH": os.environ.get("PATH", os.defpath), **extra}
    if kubeconfigs:
        e["KUBECONFIG"] = os.pathsep.join(str(k) for k in kubeconfigs)
    return e


def plugin_wrapper(path: Path, *args: str) -> Path:
    """An executable file that runs the test plugin: a command given as a path, like real plugins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    quoted = " ".join(shlex.quote(a) for a in (sys.executable, str(PLUGIN), *args))
    path.write_text(f"#!/bin/sh\nexec {quoted} \"$@\"\n")
    path.chmod(0o755)
    return path


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def one_line_error(excinfo, *fragments: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message, message
    for f in fragments:
        assert f in message, message
    for secret in (SECRET, SECRET_B64):
        assert secret not in message, message
    return message


# --- which files, and merging ----------------------------------------------------


@pytest.fixture
def two_files(tmp_path):
    first = write(
        tmp_path / "a" / "config",
        config(
            clusters={"shared": {"server": "https://first.example:6443"}, "only-a": {"server": "https://a.example"}},
            users={"shared-user": {"token": "token-from-a"}},
            contexts={"ctx-a": {"cluster": "only-a", "user": "shared-user"}, "shared-ctx": {"cluster": "shared", "user": "shared-user"}},
            current="",
        ),
    )
    second = write(
        tmp_path / "b" / "config",
        config(
            clusters={"shared": {"server": "https://second.example:6443", "insecure-skip-tls-verify": True}, "only-b": {"server": "https://b.example"}},
            users={"shared-user": {"token": "token-from-b"}, "user-b": {"token": "token-b"}},
            contexts={"ctx-b": {"cluster": "shared", "user": "shared-user"}, "shared-ctx": {"cluster": "only-b", "user": "user-b"}},
            current="ctx-b",
        ),
    )
    third = write(tmp_path / "c" / "config", config(contexts={"ctx-c": {"cluster": "only-b"}}, current="ctx-c"))
    return first, second, third


def test_merge_first_file_wins_names_and_first_non_empty_current_context(tmp_path, two_files):
    first, second, third = two_files
    access = kubeconfig.load(environ=env(tmp_path / "home", first, second, third))
    # current-context: a's is empty, so b's wins over c's.
    assert access.context_name == "ctx-b"
    # ctx-b (from b) uses cluster "shared", which a defined first: a's whole entry wins (no field merge).
    assert access.server == "https://first.example:6443"
    assert access.insecure_skip_tls_verify is False
    assert access.credentials.auth_headers() == {"Authorization": "Bearer token-from-a"}
    # a context defined in both files: a's.
    assert kubeconfig.load(context="shared-ctx", environ=env(tmp_path / "home", first, second)).server == "https://first.example:6443"
    assert access.source_files == [str(first), str(second), str(third)]
    assert kubeconfig.context_names(environ=env(tmp_path / "home", first, second, third)) == ["ctx-a", "ctx-b", "ctx-c", "shared-ctx"]


def test_order_of_kubeconfig_decides(tmp_path, two_files):
    first, second, _ = two_files
    access = kubeconfig.load(environ=env(tmp_path / "home", second, first))
    assert access.context_name == "ctx-b"
    assert access.server == "https://second.example:6443" and access.insecure_skip_tls_verify is True


def test_missing_and_empty_entries_are_skipped_and_a_file_is_read_once(tmp_path, two_files):
    first, second, _ = two_files
    listed = ["", str(tmp_path / "missing"), str(second), "", str(second), str(tmp_path / "b" / ".." / "b" / "config"), str(first)]
    access = kubeconfig.load(environ=env(tmp_path / "home", *listed))
    assert access.source_files == [str(second), str(first)]
    assert access.server == "https://second.example:6443"


def test_explicit_kubeconfig_is_the_only_file(tmp_path, two_files):
    first, second, _ = two_files
    access = kubeconfig.load(kubeconfig=str(second), environ=env(tmp_path / "home", first))
    assert access.source_files == [str(second)]
    assert access.credentials.auth_headers() == {"Authorization": "Bearer token-from-b"}


def test_explicit_kubeconfig_that_does_not_exist(tmp_path, two_files):
    with pytest.raises(UserError) as e:
        kubeconfig.load(kubeconfig=str(tmp_path / "nope"), environ=env(tmp_path / "home", two_files[0]))
    one_line_error(e, str(tmp_path / "nope"), "does not exist", "--kubeconfig")


@pytest.mark.parametrize("kubeconfig_var", [None, ""])
def test_home_kube_config_is_the_default(tmp_path, kubeconfig_var):
    home = tmp_path / "home"
    write(home / ".kube" / "config", config(clusters={"c": {"server": "https://home.example"}}, contexts={"x": {"cluster": "c"}}, current="x"))
    environ = env(home)
    if kubeconfig_var is not None:
        environ["KUBECONFIG"] = kubeconfig_var
    access = kubeconfig.load(environ=environ)
    assert access.server == "https://home.example"
    assert access.source_files == [str(home / ".kube" / "config")]


def test_kubeconfig_var_does_not_fall_back_to_home(tmp_path):
    home = tmp_path / "home"
    write(home / ".kube" / "config", config(clusters={"c": {"server": "https://home.example"}}, contexts={"x": {"cluster": "c"}}, current="x"))
    with pytest.raises(UserError) as e:
        kubeconfig.load(environ=env(home, tmp_path / "missing"))
    one_line_error(e, "no kubeconfig found", "--server")


# --- paths and data ----------------------------------------------------------------


def test_relative_paths_resolve_against_each_files_directory(tmp_path, monkeypatch):
    (tmp_path / "one" / "certs").mkdir(parents=True)
    (tmp_path / "one" / "certs" / "ca.pem").write_bytes(b"CA FROM ONE")
    (tmp_path / "two" / "pki").mkdir(parents=True)
    (tmp_path / "two" / "pki" / "client.pem").write_bytes(b"CERT FROM TWO")
    (tmp_path / "two" / "pki" / "client.key").write_bytes(b"KEY FROM TWO")
    (tmp_path / "two" / "pki" / "token").write_text("token-from-two\n")
    one = write(tmp_path / "one" / "config", config(clusters={"c": {"server": "https://c.example", "certificate-authority": "certs/ca.pem"}}))
    two = write(
        tmp_path / "two" / "config",
        config(
            users={"cert-user": {"client-certificate": "pki/client.pem", "client-key": "./pki/client.key"}, "token-user": {"tokenFile": "pki/token"}},
            contexts={"cert": {"cluster": "c", "user": "cert-user"}, "token": {"cluster": "c", "user": "token-user"}},
            current="cert",
        ),
    )
    monkeypatch.chdir(tmp_path)  # neither file's directory: cwd-relative resolution would fail
    environ = env(tmp_path / "home", two, one)
    access = kubeconfig.load(environ=environ)
    assert access.ca_data == b"CA FROM ONE"
    assert access.credentials.client_cert() == (b"CERT FROM TWO", b"KEY FROM TWO")
    assert kubeconfig.load(context="token", environ=environ).credentials.auth_headers() == {"Authorization": "Bearer token-from-two"}


def test_exec_command_with_a_path_resolves_against_its_file_and_a_bare_name_uses_path(tmp_path, monkeypatch):
    kdir = tmp_path / "kube"
    plugin_wrapper(kdir / "bin" / "relative-plugin", "--fixed-token", "from-relative-path")
    plugin_wrapper(tmp_path / "on-path" / "apiinfo-test-plugin", "--fixed-token", "from-PATH")
    plugin_wrapper(kdir / "apiinfo-test-plugin", "--fixed-token", "decoy-in-kubeconfig-dir")
    exec_of = lambda command: {"exec": {"apiVersion": V1, "command": command, "interactiveMode": "Never"}}  # noqa: E731
    path = write(
        kdir / "config",
        config(
            clusters={"c": {"server": "https://c.example"}},
            users={"rel": exec_of("./bin/relative-plugin"), "bare": exec_of("apiinfo-test-plugin")},
            contexts={"rel": {"cluster": "c", "user": "rel"}, "bare": {"cluster": "c", "user": "bare"}},
        ),
    )
    monkeypatch.chdir(tmp_path)
    environ = env(tmp_path / "home", path, PATH=f"{tmp_path / 'on-path'}{os.pathsep}{os.environ.get('PATH', '')}")
    rel = kubeconfig.load(context="rel", environ=environ).credentials
    assert isinstance(rel, ExecCredentials) and rel.config.command == str(kdir / "bin" / "relative-plugin")
    assert rel.auth_headers() == {"Authorization": "Bearer from-relative-path"}
    bare = kubeconfig.load(context="bare", environ=environ).credentials
    assert bare.auth_headers() == {"Authorization": "Bearer from-PATH"}


def test_data_wins_over_files(tmp_path):
    path = write(
        tmp_path / "config",
        config(
            clusters={"c": {"server": "https://c.example", "certificate-authority": "missing-ca.pem", "certificate-authority-data": base64.b64encode(b"CA DATA").decode()}},
            users={"u": {
                "client-certificate": "missing.pem", "client-certificate-data": base64.b64encode(b"CERT DATA").decode(),
                "client-key": "missing.key", "client-key-data": base64.b64encode(b"KEY DATA").decode(),
            }},
            contexts={"x": {"cluster": "c", "user": "u"}},
            current="x",
        ),
    )
    access = kubeconfig.load(kubeconfig=str(path), environ=env(tmp_path / "home"))
    assert access.ca_data == b"CA DATA"
    assert access.credentials.client_cert() == (b"CERT DATA", b"KEY DATA")


def test_cluster_fields(tmp_path):
    path = write(
        tmp_path / "config",
        config(
            clusters={"c": {"server": "https://10.0.0.1:6443/", "insecure-skip-tls-verify": True, "tls-server-name": "api.internal", "proxy-url": "http://proxy:3128"}},
            users={"u": {"username": "admin", "password": SECRET}},
            contexts={"x": {"cluster": "c", "user": "u"}},
            current="x",
        ),
    )
    access = kubeconfig.load(kubeconfig=str(path), environ=env(tmp_path / "home"))
    assert (access.server, access.insecure_skip_tls_verify, access.tls_server_name, access.proxy_url, access.ca_data) == (
        "https://10.0.0.1:6443", True, "api.internal", "http://proxy:3128", None,
    )
    assert (access.context_name, access.cluster_name, access.user_name) == ("x", "c", "u")
    header = access.credentials.auth_headers()["Authorization"]
    assert base64.b64decode(header.split()[1]) == f"admin:{SECRET}".encode()
    assert SECRET not in repr(access) and SECRET_B64 not in repr(access)


def test_a_server_without_scheme_is_https_only_with_tls_settings(tmp_path):
    path = write(
        tmp_path / "config",
        config(
            clusters={"tls": {"server": "10.0.0.1:6443", "certificate-authority-data": base64.b64encode(b"CA").decode()}, "plain": {"server": "localhost:8080"}},
            contexts={"tls": {"cluster": "tls"}, "plain": {"cluster": "plain"}},
        ),
    )
    environ = env(tmp_path / "home", path)
    assert kubeconfig.load(context="tls", environ=environ).server == "https://10.0.0.1:6443"
    assert kubeconfig.load(context="plain", environ=environ).server == "http://localhost:8080"


# --- overrides ---------------------------------------------------------------------------


@pytest.fixture
def rich(tmp_path):
    counter = tmp_path / "runs"
    return write(
        tmp_path / "config",
        config(
            clusters={
                "prod": {"server": "https://prod.example", "certificate-authority-data": base64.b64encode(b"PROD CA").decode()},
                "stage": {"server": "https://stage.example"},
            },
            users={
                "exec-user": {"exec": {"apiVersion": V1, "command": sys.executable, "args": [str(PLUGIN), "--counter", str(counter), "--token", "exec"], "interactiveMode": "Never"}},
                "token-user": {"token": SECRET},
                "cert-user": {"client-certificate-data": base64.b64encode(b"C").decode(), "client-key-data": base64.b64encode(b"K").decode()},
            },
            contexts={"prod": {"cluster": "prod", "user": "exec-user"}, "stage": {"cluster": "stage", "user": "token-user"}},
            current="prod",
        ),
    )


def test_context_cluster_and_user_flags(tmp_path, rich):
    environ = env(tmp_path / "home", rich)
    assert kubeconfig.load(environ=environ).server == "https://prod.example"
    stage = kubeconfig.load(context="stage", environ=environ)
    assert (stage.context_name, stage.cluster_name, stage.user_name, stage.server) == ("stage", "stage", "token-user", "https://stage.example")
    assert stage.credentials.auth_headers() == {"Authorization": f"Bearer {SECRET}"}
    mixed = kubeconfig.load(cluster="stage", user="cert-user", environ=environ)
    assert (mixed.context_name, mixed.cluster_name, mixed.user_name, mixed.server) == ("prod", "stage", "cert-user", "https://stage.example")
    assert mixed.credentials.client_cert() == (b"C", b"K")
    assert runs(tmp_path / "runs") == 0  # loading never runs a plugin; only asking for credentials does


def test_server_flag_keeps_the_clusters_tls_settings(tmp_path, rich):
    access = kubeconfig.load(server="https://other.example:8443", environ=env(tmp_path / "home", rich))
    assert access.server == "https://other.example:8443"
    assert access.ca_data == b"PROD CA"
    assert access.cluster_name == "prod"


def test_token_flag_replaces_the_users_credentials(tmp_path, rich):
    environ = env(tmp_path / "home", rich)
    access = kubeconfig.load(token="flag-token", environ=environ)
    assert access.credentials.auth_headers() == {"Authorization": "Bearer flag-token"}
    assert access.credentials.client_cert() is None
    assert runs(tmp_path / "runs") == 0  # the exec plugin is not run
    cert = kubeconfig.load(user="cert-user", token="flag-token", environ=environ)
    assert cert.credentials.client_cert() is None
    assert "flag-token" not in repr(access)


def test_a_users_token_wins_over_its_exec_plugin_as_in_client_go(tmp_path):
    counter = tmp_path / "runs"
    exec_section = {"apiVersion": V1, "command": sys.executable, "args": [str(PLUGIN), "--counter", str(counter), "--token", "exec"], "interactiveMode": "Never"}
    path = write(
        tmp_path / "config",
        config(clusters={"c": {"server": "https://c.example"}}, users={"u": {"token": "static", "exec": exec_section}}, contexts={"x": {"cluster": "c", "user": "u"}}, current="x"),
    )
    access = kubeconfig.load(kubeconfig=str(path), environ=env(tmp_path / "home"))
    assert access.credentials.auth_headers() == {"Authorization": "Bearer static"}
    assert runs(counter) == 0


def test_server_flag_without_any_kubeconfig_reaches_kubectl_proxy(tmp_path):
    access = kubeconfig.load(server="http://127.0.0.1:8001", environ=env(tmp_path / "empty-home"))
    assert access.server == "http://127.0.0.1:8001"
    assert access.credentials is NO_CREDENTIALS
    assert access.credentials.auth_headers() == {} and access.credentials.client_cert() is None
    assert (access.context_name, access.cluster_name, access.user_name, access.source_files) == ("", "", "", [])
    assert kubeconfig.load(server="https://api.example", token="t", environ=env(tmp_path / "empty-home")).credentials.auth_headers() == {"Authorization": "Bearer t"}


def test_plain_http_server_gets_no_credentials_like_kubectl(tmp_path, rich):
    environ = env(tmp_path / "home", rich)
    access = kubeconfig.load(context="stage", server="http://127.0.0.1:8001", environ=environ)
    assert access.credentials.auth_headers() == {}
    assert kubeconfig.load(server="http://127.0.0.1:8001", token="t", environ=environ).credentials.auth_headers() == {}
    with pytest.raises(UserError) as e:  # a bad name is still an error, as in kubectl
        kubeconfig.load(server="http://127.0.0.1:8001", user="ghost", environ=environ)
    one_line_error(e, "user 'ghost'", "--user")
    assert runs(tmp_path / "runs") == 0


def test_loading_every_context(tmp_path, rich):
    kc = KubeConfig.read(environ=env(tmp_path / "home", rich))
    assert kc.context_names() == ["prod", "stage"]
    assert [kc.access(context=name).server for name in kc.context_names()] == ["https://prod.example", "https://stage.example"]
    assert kubeconfig.context_names(kubeconfig=str(rich), environ=env(tmp_path / "home")) == ["prod", "stage"]


# --- identity -----------------------------------------------------------------------------


def test_identity_ignores_credentials_and_follows_server_cluster_and_context(tmp_path):
    def identity(token="t1", user_kind="token", server="https://x.example", cluster="c", context="ctx"):
        user = {"token": token} if user_kind == "token" else {"username": "u", "password": token}
        path = write(
            tmp_path / "id-config",
            config(clusters={cluster: {"server": server}}, users={"u": user}, contexts={context: {"cluster": cluster, "user": "u"}}, current=context),
        )
        access = kubeconfig.load(kubeconfig=str(path), environ=env(tmp_path / "home"))
        assert token not in access.identity
        return access.identity

    base = identity()
    assert identity(token=SECRET) == base
    assert identity(token=SECRET, user_kind="basic") == base
    assert identity(server="https://y.example") != base
    assert identity(cluster="other") != base
    assert identity(context="other") != base


# --- errors ----------------------------------------------------------------------------------

GOOD_CLUSTER = {"server": "https://c.example"}
GOOD_USER = {"token": SECRET}


def doc(clusters=None, users=None, contexts=None, current="x"):
    return config(
        clusters=clusters if clusters is not None else {"c": GOOD_CLUSTER},
        users=users if users is not None else {"u": GOOD_USER},
        contexts=contexts if contexts is not None else {"x": {"cluster": "c", "user": "u"}},
        current=current,
    )


ERROR_CASES = {
    "invalid yaml": (f"users:\n- name: u\n  user: {{token: \"{SECRET}\n", {}, ["is not valid YAML", "(line ", "config"]),
    "not a mapping": (f"- {SECRET}\n", {}, ["is not a kubeconfig"]),
    "no current context": (doc(current=""), {}, ["no context is set", "--context", "kubectl config use-context"]),
    "unknown context flag": (doc(contexts={f"ctx{i}": {"cluster": "c"} for i in range(7)}, current=""), {"context": "nope"},
                             ["context 'nope' is not in the kubeconfig", "known contexts: ctx0, ctx1, ctx2, ctx3, ctx4 (and 2 more)"]),
    "unknown current context": (doc(current="gone"), {}, ["context 'gone'", "current-context", "known contexts: x"]),
    "unknown cluster flag": (doc(), {"cluster": "nope"}, ["cluster 'nope'", "--cluster", "known clusters: c"]),
    "context names unknown cluster": (doc(contexts={"x": {"cluster": "ghost", "user": "u"}}), {}, ["cluster 'ghost'", "context 'x'", "known clusters: c"]),
    "unknown user flag": (doc(), {"user": "nope"}, ["user 'nope'", "--user", "known users: u"]),
    "context names unknown user": (doc(contexts={"x": {"cluster": "c", "user": "ghost"}}), {}, ["user 'ghost'", "context 'x'", "known users: u"]),
    "cluster without server": (doc(clusters={"c": {"certificate-authority-data": SECRET_B64}}), {}, ["cluster 'c' has no server", "--server"]),
    "context without cluster": (doc(contexts={"x": {"user": "u"}}), {}, ["context 'x' names no cluster"]),
    "missing CA file": (doc(clusters={"c": {"server": "https://c", "certificate-authority": "nope-ca.pem"}}), {}, ["certificate-authority file", "nope-ca.pem", "cluster 'c'"]),
    "missing client cert": (doc(users={"u": {"client-certificate": "nope.crt", "client-key-data": SECRET_B64}}), {}, ["client-certificate file", "nope.crt", "user 'u'"]),
    "missing client key": (doc(users={"u": {"client-certificate-data": SECRET_B64, "client-key": "nope.key"}}), {}, ["client-key file", "nope.key"]),
    "missing token file": (doc(users={"u": {"tokenFile": "nope-token"}}), {}, ["tokenFile file", "nope-token"]),
    "bad CA data": (doc(clusters={"c": {"server": "https://c", "certificate-authority-data": SECRET + "!"}}), {}, ["certificate-authority-data of cluster 'c'", "not valid base64"]),
    "bad cert data": (doc(users={"u": {"client-certificate-data": SECRET + "%", "client-key-data": SECRET_B64}}), {}, ["client-certificate-data of user 'u'", "not valid base64"]),
    "bad key data": (doc(users={"u": {"client-certificate-data": SECRET_B64, "client-key-data": SECRET + "%"}}), {}, ["client-key-data of user 'u'", "not valid base64"]),
    "oidc without issuer": (doc(users={"u": {"auth-provider": {"name": "oidc", "config": {"id-token": SECRET, "client-secret": SECRET, "client-id": "k"}}}}), {},
                            ["oidc auth-provider of user 'u'", "no idp-issuer-url"]),
    "oidc without client id": (doc(users={"u": {"auth-provider": {"name": "oidc", "config": {"id-token": SECRET, "idp-issuer-url": "https://i"}}}}), {},
                               ["no client-id"]),
    "gcp auth provider": (doc(users={"u": {"auth-provider": {"name": "gcp", "config": {"access-token": SECRET}}}}), {},
                          ["'gcp' auth-provider", "user 'u'", "removed in 1.26", "gke-gcloud-auth-plugin"]),
    "azure auth provider": (doc(users={"u": {"auth-provider": {"name": "azure", "config": {"access-token": SECRET}}}}), {},
                            ["'azure' auth-provider", "removed in 1.26", "kubelogin"]),
    "unknown auth provider": (doc(users={"u": {"auth-provider": {"name": "openstack"}}}), {}, ["auth-provider 'openstack'", "exec plugin"]),
    "token and basic": (doc(users={"u": {"token": SECRET, "username": "a", "password": SECRET}}), {}, ["both a token and a username/password"]),
    "cert without key": (doc(users={"u": {"client-certificate-data": SECRET_B64}}), {}, ["client-certificate but no client-key"]),
    "v1 exec without interactiveMode": (doc(users={"u": {"exec": {"apiVersion": V1, "command": "p", "args": [SECRET]}}}), {}, ["requires interactiveMode", "user 'u'"]),
    "duplicate name": (f"users:\n- name: u\n  user: {{token: {SECRET}}}\n- name: u\n  user: {{token: {SECRET}}}\n", {}, ["lists user 'u' twice"]),
    "section not a list": ({"clusters": {"c": GOOD_CLUSTER}}, {}, ["'clusters'", "is not a list"]),
    "entry without name": ({"users": [{"user": GOOD_USER}]}, {}, ["an entry of 'users'", "has no name"]),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_are_one_line_and_never_show_a_secret(tmp_path, case):
    content, flags, fragments = ERROR_CASES[case]
    path = write(tmp_path / "kube" / "config", content)
    with pytest.raises(UserError) as e:
        kubeconfig.load(kubeconfig=str(path), environ=env(tmp_path / "home"), **flags)
    one_line_error(e, *fragments)


def test_invalid_yaml_names_the_file_among_several(tmp_path, two_files):
    broken = write(tmp_path / "broken" / "config", "clusters: [\n")
    with pytest.raises(UserError) as e:
        kubeconfig.load(environ=env(tmp_path / "home", two_files[0], broken))
    one_line_error(e, str(broken), "not valid YAML")


def test_empty_file_is_an_empty_kubeconfig(tmp_path, two_files):
    empty = write(tmp_path / "empty", "")
    access = kubeconfig.load(environ=env(tmp_path / "home", empty, two_files[1]))
    assert access.context_name == "ctx-b" and access.source_files == [str(empty), str(two_files[1])]


# --- the way kubectl works it ------------------------------------------------------------------


def test_merged_config_with_exec_plugin_user_works_as_kubectl_would(tmp_path):
    counter, record = tmp_path / "runs", tmp_path / "record.json"
    clusters = write(
        tmp_path / "clusters" / "config",
        config(
            clusters={
                "eks": {
                    "server": "https://eks.example:443",
                    "certificate-authority-data": base64.b64encode(b"EKS CA").decode(),
                    "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"region": "eu-west-1"}}],
                }
            }
        ),
    )
    users = write(
        tmp_path / "users" / "config",
        config(
            users={"eks-user": {"exec": {
                "apiVersion": V1, "command": sys.executable, "interactiveMode": "IfAvailable", "provideClusterInfo": True,
                "args": [str(PLUGIN), "--counter", str(counter), "--record", str(record), "--token", "eks", "--expires-in", "900"],
                "env": [{"name": "AWS_PROFILE", "value": "dev"}],
            }}},
            contexts={"eks": {"cluster": "eks", "user": "eks-user"}},
            current="eks",
        ),
    )
    access = kubeconfig.load(environ={**os.environ, **env(tmp_path / "home", users, clusters)})
    assert access.server == "https://eks.example:443" and access.ca_data == b"EKS CA"
    creds = access.credentials
    assert isinstance(creds, ExecCredentials)
    assert creds.auth_headers() == {"Authorization": "Bearer eks-1"}
    assert creds.auth_headers() == {"Authorization": "Bearer eks-1"}
    assert runs(counter) == 1
    seen = json.loads(record.read_text())
    assert seen["env"]["AWS_PROFILE"] == "dev"
    assert seen["exec_info"]["spec"]["cluster"] == {
        "server": "https://eks.example:443",
        "certificate-authority-data": base64.b64encode(b"EKS CA").decode(),
        "config": {"region": "eu-west-1"},
    }
    assert creds.refresh() is True and creds.auth_headers() == {"Authorization": "Bearer eks-2"}


def _kubectl() -> str:
    found = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not found:
        pytest.skip("kubectl is not on PATH (set KUBECTL to compare against it)")
    return found


@pytest.mark.parametrize("flags", [{}, {"context": "shared-ctx"}, {"context": "ctx-a"}])
def test_merge_agrees_with_real_kubectl(tmp_path, two_files, flags):
    kubectl = _kubectl()
    environ = env(tmp_path / "home", *two_files)
    argv = [kubectl, "config", "view", "--minify", "-o", "json"] + [f"--{k}={v}" for k, v in flags.items()]
    shown = json.loads(subprocess.run(argv, env=environ, capture_output=True, text=True, check=True, timeout=60).stdout)
    ours = kubeconfig.load(environ=environ, **flags)
    context = shown["contexts"][0]
    assert (ours.context_name, ours.cluster_name, ours.user_name) == (shown["current-context"], context["context"]["cluster"], context["context"]["user"])
    assert ours.server == shown["clusters"][0]["cluster"]["server"]
    assert ours.insecure_skip_tls_verify == bool(shown["clusters"][0]["cluster"].get("insecure-skip-tls-verify"))


def test_importing_does_not_import_requests():
    code = "import sys, kubectl_apiinfo.kube.kubeconfig, kubectl_apiinfo.kube.credentials; print(sorted(m for m in ('requests', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_access_repr_shows_no_secret(tmp_path, rich):
    access = kubeconfig.load(context="stage", environ=env(tmp_path / "home", rich))
    assert isinstance(access, ClusterAccess) and isinstance(access.credentials, StaticCredentials)
    text = repr(access)
    assert SECRET not in text and "stage" in text and "https://stage.example" in text
    proxied = ClusterAccess("x", "c", "u", "https://c", proxy_url=f"http://me:{SECRET}@proxy:3128")
    assert SECRET not in repr(proxied)


@pytest.mark.parametrize("cluster, fragment", [
    ({"server": "https://a.example", "insecure-skip-tls-verify": "true"}, "must be true or false (unquoted)"),
    ({"server": "https://a.example", "insecure-skip-tls-verify": True, "certificate-authority-data": "Q0E="},
     "both a certificate-authority and insecure-skip-tls-verify"),
])
def test_tls_settings_kubectl_refuses_are_refused(tmp_path, cluster, fragment):
    """As client-go: a quoted boolean does not decode, and a CA with insecure-skip-tls-verify is not allowed."""
    path = write(tmp_path / "kubeconfig", config(clusters={"c": cluster}, users={"u": {"token": "t"}},
                                                  contexts={"x": {"cluster": "c", "user": "u"}}, current="x"))
    with pytest.raises(UserError, match=re.escape(fragment)):
        kubeconfig.load(environ=env(tmp_path / "home", path))
