"""Build a gspread client authenticated as a service account, optionally pointed at a local
endpoint (the fake in ``cchc_sync.testing.fake_google``, or any emulator).

Why a session subclass: gspread copies its API base URLs into its modules at import time, so
patching ``gspread.urls`` changes nothing. Instead the ``AuthorizedSession`` given to
``gspread.Client`` rewrites ``https://sheets.googleapis.com``, ``https://www.googleapis.com``
and ``https://oauth2.googleapis.com`` (token traffic, when the key file's ``token_uri`` is
Google's) to ``endpoint``. With ``endpoint=None`` nothing is rewritten: the real Google APIs.

Compression: Google compresses an answer only when the request says ``Accept-Encoding: gzip``
*and* its User-Agent contains "gzip" (Google API performance tips). The session sends both
(``USER_AGENT``, ``ACCEPT_ENCODING``) on every Sheets and Drive request; requests decodes the
answer. A unit's read shrinks about fourfold on the wire.

No retries here: the plain ``gspread.http_client.HTTPClient`` is used, not
``BackOffHTTPClient`` (which ignores ``Retry-After``, does not retry connection errors and in
gspread 6.2.1 never gives up). Retrying, backoff and quota accounting belong to the backend.
google-auth itself still retries the *token* request up to 3 times (1 s, 2 s apart) on
429/500/503, and refreshes the token once on a 401 from the APIs.

Scopes: ``DEFAULT_SCOPES`` is the least-privilege pair ``spreadsheets`` + ``drive.file``.
``spreadsheets`` reads and writes every spreadsheet shared with the service account;
``drive.file`` lets Drive see only files this app (the service account's project) created or
that were opened with it. That is enough when the service account itself creates the
units' spreadsheets (from the templates) in the collection folder and shares them with the
clerks: listing that folder, reading ``modifiedTime``/``version``/``lastModifyingUser`` and
sharing all work. It is NOT enough to discover spreadsheets that people created by hand and
merely shared with the service account: Drive ``files.list`` would silently leave them out.
For that deployment pass ``scopes=READONLY_DRIVE_SCOPES`` (adds ``drive.readonly``) — the
fake models this difference (files seeded with ``FakeGoogle.create_spreadsheet`` are not
app-created).
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import stat
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gspread
from google.auth import crypt
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account
from gspread.http_client import HTTPClient

from cchc_sync.sources.base import SourceError

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
DRIVE_FILE_SCOPE = "https://www.googleapis.com/auth/drive.file"
DRIVE_READONLY_SCOPE = "https://www.googleapis.com/auth/drive.readonly"

DEFAULT_SCOPES: tuple[str, ...] = (SPREADSHEETS_SCOPE, DRIVE_FILE_SCOPE)
READONLY_DRIVE_SCOPES: tuple[str, ...] = (SPREADSHEETS_SCOPE, DRIVE_FILE_SCOPE,
                                          DRIVE_READONLY_SCOPE)

USER_AGENT = "cchc-sync/0.1 (gzip)"
"""Sent with every API request: "gzip" in it (and ACCEPT_ENCODING) makes Google compress."""
ACCEPT_ENCODING = "gzip"

GOOGLE_BASES = (
    "https://sheets.googleapis.com",
    "https://www.googleapis.com",
    "https://oauth2.googleapis.com",
)


def rewrite_url(url: str, endpoint: str | None) -> str:
    """Map a Google API URL onto ``endpoint`` (unchanged when endpoint is None)."""
    if not endpoint:
        return url
    for base in GOOGLE_BASES:
        if url == base or url.startswith(base + "/"):
            return endpoint.rstrip("/") + url[len(base):]
    return url


class _RewritingRequest(Request):
    """google-auth transport for token requests that honours the endpoint rewrite."""

    def __init__(self, session: Any, endpoint: str | None):
        super().__init__(session)
        self._endpoint = endpoint

    def __call__(self, url: str, method: str = "GET", body: Any = None,
                 headers: Any = None, timeout: Any = None, **kwargs: Any) -> Any:
        return super().__call__(rewrite_url(url, self._endpoint), method=method, body=body,
                                headers=headers, timeout=timeout, **kwargs)


def proxies_configured() -> bool:
    """Whether a proxy is set: the environment's, or Windows' and macOS' system settings,
    as urllib finds them (what requests itself would look up)."""
    return bool(urllib.request.getproxies())


def ca_bundle(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle requests would take from the environment (REQUESTS_CA_BUNDLE, else
    CURL_CA_BUNDLE), or None."""
    env = os.environ if environ is None else environ
    return env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or None


class EndpointAuthorizedSession(AuthorizedSession):
    """An AuthorizedSession that sends Google API traffic to ``endpoint`` instead."""

    def __init__(self, credentials: Any, endpoint: str | None = None, **kwargs: Any):
        import requests

        self.endpoint = endpoint.rstrip("/") if endpoint else None
        token_session = requests.Session()
        kwargs.setdefault("auth_request", _RewritingRequest(token_session, self.endpoint))
        super().__init__(credentials, **kwargs)
        self._token_session = token_session
        # Session defaults, merged into every request (google-auth adds only Authorization).
        self.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING})
        # requests looks the environment up (proxies and their bypass list, .netrc, a CA
        # bundle) on every request when trust_env is on: a measurable share of a cycle of
        # thousands of small requests. Kept only when a proxy is configured; a CA bundle
        # set in the environment is read once, here.
        if not proxies_configured():
            for session in (self, token_session):
                session.trust_env = False
                session.verify = ca_bundle() or True

    # Forwards every argument unchanged; only the URL is rewritten (the stubs spell out
    # requests' keywords, which this pass-through does not repeat).
    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> Any:
        return super().request(method, rewrite_url(url, self.endpoint), *args, **kwargs)

    def close(self) -> None:
        self._token_session.close()
        super().close()


