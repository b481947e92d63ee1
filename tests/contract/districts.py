"""A district of units on one backend, and the questions the tests ask of any backend.

Three harnesses answer the same questions (what the sheet holds, a cell's note and colour,
whether it is locked) and do the same things people do (type a value, delete a tab, take a
sheet away): `LocalDistrict` on real .xlsx files, `GoogleDistrict` on the fake Google APIs
over real HTTP with real gspread and google-auth's service-account flow (a key made at test
time whose token_uri is the fake's), `MemoryDistrict` on the reference MemoryBackend.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import openpyxl
import requests
from google.oauth2 import credentials as user_credentials
from openpyxl.utils import get_column_letter

from cchc_sync.app.demo import demo_tables, fill_demo_workbooks
from cchc_sync.app.demo_data import DISTRICT, PERIOD, UNITS_CSV
from cchc_sync.app.demo_google import fill_demo_google
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import Workspace, open_workspace, sync_once
from cchc_sync.domain.config import GoogleSettings, load_config
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.sources.google.create import LOCK_DESCRIPTION
from cchc_sync.sources.google.signin import USER_SCOPES, save_user_credentials
from cchc_sync.sources.memory import MemoryBackend
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.fake_google.auth import load_public_key
from cchc_sync.testing.fake_google.server import FakeState
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from cchc_sync.testing.typist import set_cell, type_rows
from tests import shared_builds
from tests.conftest import Clock, make_district

__all__ = ["PERIOD", "BACKENDS", "GoogleDistrict", "LocalDistrict", "MemoryDistrict", "make"]

BACKENDS = ("local", "google", "memory")
COORDINATOR = "phongnoivu@example.gov.vn"
"""A coordinator who reads the master."""
SIGNED_IN = "chuyenvien.tonghop@example.gov.vn"
"""The coordinator the software acts as in "user" and "delegation" modes: the owner of every
file. (Listing them among the master's readers too changes nothing, as on Drive:
test_google_modes.py.)"""
KEY_FILE, TOKEN_FILE = "service-account.json", "google-token.json"
STATUS_TITLE = "Kết quả kiểm tra"
SOFTWARE_TABS = {"Kiểm tra", "_cchc", "Hướng dẫn"}
FAST = 100_000  # the fake has no quota
Rows = Mapping[str, Sequence[Mapping[str, Any]]]
"""Tab title -> rows of {column title: what the clerk typed}."""


class District:
    """What every harness shares: a workspace made by `init`, a clock, the archive's refs."""

    kind = ""

    def _init(self, root: Path, units_csv: str, period: str, successors_csv: str | None,
              **init: Any) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "units-source.csv").write_text(units_csv, encoding="utf-8")
        if successors_csv:
            (root / "successors-source.csv").write_text(successors_csv, encoding="utf-8")
            init["successors_csv"] = root / "successors-source.csv"
        self.clock = Clock()
        self.ws: Workspace = init_workspace(root, units_csv=root / "units-source.csv",
                                            period=period, name=DISTRICT, **init)
        self.ws.clock = self.clock

    def ref(self, unit: str, period: str | None = None) -> SheetRef:
        sheet = self.ws.archive.sheets(period or self.ws.period.code)[unit]
        return SheetRef(ref=sheet.ref, url=sheet.url)

    def master_ref(self, period: str | None = None) -> SheetRef:
        master = self.ws.archive.master(period or self.ws.period.code)
        return SheetRef(ref=master["ref"], url=master["url"])

    def close(self) -> None:
        self.ws.close()

    def reopen(self) -> None:
        """The workspace opened again from its config file, as the next command does."""
        backend, config = self.ws.backend, self.ws.config.path
        self.ws.close()
        self.ws = open_workspace(load_config(config), backend=backend, clock=self.clock)

    def type_value(self, unit: str, tab: str, row: int, title: str, value: Any,
                   period: str | None = None) -> None:
        self.type_rows(unit, {tab: [{title: value}]}, start_row=row, period=period)

    def master(self, period: str | None = None) -> dict[str, list[list[Any]]]:
        return self.sheet_values(self.master_ref(period))

    def tabs(self, unit: str, period: str | None = None) -> dict[str, list[list[Any]]]:
        """Tab title -> rows of stored values (None for blank)."""
        return self.sheet_values(self.ref(unit, period))

    def sheet_values(self, ref: SheetRef) -> dict[str, list[list[Any]]]:
        raise NotImplementedError

    def type_rows(self, unit: str, tables: Rows, *, start_row: int = 2,
                  period: str | None = None) -> None:
        raise NotImplementedError


