"""Who we are to an API server: bearer token, token file, basic auth, client certificate or exec plugin.

Exec plugins speak client-go's `client.authentication.k8s.io/v1` and `v1beta1`
ExecCredential protocol.  Credentials live in this process's memory only: they
are never written anywhere, and no error message carries one (or any output of
a plugin, which may hold one).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from kubectl_apiinfo.errors import UserError
from kubectl_apiinfo.kube import plugin_process

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
# The name of the cluster extension handed to a plugin as spec.cluster.config (client-go's).
EXEC_EXTENSION_NAME = "client.authentication.k8s.io/exec"
# client-go waits forever; a plugin that cannot prompt should not hang a discovery run.
EXEC_TIMEOUT = 60.0


class Credentials:
    """No credentials: what `kubectl proxy` and plain-HTTP servers get.  Subclasses add some."""

    def auth_headers(self) -> Dict[str, str]:
        """Headers to send with each request."""
        return {}

    def client_cert(self) -> Optional[Tuple[bytes, bytes]]:
        """(PEM certificate, PEM key) for TLS client authentication, or None."""
        return None

    def refresh(self) -> bool:
        """After a 401: try to get fresh credentials; True when a retry could now succeed."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


NO_CREDENTIALS = Credentials()


def read_referenced_file(path: str, what: str, where: str) -> bytes:
    """The bytes of a file a kubeconfig entry refers to (a certificate, key, CA or token file);
    when it cannot be read, a UserError naming the `what` file of `where` and the reason."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise UserError(f"cannot read the {what} file {path} of {where}: {e.strerror or e}; fix the path in the kubeconfig") from None


class StaticCredentials(Credentials):
    """A user's token, token file, username/password and client certificate from the kubeconfig.

    `where` names the user in messages ("user 'admin' in /home/me/.kube/config").
    Certificate and key data win over their files, as in client-go; files are read now,
    so a missing one is reported when the kubeconfig is loaded.
    """

    def __init__(
        self,
        where: str = "the user",
        *,
        token: Optional[str] = None,
        token_file: Optional[str] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        cert_data: Optional[bytes] = None,
        cert_file: Optional[str] = None,
        key_data: Optional[bytes] = None,
        key_file: Optional[str] = None,
    ):
        self._where = where
        if (token or token_file) and username:
            raise UserError(f"{where} has both a token and a username/password, and only one may be used; remove one from the kubeconfig")
        self._token = token or None
        self._token_file = token_file or None
        self._basic = (username, password or "") if username else None
        cert = cert_data or (read_referenced_file(cert_file, "client-certificate", where) if cert_file else None)
        key = key_data or (read_referenced_file(key_file, "client-key", where) if key_file else None)
        if bool(cert) != bool(key):
            have, missing = ("client-certificate", "client-key") if cert else ("client-key", "client-certificate")
            raise UserError(f"{where} has a {have} but no {missing}; set both (or their -data forms) in the kubeconfig")
        self._cert = (cert, key) if cert and key else None
        if self._token_file:
            # client-go: a readable token file wins over the token; the token is the fallback.
            file_token = self._read_token_file(required=not self._token)
            self._token = file_token or self._token

    def _read_token_file(self, required: bool) -> Optional[str]:
        try:
            token = read_referenced_file(self._token_file, "tokenFile", self._where).decode("utf-8", "replace").strip()
        except UserError:
            if required:
                raise
            return None
        if not token and required:
            raise UserError(f"the tokenFile {self._token_file} of {self._where} is empty; put the token in it or fix the path")
        return token or None

    def auth_headers(self) -> Dict[str, str]:
        if self._token:
            return {"Authorization": f"Bearer {self._token}"}
        if self._basic:
            pair = f"{self._basic[0]}:{self._basic[1]}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        return {}

    def client_cert(self) -> Optional[Tuple[bytes, bytes]]:
        return self._cert

    def refresh(self) -> bool:
        # Only a token file can change under us (projected service-account tokens rotate).
        if not self._token_file:
            return False
        token = self._read_token_file(required=False)
        if not token or token == self._token:
            return False
        self._token = token
        return True

    def __repr__(self) -> str:
        kinds = [k for k, v in (("token", self._token), ("tokenFile", self._token_file), ("basic", self._basic), ("client-certificate", self._cert)) if v]
        return f"StaticCredentials({self._where}, {'+'.join(kinds) or 'empty'})"


# --- exec plugins ------------------------------------------------------------


@dataclass(frozen=True)
class ExecConfig:
    """A user's `exec:` section.  args and env may hold secrets, so repr shows only env names."""

    command: str
    args: Tuple[str, ...] = field(default=(), repr=False)
    env: Tuple[Tuple[str, str], ...] = field(default=(), repr=False)
    api_version: str = EXEC_API_VERSIONS[0]
    install_hint: str = field(default="", repr=False)
    provide_cluster_info: bool = False
    interactive_mode: str = "IfAvailable"

    @classmethod
    def from_kubeconfig(cls, data: Mapping[str, Any], where: str) -> "ExecConfig":
        """Validate an `exec:` mapping the way client-go does (a bad one is a kubeconfig error)."""
        if not isinstance(data, Mapping):
            raise UserError(f"the exec section of {where} is not a mapping; fix the kubeconfig")
        command = data.get("command")
        if not isinstance(command, str) or not command:
            raise UserError(f"the exec section of {where} has no command; set exec.command in the kubeconfig")
        api_version = data.get("apiVersion") or ""
        if api_version not in EXEC_API_VERSIONS:
            raise UserError(
                f"the exec plugin of {where} uses apiVersion {api_version!r}, which is not supported; "
                f"use {' or '.join(EXEC_API_VERSIONS)}"
            )
        mode = data.get("interactiveMode") or ""
        if not mode:
            if api_version.endswith("/v1"):
                raise UserError(f"the exec plugin of {where} uses {api_version}, which requires interactiveMode; set it to Never, IfAvailable or Always")
            mode = "IfAvailable"  # v1beta1's default
        if mode not in INTERACTIVE_MODES:
            raise UserError(f"the exec plugin of {where} has interactiveMode {mode!r}; use Never, IfAvailable or Always")
        args = data.get("args") or []
        if not isinstance(args, list):
            raise UserError(f"exec.args of {where} is not a list; fix the kubeconfig")
        env = []
        for entry in data.get("env") or []:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not entry.get("name"):
                raise UserError(f"exec.env of {where} has an entry without a name; each entry needs name and value")
            env.append((entry["name"], _scalar(entry.get("value"))))
        return cls(
            command=command,
            args=tuple(_scalar(a) for a in args),
            env=tuple(env),
            api_version=api_version,
            install_hint=str(data.get("installHint") or ""),
            provide_cluster_info=bool(data.get("provideClusterInfo")),
            interactive_mode=mode,
        )


