"""The `oidc` auth-provider, as kubectl (client-go) has it.

The user's id-token is sent as a bearer token while its JWT `exp` is more than
10 s away.  Otherwise (and, unlike kubectl, also after a 401) the refresh-token
gets a new one from the issuer: idp-issuer-url's OpenID discovery document names
the token endpoint, which gets grant_type=refresh_token with client-id and
client-secret (in a Basic header, then in the form, as Go's oauth2 tries them).
The new id-token, and a new refresh-token if the issuer rotated it, are written
back into the kubeconfig file the user came from, as kubectl does.  No scopes are
sent (client-go ignores extra-scopes on refresh).  Tokens never appear in messages.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional

from kubectl_apiinfo.console import warn
from kubectl_apiinfo.errors import UserError, redact_url
from kubectl_apiinfo.kube.credentials import Credentials, read_referenced_file

EXPIRY_DELTA = 10.0  # seconds: client-go's, against clocks that disagree a little
ISSUER_TIMEOUT = 30.0


def jwt_expiry(token: str) -> Optional[float]:
    """The `exp` claim of a JWT (epoch seconds); None when it has none; ValueError when it is no JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        raise ValueError("not a JWT") from None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp)


class _Tokens:
    """A user's tokens as this process knows them; the lock lets one request refresh while the others wait."""

    def __init__(self, cfg: Dict[str, str]):
        self.cfg = cfg
        self.lock = threading.Lock()
        self.failed: Optional[tuple] = None  # (the tokens a refresh started from, its error)


# One _Tokens per user and issuer in this process (client-go keeps one provider per issuer too):
# contexts refreshed together that share the user share its tokens, so a rotated
# refresh-token is spent once.
_SHARED: Dict[tuple, _Tokens] = {}
_SHARED_LOCK = threading.Lock()