class LocalDistrict(District):
    kind = "local"

    def __init__(self, root: Path, units_csv: str = UNITS_CSV, fill: bool = True,
                 period: str = PERIOD, successors_csv: str | None = None):
        # A copy of the district init (and the clerks' typing) made once per test process
        # (conftest.make_district): what `init` and fill_demo would make here.
        self.clock = Clock()
        self.ws = make_district(root, fill=fill, clock=self.clock, period=period,
                                units_csv=units_csv, successors_csv=successors_csv)

    def fill_demo(self) -> None:
        fill_demo_workbooks(self.ws)

    def path(self, unit: str, period: str | None = None) -> Path:
        return self.ws.config.root / self.ref(unit, period).ref

    def sheet_values(self, ref: SheetRef) -> dict[str, list[list[Any]]]:
        wb = openpyxl.load_workbook(self.ws.config.root / ref.ref)
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
                for ws in wb.worksheets}

    def cell_flag(self, unit: str, tab: str, row: int, title: str,
                  period: str | None = None) -> tuple[str | None, str]:
        """(note text, fill colour RRGGBB or "") of the cell under `title` in `row`."""
        sheet = openpyxl.load_workbook(self.path(unit, period))[tab]
        header = [c.value for c in sheet[1]]
        c = sheet.cell(row=row, column=header.index(title) + 1)
        rgb = c.fill.fgColor.rgb if c.fill is not None and c.fill.fill_type == "solid" else ""
        return (c.comment.text if c.comment else None), str(rgb or "")[-6:].upper()

    def type_rows(self, unit: str, tables: Rows, *, start_row: int = 2,
                  period: str | None = None) -> None:
        type_rows(self.path(unit, period), tables, start_row=start_row)

    def type_value(self, unit: str, tab: str, row: int, title: str, value: Any,
                   period: str | None = None) -> None:
        set_cell(self.path(unit, period), tab, row, title, value)

    def type_despite_lock(self, unit: str, tab: str, row: int, title: str, value: Any) -> None:
        """A person edits a locked workbook anyway (another program, a copy)."""
        os.chmod(self.path(unit), 0o644)
        set_cell(self.path(unit), tab, row, title, value)

    def delete_tab(self, unit: str, tab: str) -> None:
        wb = openpyxl.load_workbook(self.path(unit))
        wb.remove(wb[tab])
        wb.save(self.path(unit))

    def add_note(self, unit: str, tab: str, row: int, column: int, text: str) -> None:
        wb = openpyxl.load_workbook(self.path(unit))
        wb[tab].cell(row=row, column=column).comment = openpyxl.comments.Comment(text, "An")
        wb.save(self.path(unit))

    def take_away(self, unit: str) -> None:
        path = self.path(unit)
        shutil.move(path, path.with_suffix(".away"))

    def give_back(self, unit: str) -> None:
        path = self.path(unit)
        shutil.move(path.with_suffix(".away"), path)

    def locked(self, unit: str, period: str | None = None) -> bool:
        return not os.stat(self.path(unit, period)).st_mode & stat.S_IWUSR


