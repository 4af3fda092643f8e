"""HTTPS to one API server with the kubeconfig's TLS settings and credentials.

TLS material stays off the filesystem: the CA goes into an ssl.SSLContext from
memory, and a client certificate and key reach OpenSSL (which reads them only
from a path) through anonymous memory files on Linux; elsewhere through a
private file that is removed as soon as OpenSSL has read it (kube/private_paths.py).  Nothing is left
behind however the process ends.  Error messages name the server and the
problem, never a credential.  Every answer is read within
bounds (kube/bounded.py): its size, and the request timeout as one deadline.
"""

from __future__ import annotations

import os
import re
import ssl
import threading
from typing import Optional

import requests
from requests.adapters import HTTPAdapter

from kubectl_apiinfo.errors import UserError, flag, printable
from kubectl_apiinfo.kube.private_paths import with_private_paths
from kubectl_apiinfo.kube.bounded import MIB, OverLimit, Reply, body_limit, request_bounded, within

USER_AGENT = "kubectl-apiinfo"



class TransportError(UserError):
    """The cluster could not be read; the message says why and what to try."""

    def __init__(self, message: str, unreachable: bool = False, status: Optional[int] = None):
        super().__init__(message)
        self.unreachable = unreachable
        self.status = status  # the HTTP status the server answered, where it answered one (403: a missing permission)


class _TLSAdapter(HTTPAdapter):
    """HTTPS with the owner's own SSLContext and tls-server-name, for direct and proxied connections alike.

    The owner (a Client) has `ssl_context` (None: requests' own) and `tls_server_name`; they may change.
    """

    def __init__(self, owner, **kwargs):
        self._owner = owner
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        if host.get("scheme") == "https":
            if self._owner.ssl_context is not None:
                pool["ssl_context"] = self._owner.ssl_context
            name = self._owner.tls_server_name
            if name:
                pool["server_hostname"] = name
                pool["assert_hostname"] = name
        return host, pool

    def cert_verify(self, conn, url, verify, cert) -> None:
        # Our context already holds the trust roots; requests would add its own bundle.
        if self._owner.ssl_context is None:
            super().cert_verify(conn, url, verify, cert)


class _Trust:
    def __init__(self, ssl_context: Optional[ssl.SSLContext]):
        self.ssl_context = ssl_context
        self.tls_server_name = None


def session_trusting(ca_data: Optional[bytes], what: str, fix: str) -> requests.Session:
    """A session for a server other than the API server (an OIDC issuer): it trusts ca_data
    (PEM; `what` names it in messages, `fix` says where to correct it), else the default roots.
    HTTPS_PROXY/NO_PROXY apply, as they do to Go's default transport."""
    session = requests.Session()
    session.trust_env = False  # no REQUESTS_CA_BUNDLE, no ~/.netrc
    session.headers["User-Agent"] = USER_AGENT
    context = _context(ca_data, True, what, fix) if ca_data else None
    session.mount("https://", _TLSAdapter(_Trust(context)))
    return session


