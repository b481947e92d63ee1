"""HTTP server of the fake Google APIs: the ``FakeGoogle`` object tests use (start and stop,
state, faults, stats, control endpoints). A request is routed by routes.py and served by
handler.py.

Serves, on one loopback port, what ``https://sheets.googleapis.com``,
``https://www.googleapis.com`` (Drive v3) and
``https://oauth2.googleapis.com/token`` would. Real gspread 6.2 and google-auth talk to it
unchanged over HTTP/1.1 keep-alive (see ``cchc_sync.sources.google.client``).

Control endpoints (not Google's; never counted in stats):
``GET /_fake/stats`` (``{"total", "by_kind", "by_status", <kind>: n...}``),
``POST /_fake/stats/reset``, ``GET /_fake/requests`` (recent request log),
``POST /_fake/faults`` (JSON options, see faults.py), ``POST /_fake/faults/clear``,
``POST /_fake/unshare/{id}``, ``POST /_fake/share/{id}`` (``{"email", "role"}``),
``POST /_fake/delete/{id}``, ``GET /_fake/spreadsheets/{id}`` (full dump),
``POST /_fake/spreadsheets`` (seed a file owned by someone else: ``{"title", "owner",
"share_with", "role", "tabs", "parents", "mimeType"}`` -> ``{"id"}``),
``POST /_fake/edit/{id}`` (a person typing: ``{"tab", "a1", "values", "user"}``),
``POST /_fake/tokens/expire``, ``POST /_fake/limits`` (``{"max_request_bytes"}``),
``GET /_fake/health``.
A Sheets or Drive request whose body is over ``max_request_bytes`` (Google's 10,485,760 by
default) is refused as Google does: 400 INVALID_ARGUMENT "Request payload size exceeds the
limit: 10485760 bytes.". The request log records each body's size (``bytes``).
Errors raised by a handler bug answer 500 INTERNAL and are kept in ``FakeGoogle.errors``.
"""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

from cchc_sync.testing.fake_google import (
    auth,
    control,
    shared_drives,
    sheets,
    user_oauth,
)
from cchc_sync.testing.fake_google.faults import Faults, Stats
from cchc_sync.testing.fake_google.handler import Handler
from cchc_sync.testing.fake_google.model import SHEETS_MIME, Store

DEFAULT_PERSON = "clerk@example.com"
MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""Google refuses a request body larger than this (HTTP 400)."""



class FakeState(NamedTuple):
    """A snapshot of a fake's state (FakeGoogle.snapshot): the store and the statistics
    pickled, and the service accounts' public keys as they are (immutable, not picklable)."""

    store: bytes
    keys: dict[str, Any]