class GoogleDistrict(District):
    """A district on the fake Google APIs. Building one (init's spreadsheets, the clerks'
    typing, a first cycle) costs seconds of CPU in the fake and the client: the first of
    each kind in a test run is built for real and snapshotted (its folder and the fake's
    state, shared by the run's workers: tests/shared_builds.py), and every district of
    that kind starts a fresh fake from a copy of that snapshot."""

    kind = "google"

    def __init__(self, root: Path, units_csv: str = UNITS_CSV, fill: bool = True,
                 data_rows: int = 10, period: str = PERIOD, successors_csv: str | None = None,
                 cycles: int = 0, auth: str = "shared_drive", **backend: Any):
        """`auth`: how the software acts on Google, each as an office sets it up —
        "shared_drive" (a service account, Content manager of a Workspace shared drive, the
        folder in it), "user" (the coordinator's own sign-in, drive.file, files in the
        coordinator's My Drive) or "delegation" (a service account acting as the
        coordinator, a folder of the coordinator's). Google refuses a service account files
        anywhere else, and so does the fake."""
        # The injected clock and sleep of the backend do not shape what init and the first
        # cycles make (the fake has no quota); every other override might.
        shaping = tuple(sorted((k, repr(v)) for k, v in backend.items()
                               if k not in ("clock", "sleep")))
        key = (units_csv, fill, data_rows, period, successors_csv, cycles, auth, shaping)
        folder, built = shared_builds.built("google", key, lambda home: self._build(
            home, units_csv, fill, data_rows, period, successors_csv, cycles, backend, auth))
        shutil.copytree(folder, root, symlinks=True, dirs_exist_ok=True)
        self.fake = FakeGoogle().start()
        self.fake.restore(FakeState(built.store, _public_keys(built.key_info)))
        self.folder = built.folder
        self.auth = auth
        # The copy names this fake (config endpoint, the key's or the sign-in's token_uri)
        # and its own folder.
        for name in ("cchc-sync.toml", KEY_FILE, TOKEN_FILE):
            path = root / name
            if path.exists():
                path.write_text(path.read_text(encoding="utf-8").replace(built.url, self.fake.url)
                                .replace(str(built.root), str(root)), encoding="utf-8")
        self.key_info = built.key_info
        config_file = root / "cchc-sync.toml"
        self.backends: list[GoogleBackend] = []
        self.clock = Clock(built.now)
        config = load_config(config_file)
        self.ws = open_workspace(config, backend=self._factory(data_rows, backend)(config),
                                 clock=self.clock)

    def _factory(self, data_rows: int, backend: dict[str, Any]):
        def factory(config):
            made = GoogleBackend.from_config(config, data_rows=data_rows, **backend)
            self.backends.append(made)
            return made
        return factory

    def _build(self, root: Path, units_csv: str, fill: bool, data_rows: int, period: str,
               successors_csv: str | None, cycles: int, backend: dict[str, Any],
               auth: str) -> _BuiltGoogle:
        self.fake = FakeGoogle().start()
        self.backends = []
        google = self._acting_as(auth, root)
        self._init(root, units_csv, period, successors_csv, backend="google", google=google,
                   backend_factory=self._factory(data_rows, backend))
        if fill:
            self.fill_demo()
        for _ in range(cycles):
            self.clock.tick()
            sync_once(self.ws)
        self.ws.close()
        state = self.fake.snapshot()
        # The public keys are not picklable: the copy makes them again from the key file's
        # contents, the only key the fake was given.
        assert set(state.keys) == set(_public_keys(self.key_info)), state.keys
        built = _BuiltGoogle(root, state.store, self.fake.url, self.key_info, self.folder,
                             self.clock.now)
        self.fake.stop()
        assert not self.fake.errors, self.fake.errors[0]
        return built

    def _acting_as(self, auth: str, root: Path) -> GoogleSettings:
        """The fake set up for `auth` (see __init__) and the settings init gets."""
        common = {"endpoint": self.fake.url, "coordinators": (COORDINATOR,),
                  "reads_per_minute": FAST, "writes_per_minute": FAST}
        self.key_info = {}
        if auth == "user":
            self.folder = ""  # drive.file: the files go to the coordinator's My Drive
            return GoogleSettings(auth="user", token_file=sign_in(self.fake, root / TOKEN_FILE),
                                  **common)
        key = root / KEY_FILE
        self.key_info = make_service_account_key(key, self.fake.token_uri, DEFAULT_EMAIL)
        self.fake.register_key(self.key_info)  # JWT signatures are checked
        if auth == "delegation":
            self.fake.allow_delegation(DEFAULT_EMAIL)  # by the Workspace admin
            self.folder = self.fake.create_folder("Báo cáo CCHC", owner=SIGNED_IN)
            return GoogleSettings(credentials=key, subject=SIGNED_IN, folder=self.folder,
                                  **common)
        assert auth == "shared_drive", auth
        self.folder = self.fake.create_shared_drive_folder(DEFAULT_EMAIL)
        return GoogleSettings(credentials=key, folder=self.folder, **common)

    def fill_demo(self) -> None:
        fill_demo_google(self.ws, self.fake)

    @property
    def backend(self) -> GoogleBackend:
        return self.ws.backend  # type: ignore[return-value]

    def close(self) -> None:
        self.ws.close()
        self.fake.stop()
        assert not self.fake.errors, self.fake.errors[0]

    def sheet_id(self, unit: str, period: str | None = None) -> str:
        return self.ref(unit, period).ref

    def sheet_values(self, ref: SheetRef) -> dict[str, list[list[Any]]]:
        return dump_values(self.fake.spreadsheet(ref.ref))

    def _a1(self, unit: str, tab: str, row: int, title: str, period: str | None) -> str:
        header = self.tabs(unit, period)[tab][0]
        return f"{get_column_letter(header.index(title) + 1)}{row}"

    def cell_flag(self, unit: str, tab: str, row: int, title: str,
                  period: str | None = None) -> tuple[str | None, str]:
        dump = self.fake.spreadsheet(self.sheet_id(unit, period))
        sheet = next(s for s in dump["sheets"] if s["title"] == tab)
        c = sheet["cells"].get(self._a1(unit, tab, row, title, period), {})
        colour = (c.get("userEnteredFormat") or {}).get("backgroundColor")
        return c.get("note"), hex_colour(colour) if colour else ""

    def type_rows(self, unit: str, tables: Rows, *, start_row: int = 2,
                  period: str | None = None) -> None:
        sid = self.sheet_id(unit, period)
        for tab, rows in tables.items():
            for offset, row in enumerate(rows):
                for title, value in row.items():
                    a1 = self._a1(unit, tab, start_row + offset, title, period)
                    self.fake.edit_cells(sid, tab, a1, [[typed_in_sheets(value)]])

    def delete_tab(self, unit: str, tab: str) -> None:
        dump = self.fake.spreadsheet(self.sheet_id(unit))
        sheet_id = next(s["sheetId"] for s in dump["sheets"] if s["title"] == tab)
        self.backend.transport.batch_update(self.sheet_id(unit), {
            "requests": [{"deleteSheet": {"sheetId": sheet_id}}]})

    def add_note(self, unit: str, tab: str, row: int, column: int, text: str) -> None:
        dump = self.fake.spreadsheet(self.sheet_id(unit))
        sheet_id = next(s["sheetId"] for s in dump["sheets"] if s["title"] == tab)
        self.backend.transport.batch_update(self.sheet_id(unit), {"requests": [{"updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row - 1, "columnIndex": column - 1},
            "rows": [{"values": [{"note": text}]}], "fields": "note"}}]})

    def take_away(self, unit: str) -> None:
        self.fake.unshare(self.sheet_id(unit))

    def give_back(self, unit: str) -> None:
        self.fake.share(self.sheet_id(unit), DEFAULT_EMAIL if self.key_info else SIGNED_IN,
                        "writer")

    def locked(self, unit: str, period: str | None = None) -> bool:
        dump = self.fake.spreadsheet(self.sheet_id(unit, period))
        return any(p.get("description") == LOCK_DESCRIPTION
                   for s in dump["sheets"] for p in s.get("protectedRanges", []))