class OIDCCredentials(Credentials):
    def __init__(
        self,
        config: Mapping[str, Any],
        where: str,
        persist: Callable[[Dict[str, str]], None],
        *,
        timeout: Optional[float] = ISSUER_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ):
        self._where = where
        cfg = {str(k): ("" if v is None else str(v)) for k, v in config.items()}
        for key in ("idp-issuer-url", "client-id"):
            if not cfg.get(key):
                raise UserError(f"the oidc auth-provider of {where} has no {key}; set auth-provider.config.{key} in the kubeconfig")
        self._issuer = cfg["idp-issuer-url"].rstrip("/")
        self._ca: Optional[bytes] = None
        if cfg.get("idp-certificate-authority-data"):
            try:
                self._ca = base64.b64decode("".join(cfg["idp-certificate-authority-data"].split()), validate=True)
            except (ValueError, binascii.Error):
                raise UserError(f"idp-certificate-authority-data of {where} is not valid base64; encode it again (base64 -w0)") from None
        elif cfg.get("idp-certificate-authority"):
            self._ca = read_referenced_file(cfg["idp-certificate-authority"], "idp-certificate-authority", where)
        self._persist = persist
        self._timeout = timeout
        self._clock = clock
        with _SHARED_LOCK:
            self._state = _SHARED.setdefault((where, self._issuer, cfg["client-id"]), _Tokens(cfg))

    def auth_headers(self) -> Dict[str, str]:
        with self._state.lock:
            token = self._state.cfg.get("id-token")
            if not (token and self._fresh(token)):
                token = self._refresh_locked()
            return {"Authorization": f"Bearer {token}"}

    def refresh(self) -> bool:
        with self._state.lock:
            if not self._state.cfg.get("refresh-token"):
                return False
            old = self._state.cfg.get("id-token")
            return self._refresh_locked() != old

    def _fresh(self, token: str) -> bool:
        try:
            exp = jwt_expiry(token)
        except ValueError:
            raise UserError(f"the id-token of {self._where} is not a JWT; log in to your identity provider again") from None
        return exp is not None and self._clock() + EXPIRY_DELTA < exp

    def _refresh_locked(self) -> str:
        # Concurrent requests wait on the lock: the first one's failure is theirs too, not a second try.
        attempt = (self._state.cfg.get("id-token"), self._state.cfg.get("refresh-token"))
        if self._state.failed is not None and self._state.failed[0] == attempt:
            raise self._state.failed[1]
        try:
            return self._refresh_from_issuer()
        except UserError as e:
            self._state.failed = (attempt, e)
            raise

    def _refresh_from_issuer(self) -> str:
        refresh_token = self._state.cfg.get("refresh-token")
        if not refresh_token:
            raise UserError(
                f"the id-token of {self._where} has expired (or is missing) and it has no refresh-token to get a new one; "
                "log in to your identity provider again"
            )
        from kubectl_apiinfo.kube.transport import environ_proxies, session_trusting

        session = session_trusting(self._ca, f"the idp-certificate-authority of {self._where}", "idp-certificate-authority(-data)")
        with session:
            endpoint = self._token_endpoint(session)
            answer = self._grant(session, endpoint, refresh_token, environ_proxies(endpoint))
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise UserError(
                f"the OIDC issuer {self._shown()} answered the refresh of {self._where} without an id_token "
                "(the 'openid' scope was not requested at login, or the provider does not return id_tokens on refresh); log in again"
            )
        updates = {"id-token": id_token}
        new_refresh = answer.get("refresh_token")
        if isinstance(new_refresh, str) and new_refresh and new_refresh != refresh_token:
            updates["refresh-token"] = new_refresh
        self._state.cfg.update(updates)
        try:
            self._persist(dict(updates))
        except (OSError, UserError) as e:
            # kubectl fails here; the new token still works for this command, so only warn.
            reason = getattr(e, "strerror", None) or str(e)
            then = (
                "the issuer replaced the refresh-token too, so the next command will need a new login"
                if "refresh-token" in updates
                else "the next command refreshes it again"
            )
            message = f"the refreshed id-token of {self._where} could not be saved ({reason}); {then}"
            warn(message)
        return id_token

    def _shown(self) -> str:
        return repr(redact_url(self._issuer))

    def _request(self, session, method: str, url: str, **kwargs):
        import requests

        from kubectl_apiinfo.kube.bounded import SMALL_LIMIT, OverLimit, request_bounded, within
        from kubectl_apiinfo.kube.transport import short_reason

        def late() -> UserError:
            return UserError(f"the OIDC issuer {self._shown()} of {self._where} did not answer within {self._timeout:g}s; check idp-issuer-url")

        try:
            return within(
                self._timeout,
                lambda: request_bounded(session, method, url, SMALL_LIMIT, timeout=self._timeout, allow_redirects=False, **kwargs),
                late,
            )
        except OverLimit:
            raise UserError(f"the OIDC issuer {self._shown()} of {self._where} sent an answer over 1 MB; check idp-issuer-url") from None
        except requests.exceptions.Timeout:
            raise late() from None
        except requests.exceptions.RequestException as e:
            raise UserError(f"cannot reach the OIDC issuer {self._shown()} of {self._where} ({short_reason(e)}); check idp-issuer-url") from None

    def _token_endpoint(self, session) -> str:
        from kubectl_apiinfo.kube.transport import environ_proxies

        url = self._issuer + "/.well-known/openid-configuration"
        response = self._request(session, "GET", url, proxies=environ_proxies(url))
        try:
            document = response.json() if response.status_code == 200 else None
        except (ValueError, RecursionError):
            document = None
        endpoint = document.get("token_endpoint") if isinstance(document, dict) else None
        if response.status_code != 200:
            raise UserError(f"the OIDC issuer {self._shown()} of {self._where} answered {response.status_code} for its discovery document; check idp-issuer-url")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise UserError(f"the OIDC issuer {self._shown()} of {self._where} sent a discovery document without a token_endpoint; check idp-issuer-url")
        return endpoint

    def _grant(self, session, endpoint: str, refresh_token: str, proxies: dict) -> dict:
        from urllib.parse import quote

        client_id, secret = self._state.cfg["client-id"], self._state.cfg.get("client-secret", "")
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        # Go's oauth2 (AuthStyleAutoDetect): client credentials in a Basic header, and if that fails, in the form.
        response = self._request(session, "POST", endpoint, data=form, auth=(quote(client_id, safe=""), quote(secret, safe="")), proxies=proxies)
        if response.status_code != 200:
            response = self._request(session, "POST", endpoint, data={**form, "client_id": client_id, "client_secret": secret}, proxies=proxies)
        try:
            answer = response.json()
        except (ValueError, RecursionError):
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            code = answer.get("error") if isinstance(answer, dict) else None
            said = f" ({code})" if isinstance(code, str) and re.fullmatch(r"[a-z_]{1,40}", code) else ""
            raise UserError(
                f"the OIDC issuer {self._shown()} refused to refresh the id-token of {self._where}: "
                f"{response.status_code}{said}; log in to your identity provider again"
            )
        return answer

    def __repr__(self) -> str:
        return f"OIDCCredentials({self._where}, issuer={self._shown()})"