class FakeGoogle:
    """A local Sheets v4 + Drive v3 + OAuth token server for tests.

    >>> with FakeGoogle() as fake:
    ...     fake.url  # 'http://127.0.0.1:PORT'
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None,
                 require_auth: bool = True,
                 default_account: str = "cchc-sync@test-project.iam.gserviceaccount.com",
                 verbose: bool = False, max_request_bytes: int = MAX_REQUEST_BYTES):
        self.host, self.port = host, port
        self.max_request_bytes = max_request_bytes
        self.store = Store(seed)
        self.faults = Faults()
        self.stats_ = Stats()
        self.require_auth = require_auth
        self.default_account = default_account
        self.default_scopes = [sheets.SHEETS_SCOPE, sheets.DRIVE_SCOPE]
        self.verbose = verbose
        self.strict = True
        """Refuse unknown query parameters, body fields and mask names as Google does."""
        self.disabled_apis: set[str] = set()
        """"sheets" and/or "drive": answered with Google's 403 SERVICE_DISABLED."""
        self.service_account_storage = False
        """As Google since 2025: a service account cannot create files outside shared
        drives (it has no Drive storage), 403 storageQuotaExceeded. True: the rule before
        2025, for replaying recordings made then (docs/fake-google.md)."""
        self.errors: list[str] = []
        self.hooks: list[Callable[[str, str], None]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeGoogle:
        handler = type("Handler", (Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-google", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    # ------------------------------------------------------------------ stats and faults
    def stats(self) -> dict[str, Any]:
        return self.stats_.snapshot()

    def reset_stats(self) -> None:
        self.stats_.reset()

    def record_bodies(self, on: bool = True) -> None:
        """Log each request's query string and body too (`requests()`: "query", "body")."""
        self.stats_.bodies = on

    def requests(self) -> list[dict[str, Any]]:
        with self.stats_.lock:
            return list(self.stats_.log)

    def on_request(self, hook: Callable[[str, str], None]) -> Callable[[], None]:
        """Call hook(kind, path) as each API request arrives (counted in stats, after any
        latency), before it is served, on the request's own thread; returns the function
        that removes the hook. In-process tests use it to let a person's edit land between
        two of the software's requests as an event, not by racing the fake's latency."""
        self.hooks.append(hook)
        return lambda: self.hooks.remove(hook)

    def set_faults(self, **options: Any) -> dict[str, Any]:
        return self.faults.set(**options)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_limits(self, max_request_bytes: int | None = None) -> dict[str, Any]:
        """Change Google's limits for this fake (tests lower them); None keeps a limit."""
        if max_request_bytes is not None:
            self.max_request_bytes = int(max_request_bytes)
        return {"max_request_bytes": self.max_request_bytes}

    # ------------------------------------------------------------------ state helpers
    def register_oauth_client(self, client_id: str, client_secret: str) -> None:
        """An office's own OAuth client ("Desktop app") the coordinator signs in with."""
        with self.store.lock:
            self.store.oauth.clients[client_id] = client_secret

    def client_secrets(self, path: str | Path, client_id: str = "123-cchc.apps."
                       "googleusercontent.com", client_secret: str = "GOCSPX-fake") -> Path:
        """Register an OAuth client and write its client_secret.json (as the Cloud
        Console's download, "installed" type, with this fake's URLs)."""
        self.register_oauth_client(client_id, client_secret)
        path = Path(path)
        path.write_text(json.dumps({"installed": {
            "client_id": client_id, "project_id": "cchc-sync-test",
            "auth_uri": f"{self.url}/o/oauth2/auth", "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_secret": client_secret, "redirect_uris": ["http://localhost"],
        }}), encoding="utf-8")
        return path

    @property
    def oauth_user(self) -> str:
        """Who signs in at the fake's consent screen."""
        return self.store.oauth.user

    @oauth_user.setter
    def oauth_user(self, email: str) -> None:
        self.store.oauth.user = email

    def allow_delegation(self, service_account: str) -> None:
        """Domain-wide delegation granted to this service account by the Workspace admin."""
        with self.store.lock:
            self.store.oauth.delegation.add(service_account)

    def revoke_user_tokens(self) -> None:
        """The person removed the app's access (myaccount.google.com/permissions)."""
        with self.store.lock:
            for refresh in list(self.store.oauth.refresh):
                user_oauth.revoke(self.store, self.store.oauth, refresh)

    def snapshot(self) -> FakeState:
        """Everything the fake holds (files, accounts, tokens, ids) and what it counted, for
        another fake to start from: a test suite builds a district once and gives each test
        its own copy, as if that test had built it. Faults and limits are not state."""
        with self.store.lock, self.stats_.lock:
            lock, keys, stats_lock = self.store.lock, self.store.keys, self.stats_.lock
            self.store.lock, self.store.keys = None, {}  # type: ignore[assignment]
            self.stats_.lock = None  # type: ignore[assignment]
            try:
                return FakeState(pickle.dumps((self.store, self.stats_)), dict(keys))
            finally:
                self.store.lock, self.store.keys, self.stats_.lock = lock, keys, stats_lock

    def restore(self, state: FakeState) -> None:
        """Replace everything the fake holds with a snapshot's copy."""
        store, stats = pickle.loads(state.store)  # noqa: S301 - our own bytes, made above
        store.lock, stats.lock = threading.RLock(), threading.Lock()
        store.keys = dict(state.keys)
        self.store, self.stats_ = store, stats

    def register_key(self, service_account_info: dict[str, Any]) -> None:
        """Verify JWT signatures of this service account from now on."""
        email, key = auth.load_public_key(service_account_info)
        with self.store.lock:
            self.store.keys[email] = key

    def expire_tokens(self) -> None:
        with self.store.lock:
            for info in self.store.tokens.values():
                info["expires"] = 0

    def accounts(self) -> dict[str, Any]:
        with self.store.lock:
            return json.loads(json.dumps(self.store.accounts))

    def create_spreadsheet(self, title: str, owner: str = DEFAULT_PERSON,
                           share_with: list[str] | str | None = None, role: str = "writer",
                           tabs: list[dict[str, Any]] | None = None,
                           parents: list[str] | None = None, shared: bool = True) -> str:
        """Seed a spreadsheet made by a person (not app-created). It is shared with
        ``share_with`` (default: the default service account) unless ``shared=False``.
        ``tabs``: ``[{"title": "Data", "rows": 100, "cols": 10}, ...]``."""
        if isinstance(share_with, str):
            share_with = [share_with]
        if share_with is None:
            share_with = [self.default_account] if shared else []
        return control.create(self.store, title, owner, SHEETS_MIME, share_with, role, parents,
                              tabs)

    def create_folder(self, name: str, owner: str = DEFAULT_PERSON,
                      share_with: list[str] | str | None = None, role: str = "writer") -> str:
        if isinstance(share_with, str):
            share_with = [share_with]
        return control.create(self.store, name, owner, "application/vnd.google-apps.folder",
                              share_with, role)

    def create_shared_drive(self, name: str, organizer: str = DEFAULT_PERSON,
                            members: dict[str, str] | None = None) -> str:
        """A shared drive (Workspace) whose Manager is `organizer`, with `members`
        {email: role} ("fileOrganizer" is Content manager); returns its id, which is
        also its root folder's id."""
        with self.store.lock:
            root = shared_drives.new_drive(self.store, name, organizer)
            for email, role in (members or {}).items():
                root.permissions.append(self.store.make_permission("user", role, email))
            return root.id

    def create_folder_in(self, parent: str, name: str, creator: str = DEFAULT_PERSON) -> str:
        """A folder inside a shared drive (or a folder of one), owned by that drive."""
        with self.store.lock:
            folder = self.store.create_file(name, "application/vnd.google-apps.folder",
                                            creator, [parent], app_created=False)
            drive_id = shared_drives.drive_of_parents(self.store, [parent])
            if drive_id:
                shared_drives.place_in_drive(self.store, folder, drive_id, creator)
            return folder.id

    def create_shared_drive_folder(self, member: str, name: str = "Báo cáo CCHC",
                                   drive: str = "Cải cách hành chính",
                                   organizer: str = DEFAULT_PERSON) -> str:
        """What a Workspace office sets up for a service account (`member`, made Content
        manager): a shared drive and a folder in it; returns the folder's id. Google lets a
        service account create files only there."""
        drive_id = self.create_shared_drive(drive, organizer=organizer,
                                            members={member: "fileOrganizer"})
        return self.create_folder_in(drive_id, name, creator=organizer)

    def share(self, file_id: str, email: str | None = None, role: str = "writer") -> None:
        control.share(self.store, file_id, email or self.default_account, role)

    def unshare(self, file_id: str) -> None:
        control.unshare(self.store, file_id)

    def delete(self, file_id: str) -> None:
        control.delete(self.store, file_id)

    def spreadsheet(self, file_id: str) -> dict[str, Any]:
        return control.dump(self.store, file_id)

    def edit_cells(self, file_id: str, tab: str, a1: str, values: Any,
                   user: str = DEFAULT_PERSON) -> None:
        """A person types ``values`` (USER_ENTERED) at ``tab!a1``; bumps modifiedTime."""
        control.edit_cells(self.store, file_id, tab, a1, values, user)

    # ------------------------------------------------------------------ control over HTTP
    def _control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.split("/")[2:]]
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return 400, {"error": "invalid JSON"}
        try:
            return self._control_route(method, parts, data)
        except KeyError as err:
            return 404, {"error": str(err)}
        except PermissionError as err:
            return 403, {"error": str(err)}
        except (ValueError, IndexError, TypeError) as err:
            return 400, {"error": str(err)}

    def _control_route(self, method: str, parts: list[str], data: dict) -> tuple[int, Any]:
        key = (method, parts[0] if parts else "", len(parts))
        if key == ("GET", "health", 1):
            return 200, {"ok": True, "url": self.url}
        if key == ("GET", "stats", 1):
            return 200, self.stats()
        if key == ("POST", "stats", 2) and parts[1] == "reset":
            self.reset_stats()
            return 200, {}
        if key == ("GET", "requests", 1):
            return 200, {"requests": self.requests()}
        if key == ("POST", "listing-lag", 1):  # {"seconds": 30}
            self.store.listing_lag = float(data.get("seconds", 0))
            return 200, {"seconds": self.store.listing_lag}
        if key == ("POST", "accounts", 1):
            # {"disabled_apis": ["sheets"], "service_account_storage": false}
            self.disabled_apis = set(data.get("disabled_apis", self.disabled_apis))
            self.service_account_storage = bool(
                data.get("service_account_storage", self.service_account_storage))
            return 200, {"disabled_apis": sorted(self.disabled_apis),
                         "service_account_storage": self.service_account_storage}
        if key == ("POST", "faults", 1):
            return 200, self.set_faults(**data)
        if key == ("POST", "faults", 2) and parts[1] == "clear":
            self.clear_faults()
            return 200, {}
        if key == ("POST", "unshare", 2):
            self.unshare(parts[1])
            return 200, {}
        if key == ("POST", "share", 2):
            self.share(parts[1], data.get("email"), data.get("role", "writer"))
            return 200, {}
        if key == ("POST", "delete", 2):
            self.delete(parts[1])
            return 200, {}
        if key == ("GET", "spreadsheets", 2):
            return 200, self.spreadsheet(parts[1])
        if key == ("POST", "spreadsheets", 1):
            file_id = control.create(self.store, data.get("title", "Untitled spreadsheet"),
                                     data.get("owner", DEFAULT_PERSON),
                                     data.get("mimeType", SHEETS_MIME), data.get("share_with"),
                                     data.get("role", "writer"), data.get("parents"),
                                     data.get("tabs"))
            return 200, {"id": file_id}
        if key == ("POST", "edit", 2):
            self.edit_cells(parts[1], data.get("tab", ""), data["a1"], data["values"],
                            data.get("user", DEFAULT_PERSON))
            return 200, {}
        if key == ("POST", "limits", 1):
            return 200, self.set_limits(**data)
        if key == ("POST", "tokens", 2) and parts[1] == "expire":
            self.expire_tokens()
            return 200, {}
        return 404, {"error": f"unknown control endpoint {method} /_fake/{'/'.join(parts)}"}
