"""The Google backend: unit spreadsheets and the master in Google Sheets, on gspread's
authorised HTTP session (service account), within Google's per-user quota.

Requests per operation (Sheets + Drive; OAuth token requests aside):

- create_unit_sheet: Drive files.create (in the folder) + 1 batchUpdate (tabs, headers,
  notes, formats, validation, protection, metadata) + 1 permission per unit e-mail;
- create_master: files.create + 1 batchUpdate + 1 permission per coordinator;
- scan: 1 Drive files.list for every sheet at once (a page per 1,000 files); token = Drive
  `version`, which goes up with every edit, whoever makes it;
- read_unit: 1 values.batchGet of every template tab and "_cchc" (stored values; dates,
  times and durations as the strings they show, read back as dates in count, percent and
  date columns); when a tab is missing or renamed, it is refused and 1 spreadsheets.get of
  every tab's grid data follows;
- write_flags: 1 batchUpdate (+ 1 files.list per cycle to check no one edited since the
  read, shared by every flag write of the cycle);
- update_master: 1 atomic batchUpdate of what changed since the last write (its rows, or
  every tab when the layout changed; google_master_update).

Tab ids are fixed at creation (cells.fixed_sheet_ids), so writes need no metadata;
a 400 caused by a tab a person deleted or re-made costs one metadata read and one retry.
The backend is composed of parts, each given what it needs: the transport (quota and
retries, transport.py), the Drive folder (listing, files, sharing: drive.py), the reader
(reader.py), the sheet maker (create.py), the flag writer (flag_write.py) and the master
writer (master_write.py).

See docs/google-backend.md for the budget, retries, limiter, scopes and known limits.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import gspread

from cchc_sync.domain.config import Config, ConfigError
from cchc_sync.domain.records import Period, Unit, UnitRead
from cchc_sync.domain.templates import TemplateSet, load_template_set
from cchc_sync.sources.base import (
    FlagPlan,
    MasterBook,
    Prefill,
    ReadBasis,
    ScanEntry,
    SheetRef,
)
from cchc_sync.sources.google.cells import SHEET_URL
from cchc_sync.sources.google.client import (
    DEFAULT_SCOPES,
    READONLY_DRIVE_SCOPES,
    build_gspread_client,
)
from cchc_sync.sources.google.create import SheetMaker
from cchc_sync.sources.google.drive import FULL_LISTING_EVERY, DriveFolder
from cchc_sync.sources.google.flag_write import FlagWriter
from cchc_sync.sources.google.master import MASTER_REQUEST_BYTES
from cchc_sync.sources.google.master_write import MasterWriter
from cchc_sync.sources.google.reader import UnitReader
from cchc_sync.sources.google.signin import build_credentials
from cchc_sync.sources.google.transport import GoogleTransport, RetryPolicy
from cchc_sync.sources.google.unit_sheet import DEFAULT_DATA_ROWS, UnitSheets


class GoogleBackend:
    """Unit sheets and the master as Google spreadsheets in one Drive folder: the Backend
    interface (sources/base.py) over the parts below, which share one transport."""

    kind = "google"

    def __init__(
        self,
        client: gspread.Client,
        *,
        folder_id: str = "",
        coordinators: tuple[str, ...] | list[str] = (),
        reads_per_minute: int = 60,
        writes_per_minute: int = 60,
        templates: TemplateSet | None = None,
        service_account: str | None = None,
        notify: bool = True,
        data_rows: int = DEFAULT_DATA_ROWS,
        master_request_bytes: int = MASTER_REQUEST_BYTES,
        sheet_url: str = SHEET_URL,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        full_listing_every: float = FULL_LISTING_EVERY,
        own_writes_provable: bool = False,
    ) -> None:
        """`client`: a gspread client whose session is authorised (tests give one whose HTTP
        goes to the fake); its credentials, session and timeout become the transport's.
        `templates`: the template set, when known, lets create_master make every master tab
        at once. `notify`: Drive e-mails the people a sheet is shared with (Google requires
        it for addresses without a Google account). `data_rows`: rows of a multi-row table
        that get formats and validation. `sheet_url`: how a spreadsheet id becomes the URL
        people open ("{id}" is replaced). `retry`, `clock`, `sleep`, `rng`: the retry policy
        and what it waits with (tests inject fakes). `full_listing_every`: seconds between
        full Drive listings of a folder that takes more than one page (drive.py).
        `master_request_bytes`: JSON bytes one master batchUpdate may take; a larger master
        is written in parts (master.master_batches). `own_writes_provable`: no person edits
        as the account the software acts as (flag_write.own_token)."""
        self.transport = GoogleTransport(
            client.http_client, reads_per_minute=reads_per_minute,
            writes_per_minute=writes_per_minute, retry=retry, clock=clock, sleep=sleep,
            rng=rng,
        )
        auth = getattr(client.http_client, "auth", None)
        sheets = UnitSheets(templates=templates, data_rows=data_rows)
        self.drive = DriveFolder(self.transport, folder_id=folder_id, notify=notify,
                                 clock=clock, full_listing_every=full_listing_every)
        self.reader = UnitReader(self.transport)
        self.maker = SheetMaker(
            self.transport, self.drive, sheets, coordinators=tuple(coordinators),
            service_account=service_account or getattr(auth, "service_account_email", None),
            sheet_url=sheet_url)
        self.flags = FlagWriter(self.transport, self.drive, sheets,
                                own_writes_provable=own_writes_provable)
        self.master = MasterWriter(self.transport, request_bytes=master_request_bytes)

    @classmethod
    def from_config(cls, config: Config, **overrides: Any) -> GoogleBackend:
        """The backend of a workspace's [google] settings (credentials, folder, endpoint,
        coordinators, quota). `overrides`: constructor arguments to change (tests, demo)."""
        g = config.google
        if g.auth == "service_account" and not g.credentials:
            raise ConfigError(f"{config.path}: [google] credentials (the key file) is missing")
        # A folder a person made and shared with the service account is invisible with
        # drive.file alone: drive.readonly lets Drive see it (and list what is inside). The
        # coordinator's own sign-in keeps drive.file: the folder is one the app made.
        scopes = READONLY_DRIVE_SCOPES if g.folder and g.auth != "user" else DEFAULT_SCOPES
        client = build_gspread_client(
            None, g.endpoint or None, scopes=scopes, credentials=build_credentials(g, scopes)
        )
        endpoint = g.endpoint.rstrip("/")
        settings: dict[str, Any] = {
            "folder_id": g.folder,
            "coordinators": g.coordinators,
            "reads_per_minute": g.reads_per_minute,
            "writes_per_minute": g.writes_per_minute,
            "templates": load_template_set(config.templates_dir),
            # An emulator sends no mail; Google needs the e-mail for addresses without a
            # Google account.
            "notify": not endpoint,
            "sheet_url": f"{endpoint}/_fake/spreadsheets/{{id}}" if endpoint else SHEET_URL,
        }
        # Our own account edits nothing by hand only when it is a service account acting as
        # itself: the coordinator's sign-in or delegation acts as a person who may type.
        settings["own_writes_provable"] = g.auth == "service_account" and not g.subject
        settings.update(overrides)
        return cls(client, **settings)

    # -- the Backend interface, each call given to the part that does it --------------------

    def create_unit_sheet(self, unit: Unit, period: Period, templates: TemplateSet,
                          prefill: Prefill | None = None) -> SheetRef:
        return self.maker.create_unit_sheet(unit, period, templates, prefill)

    def create_master(self, title: str, period: Period) -> SheetRef:
        return self.maker.create_master(title, period)

    def is_read_only(self, sheet: SheetRef) -> bool:
        return self.maker.is_read_only(sheet)

    def set_read_only(self, sheet: SheetRef, read_only: bool) -> None:
        self.maker.set_read_only(sheet, read_only)

    def scan(self, sheets: Mapping[str, tuple[SheetRef, str | None]]) -> dict[str, ScanEntry]:
        return self.drive.scan(sheets)

    def read_unit(self, unit: str, sheet: SheetRef, templates: TemplateSet) -> UnitRead:
        return self.reader.read_unit(unit, sheet, templates)

    def write_flags(self, sheet: SheetRef, plan: FlagPlan, expect_token: str | None,
                    basis: ReadBasis | None = None) -> str | None:
        return self.flags.write_flags(sheet, plan, expect_token, basis)

    def write_master(self, sheet: SheetRef, book: MasterBook) -> bool:
        return self.master.write_master(sheet, book)

    def update_master(self, sheet: SheetRef, book: MasterBook, shape: str | None
                      ) -> str | None:
        return self.master.update_master(sheet, book, shape)
