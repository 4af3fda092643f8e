"""HTTPS to one API server with the kubeconfig's TLS settings and credentials.

requests wants certificates as files, so PEM data from the kubeconfig or an
exec plugin goes into a private temporary directory (0700) that close()
removes; nothing else is ever written.  Error messages name the server and the
problem, never a credential.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from typing import Optional

import requests
from requests.adapters import HTTPAdapter

from kubectl_apiinfo.errors import UserError

USER_AGENT = "kubectl-apiinfo"


class TransportError(UserError):
    """The cluster could not be read; the message says why and what to try."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


class _ServerNameAdapter(HTTPAdapter):
    """Verify the certificate against tls-server-name instead of the URL's host."""

    def __init__(self, server_name: str, **kwargs):
        self._server_name = server_name
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._server_name
        kwargs["assert_hostname"] = self._server_name
        return super().init_poolmanager(*args, **kwargs)


class Client:
    def __init__(self, access, timeout: Optional[float]):
        self.access = access
        self.base_url = access.server.rstrip("/")  # may carry user:password@, sent as basic auth
        self.server = access.display_server.rstrip("/")  # for messages
        self.timeout = timeout
        self.requests = 0
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._tmp: Optional[str] = None
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
        elif access.ca_data:
            self.verify = self._file("ca.crt", access.ca_data)
        elif os.environ.get("SSL_CERT_FILE"):
            self.verify = os.environ["SSL_CERT_FILE"]  # Go's crypto/x509 honours it too
        self.cert: Optional[tuple[str, str]] = None
        if access.tls_server_name:
            adapter = _ServerNameAdapter(access.tls_server_name, pool_maxsize=64)
        else:
            adapter = HTTPAdapter(pool_maxsize=64)
        self.session.mount("https://", adapter)
        self.session.mount("http://", HTTPAdapter(pool_maxsize=64))
        self._apply_client_cert()

    def _file(self, name: str, data: bytes) -> str:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="kubectl-apiinfo-")  # mode 0700
        path = os.path.join(self._tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path

    def _apply_client_cert(self) -> None:
        pair = self.access.credentials.client_cert()
        if pair:
            cert, key = pair
            self.cert = (self._file("client.crt", cert), self._file("client.key", key))

    def close(self) -> None:
        self.session.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- requests ------------------------------------------------------

    def _send(self, path: str, headers: dict) -> requests.Response:
        with self._lock:
            self.requests += 1
        url = self.base_url + path
        try:
            return self.session.get(
                url, headers=headers, timeout=self.timeout, allow_redirects=False, verify=self.verify, cert=self.cert
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema, ValueError):
            raise TransportError(f"the server address {self.server!r} is not a valid URL; fix the kubeconfig's server or --server") from None
        except requests.exceptions.SSLError as e:
            raise TransportError(
                f"TLS with {self.server} failed ({_reason(e)}); check the cluster's certificate-authority in your kubeconfig"
            ) from None
        except requests.exceptions.Timeout:
            raise TransportError(
                f"{self.server} did not answer within {self.timeout:g}s (raise --request-timeout)", unreachable=True
            ) from None
        except requests.exceptions.ProxyError as e:
            raise TransportError(f"the proxy for {self.server} failed ({_reason(e)})", unreachable=True) from None
        except requests.exceptions.ConnectionError as e:
            raise TransportError(f"cannot connect to {self.server} ({_reason(e)})", unreachable=True) from None
        except requests.exceptions.RequestException as e:
            raise TransportError(f"request to {self.server} failed ({_reason(e)})", unreachable=True) from None

    def get(self, path: str, accept: str, etag: Optional[str] = None) -> requests.Response:
        """GET with credentials; after a 401 the credentials get one chance to refresh."""
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
        if response.status_code in (200, 304):
            return response
        raise self._status_error(path, response)

    def _refresh_after_401(self, used: tuple) -> bool:
        """Refresh once for all concurrent requests: only if the refused credential is still current."""
        with self._refresh_lock:
            if (self.access.credentials.auth_headers(), self.cert) != used:
                return True  # another request already refreshed; retry with the new one
            if not self.access.credentials.refresh():
                return False
            self._apply_client_cert()
            return True

    def get_json(self, path: str, accept: str) -> dict:
        return self.decode(self.get(path, accept))

    def decode(self, response: requests.Response) -> dict:
        try:
            doc = response.json()
        except ValueError:
            raise TransportError(f"{self.server} sent malformed JSON for {_path(response)}") from None
        if not isinstance(doc, dict):
            raise TransportError(f"{self.server} sent a JSON {type(doc).__name__}, not an object, for {_path(response)}")
        return doc

    def _status_error(self, path: str, response: requests.Response) -> TransportError:
        status = response.status_code
        who = self.access.user_name or "the configured user"
        if status == 401:
            error = TransportError(
                f"{self.server} rejected the credentials of {who} (401 Unauthorized); log in again or check the kubeconfig's user"
            )
            error.unauthorized = True  # type: ignore[attr-defined]
            return error
        if status == 403:
            return TransportError(f"{self.server} forbids {who} to read {path} (403 Forbidden)")
        return TransportError(f"GET {path} on {self.server} answered {status} {response.reason or ''}".rstrip())


def _proxies(access) -> dict:
    """The kubeconfig's proxy-url, else HTTPS_PROXY/HTTP_PROXY/NO_PROXY, which (as in Go) never apply to loopback."""
    if access.proxy_url:
        return {"http": access.proxy_url, "https": access.proxy_url}
    host = (requests.utils.urlparse(access.server).hostname or "").lower()
    if host == "localhost" or host.startswith("127.") or host == "::1":
        return {}
    return requests.utils.get_environ_proxies(access.server)


def _path(response: requests.Response) -> str:
    return requests.utils.urlparse(response.url).path or "/"


def _reason(error: Exception) -> str:
    """The innermost cause, in a few words (requests' messages repeat the whole pool setup)."""
    cause: BaseException = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause.args[-1] if getattr(cause, "args", None) else cause)
    for marker in ("Failed to establish a new connection: ", "] "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip().rstrip(")")[:200] or type(cause).__name__