def _scalar(value: Any) -> str:
    # YAML reads `value: 8080` as an int and `true` as a bool; Go's loader keeps the text.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def exec_cluster_info(
    server: str,
    ca_data: Optional[bytes] = None,
    insecure_skip_tls_verify: bool = False,
    tls_server_name: str = "",
    proxy_url: str = "",
    config: Any = None,
) -> Dict[str, Any]:
    """spec.cluster of KUBERNETES_EXEC_INFO, with client-go's field names and omit-empty rules."""
    cluster: Dict[str, Any] = {"server": server}
    if tls_server_name:
        cluster["tls-server-name"] = tls_server_name
    if insecure_skip_tls_verify:
        cluster["insecure-skip-tls-verify"] = True
    if ca_data:
        cluster["certificate-authority-data"] = base64.b64encode(ca_data).decode("ascii")
    if proxy_url:
        cluster["proxy-url"] = proxy_url
    if config is not None:
        cluster["config"] = config
    return cluster


@dataclass(frozen=True)
class _Issued:
    token: Optional[str]
    cert: Optional[Tuple[bytes, bytes]]
    expires: Optional[float]  # epoch seconds
    # An already expired answer is used until the server refuses it: running the
    # plugin again for every request would only get the same answer (kubectl runs it twice).
    stale_from_start: bool = False

    def expired(self, now: float) -> bool:
        return self.expires is not None and not self.stale_from_start and now >= self.expires


# One plugin run per process per (config, cluster): several contexts may share a user.
_CACHE: Dict[Tuple[ExecConfig, str], _Issued] = {}
_LOCK = threading.Lock()


def clear_exec_cache() -> None:
    """Forget every credential an exec plugin issued (the next request runs the plugin again)."""
    with _LOCK:
        _CACHE.clear()


