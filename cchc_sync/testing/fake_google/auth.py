"""OAuth for the fake: the service-account token endpoint and bearer-token checks.

Faithful: ``POST /token`` takes google-auth's JWT-bearer grant
(``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=...``) and answers
``{"access_token", "expires_in": 3599, "token_type": "Bearer"}``; errors use OAuth's shape
(``{"error": "invalid_grant", "error_description": ...}``, status 400); the JWT is decoded and
its ``iss`` (service account email), ``scope``, ``aud``, ``iat``/``exp`` recorded and checked
(a token must live at most an hour and not be expired); if the test registered the account's
public key (``FakeGoogle.register_key``) the RS256 signature is verified. API requests
without ``Authorization: Bearer <issued token>`` get Google's 401 body (and a
``WWW-Authenticate`` header); tokens expire after 3599 s or on ``expire_tokens()``, after
which google-auth refreshes on the 401 by itself.
User sign-in (authorization code with PKCE, refresh tokens, revocation) and domain-wide
delegation (a JWT whose ``sub`` names a person) are in ``user_oauth.py``. Simplified: no ID
tokens.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode

from cchc_sync.testing.fake_google import user_oauth
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import Store

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3599
AUTH_HELP = ("Expected OAuth 2 access token, login cookie or other valid authentication "
             "credential. See https://developers.google.com/identity/sign-in/web/"
             "devconsole-project.")


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _oauth_error(error: str, description: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return 400, {"error": error, "error_description": description}, {}


def with_basic_client(body: bytes, header: str | None) -> bytes:
    """Client credentials sent as HTTP Basic (RFC 6749 2.3.1, what requests-oauthlib does)
    added to the form, as Google accepts either."""
    if not header or not header.lower().startswith("basic "):
        return body
    try:
        user, _, password = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
    except ValueError:
        return body
    extra = urlencode({"client_id": unquote_plus(user), "client_secret": unquote_plus(password)})
    return body + (b"&" if body else b"") + extra.encode()


def token(store: Store, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type")
    if grant == "authorization_code":
        return user_oauth.exchange_code(store, store.oauth, form)
    if grant == "refresh_token":
        return user_oauth.refresh_access(store, store.oauth, form)
    if grant != JWT_GRANT:
        return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant or ''}")
    assertion = form.get("assertion", "")
    parts = assertion.split(".")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (IndexError, ValueError):
        return _oauth_error("invalid_grant", "Invalid JWT: malformed assertion.")
    now = time.time()
    iat, exp = claims.get("iat", 0), claims.get("exp", 0)
    if exp - iat > 3600 or exp < now - 300 or iat > now + 300:
        return _oauth_error(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim.")
    email = claims.get("iss") or ""
    if not email:
        return _oauth_error("invalid_grant", "Invalid JWT: iss is missing.")
    key = store.keys.get(email)
    if key is not None and not _verify(key, parts[0] + "." + parts[1], signature, header):
        return _oauth_error("invalid_grant", "Invalid JWT Signature.")
    scopes = set((claims.get("scope") or "").split())
    if not scopes:
        return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    subject = claims.get("sub") or ""
    acting = email
    if subject and subject.lower() != email.lower():
        refused = user_oauth.delegated(store.oauth, email, subject)
        if refused is not None:
            return refused
        acting = subject  # domain-wide delegation: the token acts as that person
    access = "ya29.fake-" + secrets.token_urlsafe(24)
    with store.lock:
        store.tokens[access] = {"email": acting, "scopes": scopes, "expires": now + TOKEN_LIFETIME}
        account = store.accounts.setdefault(email, {"tokens": 0})
        account.update(scopes=sorted(scopes), aud=claims.get("aud"), kid=header.get("kid"),
                       sub=claims.get("sub"), tokens=account["tokens"] + 1)
    return 200, {"access_token": access, "expires_in": TOKEN_LIFETIME,
                 "token_type": "Bearer"}, {}


def _verify(public_key: Any, signed: str, signature: bytes, header: dict[str, Any]) -> bool:
    if header.get("alg") != "RS256":
        return False
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:  # pragma: no cover - cryptography is a test dependency
        return True
    try:
        public_key.verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def authenticate(store: Store, header: str | None, service: str) -> tuple[str, set[str]]:
    """Bearer header -> (service account email, scopes); raises the 401 Google gives."""
    if not header or not header.lower().startswith("bearer "):
        raise _unauthenticated(
            f"Request is missing required authentication credential. {AUTH_HELP}",
            "CREDENTIALS_MISSING", service)
    info = store.tokens.get(header.split(" ", 1)[1].strip())
    if info is None or info["expires"] < time.time():
        reason = "ACCESS_TOKEN_EXPIRED" if info else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
        raise _unauthenticated(f"Request had invalid authentication credentials. {AUTH_HELP}",
                               reason, service)
    return info["email"], set(info["scopes"])


def _unauthenticated(message: str, reason: str, service: str) -> ApiError:
    return ApiError(
        401, message,
        details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                  "domain": "googleapis.com", "metadata": {"service": service}}],
        reason="authError", location="Authorization",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                     'error="invalid_token"'},
    )


def load_public_key(info: dict[str, Any]) -> tuple[str, Any]:
    """A service-account JSON (as a dict) -> (email, public key of its private key)."""
    return info["client_email"], _public_key(info["private_key"])


@functools.lru_cache(maxsize=8)
def _public_key(pem: str) -> Any:
    """Parsing a private key costs milliseconds; tests register the same key again and
    again (testing.keys makes one per e-mail per process). Public keys are immutable."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem.encode(), password=None).public_key()