class Client:
    def __init__(self, access, timeout: Optional[float]):
        self.access = access
        self.base_url = access.server.rstrip("/")  # may carry user:password@, sent as basic auth
        self.server = access.display_server.rstrip("/")  # for messages
        self.timeout = timeout
        self.requests = 0
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._refused: Optional[tuple] = None
        self.session = requests.Session()
        # Not requests' environment handling: REQUESTS_CA_BUNDLE would override the
        # kubeconfig's CA and ~/.netrc would add credentials kubectl never sends.
        self.session.trust_env = False
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.proxies = _proxies(access)
        self.verify: object = True
        if access.insecure_skip_tls_verify:
            self.verify = False
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # we warn once ourselves
        elif os.environ.get("SSL_CERT_FILE") and not access.ca_data:
            self.verify = os.environ["SSL_CERT_FILE"]  # Go's crypto/x509 honours it too
        self.ssl_context: Optional[ssl.SSLContext] = None
        self.cert: Optional[tuple[bytes, bytes]] = None  # the client certificate in use, to notice a refresh
        self.session.mount("https://", _TLSAdapter(self, pool_maxsize=64))
        self.session.mount("http://", HTTPAdapter(pool_maxsize=64))
        self._apply_client_cert()

    def _apply_client_cert(self) -> None:
        pair = self.access.credentials.client_cert()
        if self.ssl_context is not None and pair == self.cert:
            return
        if not (pair or self.access.ca_data):
            self.ssl_context, self.cert = None, None  # requests' own verification is enough
            return
        access = self.access
        context = _context(access.ca_data, self.verify, f"the certificate-authority of cluster {access.cluster_name!r}", "certificate-authority(-data)")
        if pair:
            _load_chain(context, pair[0], pair[1], self.access)
        self.ssl_context, self.cert = context, pair

    @property
    def tls_server_name(self) -> Optional[str]:
        return self.access.tls_server_name

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- requests ------------------------------------------------------

    def _send(self, path: str, headers: dict) -> Reply:
        with self._lock:
            self.requests += 1
        return within(self.timeout, lambda: self._exchange(path, headers), self._late)

    def _late(self) -> TransportError:
        return TransportError(f"{self.server} did not answer within {self.timeout:g}s (raise {flag('request_timeout')})", unreachable=True)

    def _exchange(self, path: str, headers: dict) -> Reply:
        url = self.base_url + path
        verify = self.verify if self.ssl_context is None else self.verify is not False
        limit, what = body_limit(path)
        try:
            response = request_bounded(
                self.session, "GET", url, limit, headers=headers, timeout=self.timeout, allow_redirects=False, verify=verify
            )
        except OverLimit:
            raise TransportError(
                f"{self.server} sent more than {limit // MIB} MB for {path}, the most read for {what}; "
                "check the server, or a proxy in between"
            ) from None
        except requests.exceptions.InvalidHeader:  # never the value: it is a credential
            who = f"user {self.access.user_name!r}" if self.access.user_name else "the user"
            raise TransportError(f"the credentials of {who} hold a line break or another character a header cannot carry; "
                                 "fix the token (or its file) in the kubeconfig") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema, ValueError):
            raise TransportError(f"the server address {self.server!r} is not a valid URL; fix the kubeconfig's server or {flag('server')}") from None
        except requests.exceptions.SSLError as e:
            raise TransportError(
                f"TLS with {self.server} failed ({short_reason(e)}); check the cluster's certificate-authority in your kubeconfig"
            ) from None
        except requests.exceptions.Timeout:
            raise self._late() from None
        except requests.exceptions.ProxyError as e:
            raise TransportError(f"the proxy {self._proxy_shown()} for {self.server} failed ({short_reason(e)})", unreachable=True) from None
        except requests.exceptions.ConnectionError as e:
            if self._speaks_tls():
                raise self._https_error() from None
            if self.access.proxy_url and self.access.proxy_url.lower().startswith("socks5"):
                raise TransportError(
                    f"cannot connect to {self.server} through the socks5 proxy-url {self.access.display_proxy} ({short_reason(e)})", unreachable=True
                ) from None
            raise TransportError(f"cannot connect to {self.server} ({short_reason(e)})", unreachable=True) from None
        except requests.exceptions.RequestException as e:
            raise TransportError(f"request to {self.server} failed ({short_reason(e)})", unreachable=True) from None
        if response.status_code == 400 and self.base_url.startswith("http://") and any(
            text in response.content[:300] for text in _PLAIN_ON_TLS_ANSWERS
        ):
            raise self._https_error()
        return response

    def _proxy_shown(self) -> str:
        if self.access.proxy_url:
            return f"{self.access.display_proxy} (the cluster's proxy-url)"
        return "from HTTPS_PROXY/HTTP_PROXY"

    def _speaks_tls(self) -> bool:
        """After a plain-HTTP request failed: does the server complete a TLS handshake instead?
        (Only the handshake, verifying nothing and sending nothing; not through a proxy.)"""
        if not self.base_url.startswith("http://") or self.session.proxies:
            return False
        import socket

        parts = requests.utils.urlparse(self.base_url)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection((parts.hostname, parts.port or 80), timeout=min(self.timeout or 5.0, 5.0)) as raw:
                with context.wrap_socket(raw, server_hostname=parts.hostname):
                    return True
        except (OSError, ValueError):
            return False

    def _https_error(self) -> TransportError:
        suggestion = "https://" + self.server.split("://", 1)[-1]
        return TransportError(
            f"{self.server} speaks HTTPS, not plain HTTP; use {suggestion} as the server (with the cluster's certificate-authority)"
        )

    def get(self, path: str, accept: str, etag: Optional[str] = None) -> Reply:
        """GET with credentials; after a 401 the credentials get one chance to refresh.

        A 200, or a 304 to etag, is returned; any other status is a TransportError."""
        response = self._get_with_credentials(path, accept, etag)
        if response.status_code in (200, 304):
            return response
        raise self._status_error(path, response)

    def get_optional(self, path: str, accept: str) -> Optional[Reply]:
        """As get, but None when the server has no such path (404): for a path only some servers
        serve, such as /openapi/v3, which older ones lack.  A 401 refreshes the credentials as in
        get, and any status other than 200 or 404 is get's TransportError."""
        response = self._get_with_credentials(path, accept, None)
        if response.status_code == 404:
            return None
        if response.status_code == 200:
            return response
        raise self._status_error(path, response)

    def _get_with_credentials(self, path: str, accept: str, etag: Optional[str]) -> Reply:
        """The answer to a GET with credentials, whatever its status; after a 401 the credentials
        get one chance to refresh."""
        credentials = self.access.credentials
        for attempt in (1, 2):
            used = (credentials.auth_headers(), self.cert)
            headers = {"Accept": accept, **used[0]}
            if etag:
                headers["If-None-Match"] = etag
            response = self._send(path, headers)
            if response.status_code == 401 and attempt == 1 and self._refresh_after_401(used):
                continue
            break
        return response

    def _refresh_after_401(self, used: tuple) -> bool:
        """Refresh once for all concurrent requests: only if the refused credential is still current."""
        with self._refresh_lock:
            if (self.access.credentials.auth_headers(), self.cert) != used:
                return True  # another request already refreshed; retry with the new one
            if used == self._refused:
                return False  # a refresh already gave this same credential back
            if not self.access.credentials.refresh():
                self._refused = used
                return False
            self._apply_client_cert()
            return True

    def get_json(self, path: str, accept: str) -> dict:
        return self.decode(self.get(path, accept))

    def decode(self, response: Reply) -> dict:
        if response.headers.get("Content-Type", "").lower().startswith("text/html"):
            raise TransportError(
                f"{self.server} sent a web page, not JSON, for {_path(response)}; check that the server address is the cluster's API server"
            )
        try:
            doc = response.json()
        except (ValueError, RecursionError):
            raise TransportError(f"{self.server} sent malformed JSON for {_path(response)}") from None
        if not isinstance(doc, dict):
            raise TransportError(f"{self.server} sent a JSON {type(doc).__name__}, not an object, for {_path(response)}")
        return doc

    def _status_error(self, path: str, response: Reply) -> TransportError:
        status = response.status_code
        who = repr(self.access.user_name) if self.access.user_name else "the configured user"
        if status == 401:
            error = TransportError(
                f"{self.server} rejected the credentials of {who} (401 Unauthorized); log in again or check the kubeconfig's user"
            )
            error.unauthorized = True  # type: ignore[attr-defined]
            return error
        if status == 403:
            return TransportError(f"{self.server} forbids {who} to read {path} (403 Forbidden)", status=status)
        reason = self.without_credentials(response.reason or "")
        return TransportError(f"GET {path} on {self.server} answered {status} {printable(reason)}".rstrip(), status=status)

    def without_credentials(self, text: str) -> str:
        """text with the credentials this client sends cut out: a server may echo them in what it says."""
        for value in self.access.credentials.auth_headers().values():
            for secret in {value, value.partition(" ")[2]}:
                if len(secret) >= 4:
                    text = text.replace(secret, "***")
        return text