class ExecCredentials(Credentials):
    """Credentials from an exec plugin, run when first needed and again only on expiry or refresh()."""

    def __init__(
        self,
        config: ExecConfig,
        where: str = "the user",
        *,
        cluster: Optional[Mapping[str, Any]] = None,
        environ: Optional[Mapping[str, str]] = None,
        stdin: int = 0,
        stderr: Any = None,
        timeout: Optional[float] = EXEC_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self._where = where
        self._cluster = dict(cluster) if (cluster is not None and config.provide_cluster_info) else None
        self._environ = os.environ if environ is None else environ
        self._stdin = stdin  # a file descriptor; passed through only in interactive mode
        self._stderr = stderr  # None: the plugin writes to our own stderr, as under kubectl
        self._timeout = timeout
        self._clock = clock
        self._key = (config, json.dumps(self._cluster, sort_keys=True, default=str))
        self._used: Optional[_Issued] = None

    def _name(self) -> str:
        return f"exec plugin {self.config.command!r} of {self._where}"

    def _current(self) -> _Issued:
        with _LOCK:
            issued = _CACHE.get(self._key)
            if issued is None or issued.expired(self._clock()):
                issued = _CACHE[self._key] = self._run()
            self._used = issued
            return issued

    def auth_headers(self) -> Dict[str, str]:
        token = self._current().token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def client_cert(self) -> Optional[Tuple[bytes, bytes]]:
        return self._current().cert

    def refresh(self) -> bool:
        with _LOCK:
            cached = _CACHE.get(self._key)
            if cached is not None and cached is not self._used:
                # Another user of this plugin already refreshed (client-go does the same check).
                self._used = cached
                return True
            issued = _CACHE[self._key] = self._run()
            old, self._used = self._used, issued
            return old is None or (issued.token, issued.cert) != (old.token, old.cert)

    def _interactive(self) -> bool:
        mode = self.config.interactive_mode
        if mode == "Never":
            return False
        terminal = os.isatty(self._stdin)
        if mode == "Always" and not terminal:
            raise UserError(f"{self._name()} needs a terminal (interactiveMode: Always) but standard input is not one; run the command from a terminal")
        return terminal

    def _run(self) -> _Issued:
        config = self.config
        interactive = self._interactive()
        spec: Dict[str, Any] = {"interactive": interactive}
        if self._cluster is not None:
            spec["cluster"] = self._cluster
        env = dict(self._environ)
        env.update(config.env)
        env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": config.api_version, "kind": "ExecCredential", "spec": spec}, default=str)
        program = self._find()
        try:
            stdout, returncode = plugin_process.run(
                [program, *config.args], self._stdin if interactive else None, self._stderr, env,
                None if interactive else self._timeout,  # a person may be typing
            )
        except FileNotFoundError:
            raise self._not_found() from None
        except OSError as e:
            raise UserError(f"{self._name()} could not be started: {e.strerror or type(e).__name__}; check exec.command in the kubeconfig") from None
        except plugin_process.Late as e:
            raise UserError(f"{self._name()} did not {e.what} within {self._timeout:g} s; check that it works from a terminal") from None
        except plugin_process.OverLimit:
            raise UserError(f"{self._name()} printed more than {plugin_process.OUTPUT_LIMIT >> 20} MB; check the plugin") from None
        if returncode != 0:
            raise UserError(f"{self._name()} failed with exit status {returncode}; its own messages, if any, are above")
        return self._parse(stdout)

    def _find(self) -> str:
        command = self.config.command
        if os.sep in command or (os.altsep and os.altsep in command):
            return command
        found = shutil.which(command, path=self._environ.get("PATH", os.defpath))
        if not found:
            raise self._not_found()
        return found

    def _not_found(self) -> UserError:
        hint = " ".join(self.config.install_hint.split())
        return UserError(f"{self._name()} was not found" + (f": {hint}" if hint else "; install it or fix exec.command in the kubeconfig"))

    def _parse(self, stdout: bytes) -> _Issued:
        # Messages describe what was wrong, never what was printed: it may be a credential.
        try:
            answer = json.loads(stdout)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise UserError(f"{self._name()} did not print an ExecCredential JSON object; check the plugin's version and the exec settings")
        version = answer.get("apiVersion")
        if version != self.config.api_version:
            said = repr(version) if isinstance(version, str) and re.fullmatch(r"[\w.\-/]{1,80}", version) else "another one"
            raise UserError(f"{self._name()} is configured for {self.config.api_version} but answered with apiVersion {said}; set exec.apiVersion to match the plugin")
        if answer.get("kind") != "ExecCredential":
            raise UserError(f"{self._name()} answered with a kind other than ExecCredential; check the plugin")
        status = answer.get("status")
        if not isinstance(status, dict):
            raise UserError(f"{self._name()} answered without a status; check the plugin")
        token = status.get("token") or None
        cert, key = status.get("clientCertificateData") or None, status.get("clientKeyData") or None
        if not all(isinstance(v, (str, type(None))) for v in (token, cert, key)):
            raise UserError(f"{self._name()} answered with a status whose token or certificate is not a string; check the plugin")
        if bool(cert) != bool(key):
            raise UserError(f"{self._name()} returned only one of clientCertificateData and clientKeyData; it must return both")
        if not token and not cert:
            raise UserError(f"{self._name()} returned neither a token nor a client certificate and key; check the plugin")
        expires = self._expiry(status["expirationTimestamp"]) if status.get("expirationTimestamp") else None
        return _Issued(
            token=token,
            cert=(cert.encode(), key.encode()) if cert and key else None,
            expires=expires,
            stale_from_start=expires is not None and self._clock() >= expires,
        )

    def _expiry(self, value: Any) -> float:
        when = parse_rfc3339(value) if isinstance(value, str) else None
        if when is None:
            raise UserError(f"{self._name()} returned an expirationTimestamp that is not an RFC 3339 time; check the plugin")
        return when.timestamp()

    def __repr__(self) -> str:
        return f"ExecCredentials({self.config.command!r}, {self._where}, {self.config.api_version})"


_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):(\d\d))")


def parse_rfc3339(text: str) -> Optional[datetime]:
    """An RFC 3339 time (Go's time.RFC3339Nano), or None; datetime.fromisoformat lacks 'Z' before 3.11."""
    m = _RFC3339.fullmatch(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if not m.group(8):
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11))) * (-1 if m.group(9) == "-" else 1)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone(offset))
    except ValueError:
        return None