class _BuiltGoogle(NamedTuple):
    root: Path
    store: bytes
    """FakeState.store of the fake's snapshot."""
    url: str
    key_info: dict[str, Any]
    folder: str
    now: dt.datetime


class MemoryDistrict(District):
    kind = "memory"

    def __init__(self, root: Path, units_csv: str = UNITS_CSV, fill: bool = True,
                 period: str = PERIOD, successors_csv: str | None = None):
        self.memory = MemoryBackend()
        self._init(root, units_csv, period, successors_csv,
                   backend_factory=lambda config: self.memory)
        self.memory.clock = self.clock
        if fill:
            self.fill_demo()

    def fill_demo(self) -> None:
        for code, by_tab in demo_tables(self.ws).items():
            self.memory.sheet(self.ref(code)).type_rows(by_tab)

    def sheet_values(self, ref: SheetRef) -> dict[str, list[list[Any]]]:
        return self.memory.sheet(ref).values()

    def cell_flag(self, unit: str, tab: str, row: int, title: str,
                  period: str | None = None) -> tuple[str | None, str]:
        return self.memory.sheet(self.ref(unit, period)).flag(tab, row, title)

    def type_rows(self, unit: str, tables: Rows, *, start_row: int = 2,
                  period: str | None = None) -> None:
        self.memory.sheet(self.ref(unit, period)).type_rows(tables, start_row=start_row)

    def type_despite_lock(self, unit: str, tab: str, row: int, title: str, value: Any) -> None:
        sheet = self.memory.sheet(self.ref(unit))
        sheet.read_only = False
        sheet.type_cell(tab, row, title, value)

    def delete_tab(self, unit: str, tab: str) -> None:
        self.memory.sheet(self.ref(unit)).delete_tab(tab)

    def add_note(self, unit: str, tab: str, row: int, column: int, text: str) -> None:
        self.memory.sheet(self.ref(unit)).add_note(tab, row, column, text)

    def take_away(self, unit: str) -> None:
        self.memory.make_unreachable(self.ref(unit))

    def give_back(self, unit: str) -> None:
        self.memory.make_reachable(self.ref(unit))

    def locked(self, unit: str, period: str | None = None) -> bool:
        return self.memory.sheet(self.ref(unit, period)).read_only


