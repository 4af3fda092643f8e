"""Which cluster, and as whom: kubeconfig files read with client-go's loading rules.

- `--kubeconfig FILE` reads exactly that file (it must exist).
- Else `KUBECONFIG` is a path list: missing files are skipped, a file listed twice is
  read once, clusters/users/contexts merge by name with the first file winning, and
  the first non-empty current-context wins.
- Else `~/.kube/config`, if it exists.

Relative paths in an entry resolve against the directory of the file it came from.
Messages name fields and files, never their values: a kubeconfig is full of secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlsplit

from kubectl_apiinfo.errors import UserError, flag, redact_url, shorten
from kubectl_apiinfo.kube.credentials import (
    EXEC_EXTENSION_NAME,
    NO_CREDENTIALS,
    Credentials,
    ExecConfig,
    ExecCredentials,
    StaticCredentials,
    exec_cluster_info,
    read_referenced_file,
)
from kubectl_apiinfo.kube.kubeconfig_paths import kubeconfig_files

SECTIONS = {"clusters": "cluster", "users": "user", "contexts": "context"}
MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024  # a kubeconfig of hundreds of contexts is well under 1 MB


@dataclass(repr=False)
class ClusterAccess:
    """Everything needed to talk to one API server as one user."""

    context_name: str
    cluster_name: str
    user_name: str
    server: str
    ca_data: Optional[bytes] = None  # PEM, from certificate-authority-data or the file
    insecure_skip_tls_verify: bool = False
    tls_server_name: Optional[str] = None
    proxy_url: Optional[str] = None
    credentials: Credentials = NO_CREDENTIALS
    source_files: List[str] = field(default_factory=list)

    @property
    def display_server(self) -> str:
        """The server URL to show or store: without any user:password@ it may carry."""
        return redact_url(self.server)

    @property
    def display_proxy(self) -> str:
        return redact_url(self.proxy_url or "")

    @property
    def identity(self) -> str:
        """A stable cache key: the same cluster reached through the same context, whoever the user is."""
        text = "\0".join((self.display_server, self.cluster_name, self.context_name))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def __repr__(self) -> str:
        return (
            f"ClusterAccess(context_name={self.context_name!r}, cluster_name={self.cluster_name!r}, "
            f"user_name={self.user_name!r}, server={redact_url(self.server)!r}, "
            f"ca_data={f'<{len(self.ca_data)} bytes>' if self.ca_data else None}, "
            f"insecure_skip_tls_verify={self.insecure_skip_tls_verify}, tls_server_name={self.tls_server_name!r}, "
            f"proxy_url={redact_url(self.proxy_url)!r}, credentials={self.credentials!r}, "
            f"source_files={self.source_files!r})"
        )


@dataclass
class _Entry:
    body: Dict[str, Any]
    origin: str  # the file it came from: relative paths resolve against its directory

    def where(self, kind: str, name: str) -> str:
        return f"{kind} {name!r} in {self.origin}"


class KubeConfig:
    """The merged kubeconfig; `access()` picks one context (with kubectl's override flags)."""

    def __init__(self, files: List[str], environ: Mapping[str, str]):
        self.files: List[str] = []
        self.current_context = ""
        self._environ = environ
        self._sections: Dict[str, Dict[str, _Entry]] = {s: {} for s in SECTIONS}
        for path in files:
            self._merge(path)

    @classmethod
    def read(cls, kubeconfig: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> "KubeConfig":
        environ = os.environ if environ is None else environ
        return cls(kubeconfig_files(kubeconfig, environ), environ)

    def _merge(self, path: str) -> None:
        import yaml  # only needed when a cluster is read

        from kubectl_apiinfo.files import read_bounded

        path = os.path.abspath(path)
        try:
            raw = read_bounded(path, MAX_KUBECONFIG_BYTES, "a kubeconfig", stdin=False)
        except IsADirectoryError:
            raise UserError(f"the kubeconfig {path} is a directory, not a file; point {flag('kubeconfig')} or KUBECONFIG at a file (such as {os.path.join(path, 'config')})") from None
        except OSError as e:
            hint = "check its permissions" if isinstance(e, PermissionError) else "check the path"
            raise UserError(f"cannot read the kubeconfig file {path}: {e.strerror or e}; {hint}") from None
        try:
            doc = yaml.safe_load(raw)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f" (line {mark.line + 1})" if mark is not None else ""
            # The parser's own message quotes the offending text, which may be a secret.
            raise UserError(f"the kubeconfig file {path} is not valid YAML{at}; fix it or point {flag('kubeconfig')}/KUBECONFIG elsewhere") from None
        self.files.append(path)
        if doc is None:
            return
        if not isinstance(doc, dict):
            raise UserError(f"the kubeconfig file {path} is not a kubeconfig (its top level is not a mapping); fix it or point {flag('kubeconfig')}/KUBECONFIG elsewhere")
        for section, item in SECTIONS.items():
            entries = doc.get(section) or []
            if not isinstance(entries, list):
                raise UserError(f"'{section}' in the kubeconfig file {path} is not a list; fix the file")
            in_this_file = set()
            for entry in entries:
                name = entry.get("name") if isinstance(entry, dict) else None
                if isinstance(name, (int, float)) and not isinstance(name, bool):
                    name = str(name)  # Go's loader reads `name: 1` as the string "1"
                if not isinstance(name, str) or not name:
                    raise UserError(f"an entry of '{section}' in the kubeconfig file {path} has no name; fix the file")
                if name in in_this_file:
                    raise UserError(f"the kubeconfig file {path} lists {item} {name!r} twice; remove one")
                in_this_file.add(name)
                body = entry.get(item) or {}
                if not isinstance(body, dict):
                    raise UserError(f"{item} {name!r} in the kubeconfig file {path} is not a mapping; fix the file")
                self._sections[section].setdefault(name, _Entry(body, path))  # the first file wins
        current = doc.get("current-context")
        if not self.current_context and isinstance(current, str):
            self.current_context = current

    def context_names(self) -> List[str]:
        return self.names("contexts")

    def names(self, section: str) -> List[str]:
        """The sorted names in one section: "contexts", "clusters" or "users"."""
        return sorted(self._sections[section])

    def access(
        self,
        context: Optional[str] = None,
        cluster: Optional[str] = None,
        user: Optional[str] = None,
        server: Optional[str] = None,
        token: Optional[str] = None,
    ) -> ClusterAccess:
        """One context's cluster and credentials; the arguments are kubectl's flags of the same names."""
        context_name = context or self.current_context
        ctx: Dict[str, Any] = {}
        if context_name:
            # A context named outright needs no "from": diff names one by a positional word, not --context.
            entry = self._lookup("contexts", context_name, "" if context else "current-context")
            ctx = entry.body
        elif not (server or cluster):
            if not self.files:
                raise UserError(f"no kubeconfig found (~/.kube/config is missing and KUBECONFIG names no existing file): pass {flag('kubeconfig')} FILE, set KUBECONFIG, or pass {flag('server')} URL")
            raise UserError(f"no context is set in {self._describe_files()}: pass {flag('context')} NAME or run 'kubectl config use-context NAME'")
        cluster_name = cluster or _text(ctx, "cluster", f"context {context_name!r}")
        user_name = user or _text(ctx, "user", f"context {context_name!r}")
        referrer = flag("cluster") if cluster else f"context {context_name!r}"
        cluster_entry = self._lookup("clusters", cluster_name, referrer, required=bool(cluster) or not server) if cluster_name else None
        cl = cluster_entry.body if cluster_entry else {}
        cl_where = cluster_entry.where("cluster", cluster_name) if cluster_entry else flag("server")

        url = server or _text(cl, "server", cl_where)
        if not url:
            if not cluster_name:
                raise UserError(f"context {context_name!r} names no cluster; pass {flag('cluster')} NAME or {flag('server')} URL")
            raise UserError(f"cluster {cluster_name!r} has no server; set one with 'kubectl config set-cluster {cluster_name} {flag('server')}=URL' or pass {flag('server')} URL")
        ca_data = _data(cl, "certificate-authority-data", cl_where)
        if not ca_data and _text(cl, "certificate-authority", cl_where):
            ca_path = _resolve(_text(cl, "certificate-authority", cl_where), cluster_entry)
            ca_data = read_referenced_file(ca_path, "certificate-authority", cl_where)
        insecure = _boolean(cl, "insecure-skip-tls-verify", cl_where)
        if insecure and ca_data:
            # client-go's TLS config refuses the pair: "specifying a root certificates file with the insecure flag"
            raise UserError(
                f"{cl_where} sets both a certificate-authority and insecure-skip-tls-verify, which kubectl refuses; "
                "drop one of them"
            )
        url = _with_scheme(url, tls=bool(ca_data) or insecure)
        access = ClusterAccess(
            context_name=context_name or "",
            cluster_name=cluster_name,
            user_name=user_name,
            server=url,
            ca_data=ca_data,
            insecure_skip_tls_verify=insecure,
            tls_server_name=_text(cl, "tls-server-name", cl_where) or None,
            proxy_url=_proxy_url(_text(cl, "proxy-url", cl_where), cl_where),
            source_files=list(self.files),
        )
        user_entry = self._lookup("users", user_name, flag("user") if user else f"context {context_name!r}") if user_name else None
        # Like client-go, never send credentials over plain HTTP (kubectl proxy adds its own).
        if urlsplit(url).scheme != "https":
            return access
        if token:
            access.credentials = StaticCredentials(f"the {flag('token')} flag", token=token)
        elif user_entry is not None:
            access.credentials = self._credentials(user_name, user_entry, access, cl, cl_where)
        return access

    def _credentials(self, name: str, entry: _Entry, access: ClusterAccess, cl: Mapping[str, Any], cl_where: str) -> Credentials:
        u, where = entry.body, entry.where("user", name)
        static = dict(
            token=_text(u, "token", where) or None,
            token_file=_resolve(_text(u, "tokenFile", where), entry),
            username=_text(u, "username", where) or None,
            password=_text(u, "password", where) or None,
            cert_data=_data(u, "client-certificate-data", where),
            cert_file=_resolve(_text(u, "client-certificate", where), entry),
            key_data=_data(u, "client-key-data", where),
            key_file=_resolve(_text(u, "client-key", where), entry),
        )
        provider = u.get("auth-provider")
        # As in client-go, a token or basic auth set on the user wins over its auth-provider.
        if provider and not (static["token"] or static["token_file"] or static["username"]):
            return _auth_provider(provider, name, entry, where)
        exec_section = u.get("exec")
        # client-go ignores the exec plugin when the user has a token, basic auth or a certificate.
        if exec_section and not any(static.values()):
            config = ExecConfig.from_kubeconfig(exec_section, where)
            if os.sep in config.command or (os.altsep and os.altsep in config.command):
                config = replace(config, command=_resolve(config.command, entry))
            cluster_info = exec_cluster_info(
                access.server,
                access.ca_data,
                access.insecure_skip_tls_verify,
                access.tls_server_name or "",
                access.proxy_url or "",
                _exec_extension(cl, cl_where),
            )
            return ExecCredentials(config, where, cluster=cluster_info, environ=self._environ)
        if not any(static.values()):
            return NO_CREDENTIALS
        return StaticCredentials(where, **static)

    def _lookup(self, section: str, name: str, referrer: str, required: bool = True) -> Optional[_Entry]:
        entry = self._sections[section].get(name)
        if entry is None and required:
            item = SECTIONS[section]
            known = sorted(self._sections[section])
            listed = ", ".join(known[:5]) + (f" (and {len(known) - 5} more)" if len(known) > 5 else "")
            if known:
                hint = f"known {section}: {listed}"
            elif not self.files:
                hint = f"pass {flag('kubeconfig')} FILE or set KUBECONFIG"
            else:
                hint = f"it defines no {section}"
            origin = f" (from {referrer})" if referrer else ""
            raise UserError(f"{item} {name!r}{origin} is not in {self._describe_files()}; {hint}")
        return entry

    def _describe_files(self) -> str:
        if not self.files:
            return "any kubeconfig (none was found)"
        more = f" (and {len(self.files) - 1} more from KUBECONFIG)" if len(self.files) > 1 else ""
        return f"the kubeconfig {self.files[0]}{more}"


def load(
    kubeconfig: Optional[str] = None,
    context: Optional[str] = None,
    cluster: Optional[str] = None,
    user: Optional[str] = None,
    server: Optional[str] = None,
    token: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> ClusterAccess:
    """The cluster and credentials kubectl would use with the same flags and environment."""
    return KubeConfig.read(kubeconfig, environ).access(context=context, cluster=cluster, user=user, server=server, token=token)


def context_names(kubeconfig: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Every context of the merged kubeconfig, sorted (load each with KubeConfig.access or load(context=))."""
    return KubeConfig.read(kubeconfig, environ).context_names()


# --- field helpers -------------------------------------------------------------


def _text(body: Mapping[str, Any], key: str, where: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):  # YAML's `true`; Go keeps the text
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise UserError(f"{key} of {where} is not a string; fix the kubeconfig")
    return str(value)


def _boolean(body: Mapping[str, Any], key: str, where: str) -> bool:
    """A kubeconfig boolean: YAML's true or false, as client-go decodes it ("true" in quotes is an error there)."""
    value = body.get(key)
    if value is None or isinstance(value, bool):
        return bool(value)
    raise UserError(f"{where}: {key} must be true or false (unquoted), not {shorten(repr(value))}")


def _data(body: Mapping[str, Any], key: str, where: str) -> Optional[bytes]:
    value = body.get(key)
    if not value:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode("".join(value.split()), validate=True)
    except (ValueError, binascii.Error):
        plain = key[: -len("-data")]
        raise UserError(f"{key} of {where} is not valid base64; encode it again (base64 -w0) or use {plain} with a file path") from None


def _resolve(path: str, entry: Optional[_Entry]) -> Optional[str]:
    if not path:
        return None
    if os.path.isabs(path) or entry is None:
        return path
    return os.path.normpath(os.path.join(os.path.dirname(entry.origin), path))


def _with_scheme(server: str, tls: bool) -> str:
    # client-go: a server without a scheme is https when TLS is configured, else http.
    try:
        parts = urlsplit(server)
    except ValueError as e:
        raise UserError(f"the server address {server!r} is not a valid URL ({e}); fix the cluster's server or {flag('server')}") from None
    if not parts.scheme or not parts.netloc:
        server = ("https://" if tls else "http://") + server
    return server.rstrip("/")


# The auth-providers kubectl 1.26 removed, and the exec plugins that replace them.
REMOVED_AUTH_PROVIDERS = {
    "gcp": "the exec plugin gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)",
    "azure": "the exec plugin kubelogin (https://azure.github.io/kubelogin, 'kubelogin convert-kubeconfig')",
}


def _auth_provider(provider: Any, name: str, entry: _Entry, where: str) -> Credentials:
    pname = provider.get("name") if isinstance(provider, dict) else None
    if pname == "oidc":
        config = provider.get("config") or {}
        if not isinstance(config, dict):
            raise UserError(f"auth-provider.config of {where} is not a mapping; fix the kubeconfig")
        from kubectl_apiinfo.kube.kubeconfig_writer import save_auth_provider_config
        from kubectl_apiinfo.kube.oidc import OIDCCredentials

        return OIDCCredentials(config, where, persist=lambda updates: save_auth_provider_config(entry.origin, name, updates))
    if pname in REMOVED_AUTH_PROVIDERS:
        raise UserError(
            f"{where} uses the {pname!r} auth-provider, which kubectl removed in 1.26; "
            f"switch the user to {REMOVED_AUTH_PROVIDERS[pname]}, or pass {flag('token')}"
        )
    raise UserError(
        f"{where} uses the auth-provider {pname!r}, which kubectl does not know (it has only oidc since 1.26); "
        f"switch the user to an exec plugin or pass {flag('token')}"
    )


# What kubectl accepts in a cluster's proxy-url (client-go's parseProxyURL).
PROXY_SCHEMES = ("http", "https", "socks5")


def _proxy_url(url: str, where: str) -> Optional[str]:
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise UserError(f"proxy-url of {where} is not a valid URL; fix it in the kubeconfig (http://, https:// or socks5://HOST:PORT)") from None
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES or not parts.hostname:
        said = f"the scheme {scheme!r}" if scheme else "no scheme"
        if scheme in PROXY_SCHEMES:
            said = "no host"
        raise UserError(
            f"proxy-url of {where} has {said}, which kubectl does not accept; use http://, https:// or socks5:// with a host in the kubeconfig"
        )
    return url


def _exec_extension(cluster: Mapping[str, Any], where: str) -> Any:
    extensions = cluster.get("extensions") or []
    if not isinstance(extensions, list):
        raise UserError(f"extensions of {where} is not a list; fix the kubeconfig")
    for ext in extensions:
        if isinstance(ext, dict) and ext.get("name") == EXEC_EXTENSION_NAME:
            return ext.get("extension")
    return None