# How servers answer plain HTTP on their TLS port: Go's net/http (kube-apiserver), nginx.
_PLAIN_ON_TLS_ANSWERS = (b"Client sent an HTTP request to an HTTPS server", b"plain HTTP request was sent to HTTPS port")


def _context(ca_data: Optional[bytes], verify: object, what: str, fix: str) -> ssl.SSLContext:
    """An SSLContext with urllib3's defaults (TLS 1.2+) trusting ca_data (PEM, from memory), else
    the CA file `verify` names, else requests' bundle; or trusting anything when verify is False."""
    from urllib3.util.ssl_ import create_urllib3_context

    context = create_urllib3_context(cert_reqs=ssl.CERT_NONE if verify is False else ssl.CERT_REQUIRED)
    if verify is False:
        context.check_hostname = False
        return context
    context.check_hostname = False  # urllib3 matches the host (or tls-server-name) itself
    try:
        if ca_data:
            context.load_verify_locations(cadata=ca_data.decode("ascii"))
        else:
            context.load_verify_locations(cafile=verify if isinstance(verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH)
    except (ssl.SSLError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{what} holds no usable PEM certificate ({short_reason(e)}); fix {fix} in the kubeconfig") from None
    except OSError as e:
        raise UserError(f"cannot read the CA bundle {verify} ({e.strerror or e}); fix SSL_CERT_FILE") from None
    return context


def _load_chain(context: ssl.SSLContext, cert: bytes, key: bytes, access) -> None:
    who = f"user {access.user_name!r}" if access.user_name else "the user"
    if b"-----BEGIN" not in cert or b"CERTIFICATE-----" not in cert:
        raise UserError(f"the client-certificate of {who} is not a PEM certificate; fix client-certificate(-data) in the kubeconfig")
    if b"-----BEGIN" not in key or b"KEY-----" not in key:
        raise UserError(f"the client-key of {who} is not a PEM private key; fix client-key(-data) in the kubeconfig")
    try:
        with_private_paths((cert, key), lambda paths: context.load_cert_chain(paths[0], paths[1], password=_no_password))
    except ssl.SSLError as e:
        problem = "the key does not belong to the certificate" if "MISMATCH" in str(e) else short_reason(e)
        raise UserError(
            f"the client certificate and key of {who} cannot be used ({problem}); "
            "fix client-certificate(-data) and client-key(-data) in the kubeconfig"
        ) from None


def _no_password() -> bytes:
    # Else OpenSSL would prompt on the terminal for an encrypted key; kubectl does not support those either.
    raise ssl.SSLError("the key is encrypted, which kubectl does not support")


def _proxies(access) -> dict:
    """The kubeconfig's proxy-url, else HTTPS_PROXY/HTTP_PROXY/NO_PROXY, which (as in Go) never apply to loopback."""
    if access.proxy_url:
        _need_socks(access)
        proxy = _remote_names(access.proxy_url)
        return {"http": proxy, "https": proxy}
    return environ_proxies(access.server)


def _remote_names(proxy: str) -> str:
    # Go's SOCKS5 dialer hands the proxy the host name; requests' socks5h is that, socks5 resolves locally.
    return "socks5h://" + proxy[len("socks5://"):] if proxy.lower().startswith("socks5://") else proxy


def environ_proxies(url: str) -> dict:
    """HTTPS_PROXY/HTTP_PROXY/NO_PROXY for url; as in Go, never for loopback."""
    host = (requests.utils.urlparse(url).hostname or "").lower()
    if host == "localhost" or host.startswith("127.") or host == "::1":
        return {}
    return {scheme: _remote_names(proxy) for scheme, proxy in requests.utils.get_environ_proxies(url).items()}


def _need_socks(access) -> None:
    if not access.proxy_url.lower().startswith("socks5://"):
        return
    try:
        import socks  # noqa: F401 - PySocks, which urllib3's SOCKS support needs
    except ImportError:
        raise UserError(
            f"the proxy-url of cluster {access.cluster_name!r} is a socks5 proxy, and SOCKS support (the PySocks package) "
            "is not installed; install it with 'pip install PySocks' or use an http(s) proxy"
        ) from None


def _path(response: Reply) -> str:
    return requests.utils.urlparse(response.url).path or "/"


def _innermost(error: BaseException) -> BaseException:
    cause = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    return cause


def short_reason(error: BaseException) -> str:
    """Why an exception happened, for a message: its innermost cause in a few words (at most 200
    printable characters; requests' messages repeat the whole pool setup, ssl's say where in CPython)."""
    cause = _innermost(error)
    text = str(cause.args[-1] if getattr(cause, "args", None) else cause)
    for marker in ("Failed to establish a new connection: ", "] "):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = re.sub(r"\s*\(_ssl\.c:\d+\)", "", text).strip()  # where in CPython, not why
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].rstrip()
    return printable(text[:200]) or type(cause).__name__