def build_gspread_client(
    key_file: str | Path | None,
    endpoint: str | None = None,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    timeout: float | tuple[float, float] | None = 30,
    credentials: Any = None,
) -> gspread.Client:
    """A gspread client for the service account in ``key_file``, or for ``credentials``
    (the coordinator's sign-in, a delegated service account: see signin.py).

    ``endpoint``: base URL replacing Google's hosts (e.g. ``FakeGoogle.url``); None for the
    real APIs. ``timeout``: per-request timeout in seconds (connect, read) given to requests.
    """
    if credentials is None:
        assert key_file is not None
        credentials = read_service_account_key(key_file, scopes)
    session = EndpointAuthorizedSession(credentials, endpoint=endpoint)
    client = gspread.Client(auth=credentials, session=session, http_client=HTTPClient)
    client.http_client.auth = credentials  # gspread leaves it unset when a session is given
    client.set_timeout(timeout)
    return client


def read_service_account_key(key_file: str | Path, scopes: Sequence[str]) -> Any:
    """Service-account credentials from a key file checked by check_key_file; a file that
    cannot be read or is not a key is one line (SourceError), never a traceback."""
    key = check_key_file(key_file)
    try:
        info = json.loads(key.read_text(encoding="utf-8"))
        return credentials_from_info(info, scopes)
    except OSError as exc:  # unreadable (permissions), vanished since the check
        raise SourceError(
            f"không đọc được tệp khoá {key} / cannot read the key file {key}: "
            f"{exc.strerror or exc}"
        ) from None
    except (ValueError, KeyError) as exc:
        raise SourceError(f"{key} không phải tệp khoá tài khoản dịch vụ ({exc})") from None


def credentials_from_info(info: Any, scopes: Sequence[str]) -> Any:
    """Service-account credentials from a key file's content, as
    ``service_account.Credentials.from_service_account_info`` makes them (the same checks,
    ValueError when one fails), with the private key parsed once per process (_signer)."""
    if not isinstance(info, dict):
        raise ValueError("not a JSON object")
    missing = {"client_email", "token_uri"} - info.keys()
    if missing:
        raise ValueError("Service account info was not in the expected format, missing "
                         f"fields {', '.join(sorted(missing))}.")
    pem, key_id = info.get("private_key"), info.get("private_key_id")
    if isinstance(pem, str) and (key_id is None or isinstance(key_id, str)):
        signer = _signer(pem, key_id)
    else:  # missing or odd: google-auth says what is wrong
        signer = crypt.RSASigner.from_service_account_info(info)
    return service_account.Credentials._from_signer_and_info(  # see _signer
        signer, info, scopes=list(scopes))


@functools.lru_cache(maxsize=8)
def _signer(pem: str, key_id: str | None) -> crypt.RSASigner:
    """The parsed private key of a key file's content. Parsing a PEM costs milliseconds of
    CPU, and every backend made in a process (each test's district, each ``doctor`` check)
    would parse the same key again; a rotated key is another text, parsed at once. The
    signer holds no state between signatures, so credentials may share it. Credentials are
    then built from it as google-auth's own from_service_account_info/_file build them
    (``_from_signer_and_info``: private, but what both public constructors call)."""
    return crypt.RSASigner.from_string(pem, key_id)


def check_key_file(key_file: str | Path) -> Path:
    """Refuse a service-account key that group or others may read or write.

    The key is the service account's password: anybody who can read it can edit every
    unit's spreadsheet. Raises SourceError (one line at the CLI, exit 1) with the exact
    `chmod 600` to run. A key systemd delivered with LoadCredential= is exempt: it lives in
    $CREDENTIALS_DIRECTORY, which only the service can enter, and systemd grants the service
    read access with an ACL, which makes the group bits of its mode show the ACL mask.
    """
    path = Path(key_file)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(
            f"không tìm thấy tệp khoá tài khoản dịch vụ {path} / "
            f"service-account key file not found: {path}"
        ) from None
    except OSError as exc:
        raise SourceError(
            f"không đọc được tệp khoá {path} / cannot read the key file {path}: {exc.strerror}"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        # Checked before opening: reading a FIFO would wait forever, a directory fails
        # with a traceback deep in google-auth.
        what = "một thư mục" if stat.S_ISDIR(st.st_mode) else "không phải tệp thường"
        raise SourceError(
            f"đường dẫn khoá {path} là {what}, không phải tệp khoá JSON: hãy trỏ [google] "
            f"credentials tới chính tệp .json / the key path is not a regular file: {path}"
        )
    if _delivered_by_systemd(path):
        return path
    mode = st.st_mode & 0o777
    if mode & 0o077:
        raise SourceError(
            f"tệp khoá {path} đang cho người khác đọc được (quyền {mode:04o}) / the key file "
            f"is readable by group or others (mode {mode:04o}); run: chmod 600 "
            f"{shlex.quote(str(path))}"
        )
    return path


def _delivered_by_systemd(path: Path) -> bool:
    creds_dir = os.environ.get("CREDENTIALS_DIRECTORY", "")
    if not creds_dir:
        return False
    try:
        return path.resolve().parent == Path(creds_dir).resolve()
    except OSError:
        return False
