"""User OAuth for the fake: the installed-app flow a coordinator signs in with, refresh
tokens, revocation, and domain-wide delegation of a service account.

Faithful to Google's documented shapes (OAuth 2.0 for installed apps, RFC 6749/7636):
- ``GET /o/oauth2/auth?client_id&redirect_uri&response_type=code&scope&state
  [&code_challenge&code_challenge_method=S256]``: the consent screen. The fake's "person"
  (``FakeGoogle.oauth_user``) approves at once and the answer is Google's ``302`` to
  ``redirect_uri?state=…&code=…&scope=…``. An unknown client is ``401 invalid_client``
  ("The OAuth client was not found."), a redirect that is not a loopback address ``400
  invalid_request``.
- ``POST /token`` with ``grant_type=authorization_code`` (code used once, same client,
  secret and redirect URI, PKCE verifier checked) answers ``access_token``, ``expires_in``,
  ``refresh_token``, ``scope``, ``token_type``; with ``grant_type=refresh_token`` a new
  access token; a revoked or unknown refresh token is ``400 invalid_grant`` "Token has been
  expired or revoked."
- ``POST /revoke?token=…`` revokes a refresh token (and its access tokens) or an access
  token: ``200 {}``; an unknown token ``400 invalid_token``.
- Delegation: a service account's JWT with ``sub`` acts as that person when the account was
  allowed (``FakeGoogle.allow_delegation``); otherwise ``401 unauthorized_client``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

TOKEN_LIFETIME = 3599
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@dataclass
class OAuthState:
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    user: str = "coordinator@example.gov.vn"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    delegation: set[str] = field(default_factory=set)  # service accounts allowed to use sub


def _error(status: int, error: str, description: str) -> tuple[int, dict[str, Any], dict]:
    return status, {"error": error, "error_description": description}, {}


def authorize(state: OAuthState, query: dict[str, list[str]]) -> tuple[int, Any, dict]:
    arg = {k: v[-1] for k, v in query.items()}
    client = arg.get("client_id", "")
    if client not in state.clients:
        return _error(401, "invalid_client", "The OAuth client was not found.")
    redirect = arg.get("redirect_uri", "")
    if urlsplit(redirect).hostname not in LOOPBACK_HOSTS:
        return _error(400, "invalid_request",
                      "Invalid parameter value for redirect_uri: Non-loopback address.")
    if arg.get("response_type") != "code":
        return _error(400, "unsupported_response_type", "Invalid response_type.")
    scopes = arg.get("scope", "").split()
    if not scopes:
        return _error(400, "invalid_request", "Missing required parameter: scope")
    code = "4/0A" + secrets.token_urlsafe(30)
    state.codes[code] = {"client": client, "redirect": redirect, "scopes": scopes,
                         "user": state.user, "challenge": arg.get("code_challenge"),
                         "method": arg.get("code_challenge_method", "plain")}
    params = {"code": code, "scope": " ".join(scopes)}
    if "state" in arg:
        params = {"state": arg["state"], **params}
    return 302, None, {"Location": f"{redirect}?{urlencode(params)}"}


def exchange_code(store: Any, state: OAuthState, form: dict[str, str]) -> tuple[int, Any, dict]:
    grant = state.codes.pop(form.get("code", ""), None)
    if grant is None:
        return _error(400, "invalid_grant", "Malformed auth code.")
    if (form.get("client_id") != grant["client"]
            or state.clients.get(grant["client"]) != form.get("client_secret")):
        return _error(401, "invalid_client", "Unauthorized")
    if form.get("redirect_uri") != grant["redirect"]:
        return _error(400, "redirect_uri_mismatch", "Bad Request")
    if grant["challenge"]:
        verifier = form.get("code_verifier", "")
        if grant["method"] == "S256":
            digest = hashlib.sha256(verifier.encode("ascii")).digest()
            verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if verifier != grant["challenge"]:
            return _error(400, "invalid_grant", "Invalid code verifier.")
    refresh = "1//0g" + secrets.token_urlsafe(40)
    state.refresh[refresh] = {"client": grant["client"], "user": grant["user"],
                              "scopes": grant["scopes"], "access": []}
    answer = _access(store, state, refresh)
    answer["refresh_token"] = refresh
    return 200, answer, {}


def refresh_access(store: Any, state: OAuthState, form: dict[str, str]) -> tuple[int, Any, dict]:
    grant = state.refresh.get(form.get("refresh_token", ""))
    if grant is None:
        return _error(400, "invalid_grant", "Token has been expired or revoked.")
    if (form.get("client_id") != grant["client"]
            or state.clients.get(grant["client"]) != form.get("client_secret")):
        return _error(401, "invalid_client", "Unauthorized")
    return 200, _access(store, state, form["refresh_token"]), {}


def _access(store: Any, state: OAuthState, refresh: str) -> dict[str, Any]:
    grant = state.refresh[refresh]
    access = "ya29.fake-user-" + secrets.token_urlsafe(24)
    store.tokens[access] = {"email": grant["user"], "scopes": set(grant["scopes"]),
                            "expires": time.time() + TOKEN_LIFETIME, "user": True}
    grant["access"].append(access)
    return {"access_token": access, "expires_in": TOKEN_LIFETIME,
            "scope": " ".join(grant["scopes"]), "token_type": "Bearer"}


def revoke(store: Any, state: OAuthState, token: str) -> tuple[int, Any, dict]:
    grant = state.refresh.pop(token, None)
    if grant is not None:
        for access in grant["access"]:
            store.tokens.pop(access, None)
        return 200, {}, {}
    if store.tokens.pop(token, None) is not None:
        return 200, {}, {}
    return _error(400, "invalid_token", "Token expired or revoked")


def delegated(state: OAuthState, email: str, subject: str) -> tuple[int, Any, dict] | None:
    """None when `email` may act as `subject`, else Google's refusal."""
    if email in state.delegation:
        return None
    return _error(401, "unauthorized_client",
                  "Client is unauthorized to retrieve access tokens using this method, or "
                  "client not authorized for any of the scopes requested.")