def sign_in(fake: FakeGoogle, token_file: Path, user: str = SIGNED_IN) -> Path:
    """`cchc-sync google login` as the coordinator, in-process: the consent page answers
    with a code (the fake's person approves at once), the token endpoint exchanges it for a
    refresh token, and the sign-in is kept as the login keeps it (0600). Real HTTP to the
    fake, no browser, no subprocess."""
    client_id, secret, redirect = "123-cchc.apps.googleusercontent.com", "GOCSPX-fake", \
        "http://127.0.0.1:1/"
    fake.oauth_user = user
    fake.register_oauth_client(client_id, secret)
    consent = requests.get(f"{fake.url}/o/oauth2/auth", allow_redirects=False, timeout=30,
                           params={"client_id": client_id, "redirect_uri": redirect,
                                   "response_type": "code", "scope": " ".join(USER_SCOPES)})
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    answer = requests.post(fake.token_uri, timeout=30, data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "client_secret": secret, "redirect_uri": redirect})
    answer.raise_for_status()
    save_user_credentials(user_credentials.Credentials(
        token=None, refresh_token=answer.json()["refresh_token"], token_uri=fake.token_uri,
        client_id=client_id, client_secret=secret, scopes=list(USER_SCOPES)), token_file)
    return token_file


@functools.cache
def _public_key(email: str, private_key: str) -> Any:
    return load_public_key({"client_email": email, "private_key": private_key})[1]


def _public_keys(key_info: Mapping[str, Any]) -> dict[str, Any]:
    """FakeState.keys of a fake given the service account `key_info` (none: {})."""
    if not key_info:
        return {}
    email = key_info["client_email"]
    return {email: _public_key(email, key_info["private_key"])}


def make(kind: str, root: Path, **kwargs: Any) -> Any:
    harness = {"local": LocalDistrict, "google": GoogleDistrict, "memory": MemoryDistrict}
    return harness[kind](root, **kwargs)


def typed_in_sheets(value: Any) -> Any:
    """What a clerk types into Sheets for a stored value: dates day first, as text."""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


def dump_values(dump: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """Tab title -> rows of effective values from the fake's dump (None for blank)."""
    out = {}
    for sheet in dump["sheets"]:
        rows: list[list[Any]] = []
        for a1, c in sheet["cells"].items():
            col, row = openpyxl.utils.cell.coordinate_from_string(a1)
            value = c.get("effectiveValue")
            if not value:
                continue
            (_, v), = value.items()
            col_index = openpyxl.utils.column_index_from_string(col)
            while len(rows) < row:
                rows.append([])
            line = rows[row - 1]
            while len(line) < col_index:
                line.append(None)
            line[col_index - 1] = v
        out[sheet["title"]] = rows
    return out


def hex_colour(colour: dict[str, float]) -> str:
    return "".join(f"{round(colour.get(k, 0) * 255):02X}" for k in ("red", "green", "blue"))


# -- what the contract compares ------------------------------------------------------------


def typed_values(district: District, unit: str) -> dict[tuple[str, int, int], Any]:
    """Every value in a clerk-owned cell of every table tab (not the status column, not
    the software's tabs), numbers as floats (xlsx and Sheets store numbers differently)."""
    out = {}
    for tab, rows in district.tabs(unit).items():
        if tab in SOFTWARE_TABS or not rows:
            continue
        header = rows[0]
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                owned = r > 1 and c <= len(header) and header[c - 1] == STATUS_TITLE
                if value is None or value == "" or owned:
                    continue
                out[(tab, r, c)] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), 9)
    if isinstance(value, dt.datetime):  # xlsx dates; Sheets keeps the serial
        return round((value - dt.datetime(1899, 12, 30)).total_seconds() / 86400, 9)
    return value


def summary(district: District) -> dict[str, dict[str, Any]]:
    """The master's "Tổng hợp": figure id -> {column title: value}, numbers as floats."""
    rows = district.master()["Tổng hợp"]
    header = rows[0]
    out = {}
    for row in rows[1:]:
        row = list(row) + [None] * (len(header) - len(row))
        # The figure id is the last (hidden) column; the label comes first.
        key = row[header.index("Mã chỉ tiêu")]
        out[key] = {h: (round(float(v), 6) if isinstance(v, int | float) else v or None)
                    for h, v in zip(header, row, strict=False)}
    return out


def finding_keys(ws: Workspace, period: str = PERIOD) -> set[tuple]:
    return {(f.unit, f.table, f.column, f.rule) for f in ws.archive.open_findings(period)}


def status_cells(district: District, unit: str, tab: str) -> list[Any]:
    rows = district.tabs(unit)[tab]
    col = rows[0].index(STATUS_TITLE)
    return [row[col] if col < len(row) else None for row in rows[1:]]
