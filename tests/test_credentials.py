"""Credentials: static ones from a kubeconfig user, and real exec plugins run as subprocesses."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from kubectl_apiinfo.kube.credentials import (
    ExecConfig,
    ExecCredentials,
    StaticCredentials,
    clear_exec_cache,
    exec_cluster_info,
    parse_rfc3339,
    read_referenced_file,
)
from kubectl_apiinfo.errors import UserError

PLUGIN = Path(__file__).resolve().parent / "exec_plugins" / "credential_plugin.py"
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
SECRET = "s3cr3t-plugin-output-7f1c"


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_exec_cache()
    yield
    clear_exec_cache()


@pytest.fixture
def no_tty():
    fd = os.open(os.devnull, os.O_RDONLY)
    yield fd
    os.close(fd)


@pytest.fixture
def tty():
    """A real terminal: the slave side of a pseudo-terminal."""
    master, slave = os.openpty()
    yield slave
    os.close(slave)
    os.close(master)


class Plugin:
    """The test plugin with a counter and a record file in its own directory."""

    def __init__(self, tmp_path: Path):
        self.counter = tmp_path / "runs"
        self.record_file = tmp_path / "record.json"

    def config(self, *args: str, api_version=V1, mode="Never", env=(), hint="", cluster_info=False) -> ExecConfig:
        return ExecConfig(
            command=sys.executable,
            args=(str(PLUGIN), "--counter", str(self.counter), "--record", str(self.record_file), *args),
            env=tuple(env),
            api_version=api_version,
            install_hint=hint,
            provide_cluster_info=cluster_info,
            interactive_mode=mode,
        )

    @property
    def runs(self) -> int:
        return len(self.counter.read_text().splitlines()) if self.counter.exists() else 0

    def record(self) -> dict:
        return json.loads(self.record_file.read_text())


@pytest.fixture
def plugin(tmp_path: Path) -> Plugin:
    return Plugin(tmp_path)


def one_line_error(excinfo, *fragments: str, absent=(SECRET,)) -> str:
    message = str(excinfo.value)
    assert "\n" not in message, message
    for f in fragments:
        assert f in message, message
    for a in absent:
        assert a not in message, message
    return message


# --- exec plugins: the protocol -------------------------------------------------


def test_v1_plugin_token_exec_info_and_environment(plugin, no_tty):
    environ = {**os.environ, "FROM_PARENT": "parent-value", "OVERRIDDEN": "old"}
    creds = ExecCredentials(
        plugin.config("--token", "tok", env=[("ADDED", "added-value"), ("OVERRIDDEN", "new")]),
        "user 'dev'",
        environ=environ,
        stdin=no_tty,
    )
    assert creds.auth_headers() == {"Authorization": "Bearer tok-1"}
    assert creds.client_cert() is None
    seen = plugin.record()
    assert seen["exec_info"] == {"apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": False}}
    assert seen["env"]["FROM_PARENT"] == "parent-value"
    assert seen["env"]["ADDED"] == "added-value"
    assert seen["env"]["OVERRIDDEN"] == "new"
    assert seen["stdin_isatty"] is False


def test_v1beta1_defaults_to_if_available_and_runs_without_a_terminal(plugin, no_tty):
    config = ExecConfig.from_kubeconfig(
        {"command": sys.executable, "args": [str(PLUGIN), "--counter", str(plugin.counter), "--record", str(plugin.record_file), "--token", "beta"], "apiVersion": V1BETA1},
        "user 'dev'",
    )
    assert config.interactive_mode == "IfAvailable"
    creds = ExecCredentials(config, stdin=no_tty)
    assert creds.auth_headers() == {"Authorization": "Bearer beta-1"}
    assert plugin.record()["exec_info"] == {"apiVersion": V1BETA1, "kind": "ExecCredential", "spec": {"interactive": False}}


def test_client_certificate_from_plugin(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--cert-text", "CERT PEM", "--key-text", "KEY PEM"), stdin=no_tty)
    assert creds.client_cert() == (b"CERT PEM", b"KEY PEM")
    assert creds.auth_headers() == {}
    assert plugin.runs == 1


def test_provide_cluster_info_passes_spec_cluster(plugin, no_tty):
    cluster = exec_cluster_info(
        "https://10.0.0.1:6443", b"-----BEGIN CERTIFICATE-----\nCA\n", True, "api.example", "http://proxy:3128", {"audience": "apiinfo", "n": 3}
    )
    ExecCredentials(plugin.config("--token", "t", cluster_info=True), cluster=cluster, stdin=no_tty).auth_headers()
    assert plugin.record()["exec_info"]["spec"] == {
        "interactive": False,
        "cluster": {
            "server": "https://10.0.0.1:6443",
            "certificate-authority-data": base64.b64encode(b"-----BEGIN CERTIFICATE-----\nCA\n").decode(),
            "insecure-skip-tls-verify": True,
            "tls-server-name": "api.example",
            "proxy-url": "http://proxy:3128",
            "config": {"audience": "apiinfo", "n": 3},
        },
    }


def test_cluster_info_is_withheld_unless_provide_cluster_info(plugin, no_tty):
    cluster = exec_cluster_info("https://10.0.0.1:6443")
    ExecCredentials(plugin.config("--token", "t"), cluster=cluster, stdin=no_tty).auth_headers()
    assert "cluster" not in plugin.record()["exec_info"]["spec"]


# --- exec plugins: how often they run -------------------------------------------


def test_plugin_runs_once_per_process(plugin, no_tty):
    config = plugin.config("--token", "tok")
    first, second = ExecCredentials(config, stdin=no_tty), ExecCredentials(config, stdin=no_tty)
    assert first.auth_headers() == first.auth_headers() == second.auth_headers() == {"Authorization": "Bearer tok-1"}
    first.client_cert()
    assert plugin.runs == 1


def test_concurrent_requests_run_the_plugin_once(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--token", "tok", "--sleep", "0.3"), stdin=no_tty)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(creds.auth_headers())) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [{"Authorization": "Bearer tok-1"}] * 5
    assert plugin.runs == 1


def test_refresh_runs_the_plugin_again_and_others_adopt_the_new_token(plugin, no_tty):
    config = plugin.config("--token", "tok")
    a, b = ExecCredentials(config, stdin=no_tty), ExecCredentials(config, stdin=no_tty)
    assert a.auth_headers() == b.auth_headers() == {"Authorization": "Bearer tok-1"}
    assert a.refresh() is True
    assert a.auth_headers() == {"Authorization": "Bearer tok-2"}
    assert plugin.runs == 2
    # b also got a 401 with tok-1: it takes the token a already fetched instead of running again.
    assert b.refresh() is True
    assert b.auth_headers() == {"Authorization": "Bearer tok-2"}
    assert plugin.runs == 2


def test_refresh_says_no_when_the_plugin_returns_the_same_token(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--fixed-token", "same"), stdin=no_tty)
    creds.auth_headers()
    assert creds.refresh() is False
    assert plugin.runs == 2


def test_expired_credential_runs_the_plugin_again(plugin, no_tty):
    real = time.time()
    now = [real]
    creds = ExecCredentials(plugin.config("--token", "tok", "--expires-in", "3600"), stdin=no_tty, clock=lambda: now[0])
    assert creds.auth_headers() == {"Authorization": "Bearer tok-1"}
    now[0] = real + 1800
    assert creds.auth_headers() == {"Authorization": "Bearer tok-1"}
    assert plugin.runs == 1
    now[0] = real + 3700
    assert creds.auth_headers() == {"Authorization": "Bearer tok-2"}
    assert plugin.runs == 2


def test_already_expired_credential_is_used_until_refused(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--token", "tok", "--expires-in", "-60"), stdin=no_tty)
    assert creds.auth_headers() == {"Authorization": "Bearer tok-1"}
    assert creds.client_cert() is None
    assert creds.auth_headers() == {"Authorization": "Bearer tok-1"}
    assert plugin.runs == 1
    assert creds.refresh() is True  # after a 401
    assert creds.auth_headers() == {"Authorization": "Bearer tok-2"}
    assert plugin.runs == 2


def test_rfc3339_with_nanoseconds_and_offset(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--token", "tok", "--expiration", "2099-01-01T00:00:00.123456789+02:00"), stdin=no_tty)
    creds.auth_headers()
    creds.auth_headers()
    assert plugin.runs == 1
    parsed = parse_rfc3339("2099-01-01T00:00:00.123456789+02:00")
    assert parsed.isoformat() == "2099-01-01T00:00:00.123456+02:00"
    assert parse_rfc3339("2024-05-06T07:08:09Z").timestamp() == 1714979289
    assert parse_rfc3339("2024-05-06 07:08") is None


# --- exec plugins: terminals ------------------------------------------------------


@pytest.mark.parametrize(
    "mode, terminal, interactive",
    [("IfAvailable", True, True), ("IfAvailable", False, False), ("Never", True, False), ("Always", True, True)],
)
def test_interactive_mode(plugin, tty, no_tty, mode, terminal, interactive):
    creds = ExecCredentials(plugin.config("--token", "t", mode=mode), stdin=tty if terminal else no_tty)
    creds.auth_headers()
    seen = plugin.record()
    assert seen["exec_info"]["spec"]["interactive"] is interactive
    assert seen["stdin_isatty"] is interactive  # stdin is passed through only when interactive


def test_always_without_a_terminal_is_an_error_and_does_not_run(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--token", "t", mode="Always"), "user 'dev'", stdin=no_tty)
    with pytest.raises(UserError) as e:
        creds.auth_headers()
    one_line_error(e, "terminal", "Always", "user 'dev'")
    assert plugin.runs == 0


# --- exec plugins: failures -----------------------------------------------------


def test_plugin_not_found_shows_the_install_hint(no_tty):
    config = ExecConfig(command="kubectl-apiinfo-no-such-plugin", install_hint="Install it with:\n  brew install no-such-plugin\n", interactive_mode="Never")
    with pytest.raises(UserError) as e:
        ExecCredentials(config, "user 'dev'", stdin=no_tty).auth_headers()
    one_line_error(e, "'kubectl-apiinfo-no-such-plugin'", "was not found", "Install it with: brew install no-such-plugin", "user 'dev'")


def test_plugin_path_not_found(tmp_path, no_tty):
    config = ExecConfig(command=str(tmp_path / "bin" / "missing-plugin"), interactive_mode="Never")
    with pytest.raises(UserError) as e:
        ExecCredentials(config, stdin=no_tty).auth_headers()
    one_line_error(e, "missing-plugin", "was not found", "exec.command")


def test_plugin_that_is_not_executable(tmp_path, no_tty):
    script = tmp_path / "plugin.sh"
    script.write_text("#!/bin/sh\necho {}\n")
    script.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with pytest.raises(UserError) as e:
        ExecCredentials(ExecConfig(command=str(script), interactive_mode="Never"), stdin=no_tty).auth_headers()
    one_line_error(e, "plugin.sh", "could not be started")


def test_failing_plugin_names_the_command_hides_its_output_and_its_stderr_reaches_ours(plugin, no_tty, capfd):
    creds = ExecCredentials(plugin.config("--fixed-token", SECRET, "--stderr", "plugin says: log in first", "--exit", "3"), "user 'dev'", stdin=no_tty)
    with pytest.raises(UserError) as e:
        creds.auth_headers()
    one_line_error(e, sys.executable, "exit status 3", "user 'dev'")
    captured = capfd.readouterr()
    assert "plugin says: log in first" in captured.err
    assert SECRET not in captured.out + captured.err  # its stdout is ours to parse, never to echo


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--raw-stdout", f"token={SECRET}"], "did not print an ExecCredential JSON object"),
        (["--raw-stdout", ""], "did not print an ExecCredential JSON object"),
        (["--raw-stdout", json.dumps([SECRET])], "did not print an ExecCredential JSON object"),
        (["--fixed-token", SECRET, "--api-version", V1BETA1], f"answered with apiVersion '{V1BETA1}'"),
        (["--fixed-token", SECRET, "--api-version", f"{SECRET} !"], "answered with apiVersion another one"),
        (["--fixed-token", SECRET, "--kind", "Secret"], "kind other than ExecCredential"),
        (["--no-status"], "without a status"),
        ([], "neither a token nor a client certificate"),
        (["--cert-text", SECRET], "only one of clientCertificateData and clientKeyData"),
        (["--fixed-token", SECRET, "--expiration", "tomorrow"], "expirationTimestamp"),
    ],
)
def test_bad_answers_are_one_line_errors_without_the_output(plugin, no_tty, args, fragment):
    creds = ExecCredentials(plugin.config(*args), "user 'dev'", stdin=no_tty)
    with pytest.raises(UserError) as e:
        creds.auth_headers()
    one_line_error(e, fragment, sys.executable, "user 'dev'")


def test_plugin_that_hangs_times_out(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--token", "t", "--sleep", "30"), stdin=no_tty, timeout=0.5)
    with pytest.raises(UserError) as e:
        creds.auth_headers()
    one_line_error(e, "did not answer within 0.5 s", sys.executable)


def test_a_plugin_that_hangs_is_killed_at_the_timeout_with_what_it_started(plugin, no_tty, tmp_path):
    holder_pid = tmp_path / "holder.pid"
    creds = ExecCredentials(plugin.config("--token", "t", "--holder", str(holder_pid), "--sleep", "30"), stdin=no_tty, timeout=1)
    started = time.monotonic()
    with pytest.raises(UserError) as e:
        creds.auth_headers()
    assert time.monotonic() - started < 5
    one_line_error(e, "did not answer within 1 s", sys.executable)
    pid = int(holder_pid.read_text())
    for _ in range(50):  # the kill is sent; the kernel may take a moment to finish it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] == "Z":
            break  # killed, waiting for its parent (init here) to reap it
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        pytest.fail("the process the plugin started outlived the timeout")


def test_a_plugin_that_prints_without_end_is_cut_off(plugin, no_tty):
    creds = ExecCredentials(plugin.config("--flood", str(200 << 20), "--token", "t"), stdin=no_tty, timeout=30)
    with pytest.raises(UserError) as e:
        creds.auth_headers()
    one_line_error(e, "printed more than 1 MB", sys.executable)


def test_credentials_stay_in_memory(tmp_path, no_tty):
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    environ = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(home / ".cache")}
    config = ExecConfig(command=sys.executable, args=(str(PLUGIN), "--fixed-token", SECRET), interactive_mode="Never")
    creds = ExecCredentials(config, environ=environ, stdin=no_tty)
    assert creds.auth_headers() == {"Authorization": f"Bearer {SECRET}"}
    assert list(home.iterdir()) == [] and list(tmp.iterdir()) == []
    assert SECRET not in repr(creds)


def test_exec_repr_hides_args_and_env_values():
    config = ExecConfig(command="aws", args=("--token", SECRET), env=(("API_KEY", SECRET),), interactive_mode="Never")
    assert SECRET not in repr(config)
    assert SECRET not in repr(ExecCredentials(config))
    assert "aws" in repr(ExecCredentials(config))


# --- exec configuration checks ---------------------------------------------------


@pytest.mark.parametrize(
    "section, fragment",
    [
        ({"command": "p", "apiVersion": V1}, "requires interactiveMode"),
        ({"command": "p", "apiVersion": V1, "interactiveMode": "Sometimes"}, "interactiveMode 'Sometimes'"),
        ({"command": "p", "apiVersion": "client.authentication.k8s.io/v1alpha1", "interactiveMode": "Never"}, "v1alpha1"),
        ({"command": "p", "interactiveMode": "Never"}, "apiVersion ''"),
        ({"apiVersion": V1, "interactiveMode": "Never"}, "has no command"),
        ({"command": "p", "apiVersion": V1, "interactiveMode": "Never", "env": [{"value": SECRET}]}, "without a name"),
        ({"command": "p", "apiVersion": V1, "interactiveMode": "Never", "args": SECRET}, "exec.args"),
    ],
)
def test_bad_exec_sections(section, fragment):
    with pytest.raises(UserError) as e:
        ExecConfig.from_kubeconfig(section, "user 'dev' in /k/config")
    one_line_error(e, fragment, "user 'dev' in /k/config")


def test_exec_section_values_become_strings():
    config = ExecConfig.from_kubeconfig(
        {"command": "p", "apiVersion": V1, "interactiveMode": "Always", "args": ["--port", 8080, True], "env": [{"name": "N", "value": 1}], "provideClusterInfo": True, "installHint": "hint"},
        "user 'dev'",
    )
    assert config == ExecConfig("p", ("--port", "8080", "true"), (("N", "1"),), V1, "hint", True, "Always")


# --- static credentials -----------------------------------------------------------


def test_bearer_token_and_basic_auth():
    assert StaticCredentials(token="abc").auth_headers() == {"Authorization": "Bearer abc"}
    basic = StaticCredentials(username="admin", password="pa:ss").auth_headers()["Authorization"]
    assert basic.startswith("Basic ") and base64.b64decode(basic[6:]) == b"admin:pa:ss"
    assert StaticCredentials(token="abc").refresh() is False


def test_token_file_is_reread_on_refresh(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("first\n")
    creds = StaticCredentials(token_file=str(token_file))
    assert creds.auth_headers() == {"Authorization": "Bearer first"}
    assert creds.refresh() is False  # unchanged: a retry would fail the same way
    token_file.write_text("second")
    assert creds.refresh() is True
    assert creds.auth_headers() == {"Authorization": "Bearer second"}


def test_token_file_wins_over_token_and_token_is_the_fallback(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("from-file")
    assert StaticCredentials(token="inline", token_file=str(token_file)).auth_headers() == {"Authorization": "Bearer from-file"}
    assert StaticCredentials(token="inline", token_file=str(tmp_path / "gone")).auth_headers() == {"Authorization": "Bearer inline"}


def test_token_file_errors(tmp_path):
    with pytest.raises(UserError) as e:
        StaticCredentials("user 'u'", token_file=str(tmp_path / "gone"))
    one_line_error(e, "tokenFile", "gone", "user 'u'", "No such file")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(UserError) as e:
        StaticCredentials("user 'u'", token_file=str(empty))
    one_line_error(e, "is empty")



def test_a_file_the_kubeconfig_refers_to_is_read_whole_or_named_in_the_error(tmp_path):
    (tmp_path / "ca.crt").write_bytes(b"PEM\x00bytes")
    assert read_referenced_file(str(tmp_path / "ca.crt"), "certificate-authority", "cluster 'c'") == b"PEM\x00bytes"
    with pytest.raises(UserError) as e:
        read_referenced_file(str(tmp_path / "gone.crt"), "certificate-authority", "cluster 'c'")
    one_line_error(e, f"cannot read the certificate-authority file {tmp_path / 'gone.crt'} of cluster 'c': No such file", "fix the path in the kubeconfig")

def test_client_certificate_data_wins_over_files(tmp_path):
    (tmp_path / "c.pem").write_bytes(b"FILE CERT")
    (tmp_path / "k.pem").write_bytes(b"FILE KEY")
    creds = StaticCredentials(cert_data=b"DATA CERT", cert_file=str(tmp_path / "missing.pem"), key_file=str(tmp_path / "k.pem"))
    assert creds.client_cert() == (b"DATA CERT", b"FILE KEY")
    assert StaticCredentials(cert_file=str(tmp_path / "c.pem"), key_file=str(tmp_path / "k.pem")).client_cert() == (b"FILE CERT", b"FILE KEY")
    assert creds.auth_headers() == {}


def test_static_credential_errors_name_no_secret():
    with pytest.raises(UserError) as e:
        StaticCredentials("user 'u'", token=SECRET, username="admin", password=SECRET)
    one_line_error(e, "both a token and a username/password", "user 'u'")
    with pytest.raises(UserError) as e:
        StaticCredentials("user 'u'", cert_data=SECRET.encode())
    one_line_error(e, "client-certificate but no client-key")


def test_static_repr_hides_secrets():
    text = repr(StaticCredentials("user 'u'", token=SECRET, cert_data=SECRET.encode(), key_data=SECRET.encode()))
    assert SECRET not in text and "token" in text and "client-certificate" in text
    assert SECRET not in repr(StaticCredentials(username="admin", password=SECRET))
