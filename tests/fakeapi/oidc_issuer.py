"""A small fake OpenID Connect issuer over HTTPS: discovery and the refresh-token grant only.

Run it as ``python tests/fakeapi/oidc_issuer.py --config CONFIG.json``; like the
fake API server it prints one JSON line (``{"ready": true, "port": N, "url": "..."}``)
once it listens, then serves until SIGTERM.  Standard library only.

Config keys:
    tls_cert, tls_key   PEM files (HTTPS)
    client_id           the OAuth2 client it knows
    client_secret       its secret ("" = a public client); accepted in an HTTP Basic
                        header or in the form, as RFC 6749 allows
    refresh_tokens      the refresh tokens it accepts now
    rotate              true: every refresh answers a new refresh token and forgets the old one
    lifetime            seconds an issued id_token is valid (default 3600)
    hmac_key            the key that signs id_tokens (HS256); the fake API server shares it
    omit_id_token       true: answer without an id_token (as Okta may)

GET /.well-known/openid-configuration  the discovery document (issuer, token_endpoint)
POST /token                            grant_type=refresh_token
GET /__fake__/requests                 {"count", "requests": [{method, path, grant, auth}]}
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs, unquote


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: dict, key: str) -> str:
    """An HS256 JWT: what the fake API server verifies."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


def verify_jwt(token: str, key: str) -> Optional[dict]:
    """The claims of a JWT signed with key, else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = b64url(hmac.new(key.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None


class Issuer:
    def __init__(self, config: dict):
        self.config = config
        self.lock = threading.Lock()
        self.refresh_tokens = set(config.get("refresh_tokens") or [])
        self.log: list[dict] = []
        self.url = ""

    def token(self, form: dict, basic: Optional[tuple[str, str]]) -> tuple[int, dict]:
        client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
        if client_id != self.config["client_id"] or secret != (self.config.get("client_secret") or ""):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        with self.lock:
            old = form.get("refresh_token", "")
            if old not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "the refresh token is not valid"}
            now = int(time.time())
            claims = {"iss": self.url, "aud": client_id, "sub": "alice", "iat": now, "exp": now + int(self.config.get("lifetime", 3600))}
            answer = {"access_token": "at-" + secrets.token_hex(8), "token_type": "Bearer", "expires_in": 3600}
            if not self.config.get("omit_id_token"):
                answer["id_token"] = make_jwt(claims, self.config["hmac_key"])
            if self.config.get("rotate"):
                self.refresh_tokens.discard(old)
                new = "rt-" + secrets.token_hex(8)
                self.refresh_tokens.add(new)
                answer["refresh_token"] = new
        return 200, answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "IssuerServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _reply(self, code: int, data: Any) -> None:
        raw = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        issuer = self.server.issuer
        if self.path == "/__fake__/requests":
            with issuer.lock:
                log = list(issuer.log)
            self._reply(200, {"count": len(log), "requests": log})
            return
        with issuer.lock:
            issuer.log.append({"method": "GET", "path": self.path})
        if self.path == "/.well-known/openid-configuration":
            self._reply(200, {
                "issuer": issuer.url,
                "token_endpoint": issuer.url + "/token",
                "authorization_endpoint": issuer.url + "/auth",
                "jwks_uri": issuer.url + "/keys",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
            })
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        issuer = self.server.issuer
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        basic = None
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
                basic = (unquote(user.replace("+", " ")), unquote(password.replace("+", " ")))
            except ValueError:
                basic = ("", "")
        with issuer.lock:
            issuer.log.append({"method": "POST", "path": self.path, "grant": form.get("grant_type"), "auth": "basic" if basic else "form",
                               "scope": form.get("scope")})
        if self.path != "/token":
            self._reply(404, {"error": "not found"})
            return
        code, answer = issuer.token(form, basic)
        self._reply(code, answer)


class IssuerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, issuer: Issuer, context: ssl.SSLContext):
        self.issuer = issuer
        self.context = context
        super().__init__(address, Handler)

    def finish_request(self, request, client_address) -> None:
        try:
            request.settimeout(15)
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request, client_address) -> None:
        pass


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="A fake OpenID Connect issuer (refresh-token grant only).")
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    path = Path(args.config).resolve()
    config = json.loads(path.read_text())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["tls_cert"], config["tls_key"])
    issuer = Issuer(config)
    server = IssuerServer(("127.0.0.1", 0), issuer, context)
    issuer.url = f"https://127.0.0.1:{server.server_address[1]}"
    from serving import announce_and_serve

    return announce_and_serve(server, issuer.url)


if __name__ == "__main__":
    sys.exit(main())
