"""The fake Google APIs in a process of their own, with a seeding channel for the benchmarks.

Run by the bench, not by hand: ``python -m bench.fake_server [--latency-ms N]``. Prints one
JSON line ``{"url": ...}`` on start, then answers one JSON line per command read on stdin:

- ``{"op": "snapshot", "source": ID}`` — a pristine copy of spreadsheet ``source`` (a unit
  sheet the real backend just made, still empty), kept outside every folder so that Drive
  listings of the folder never show it. Answers ``{"id": ...}``.
- ``{"op": "seed", "unit": {...}, "seed": S, "file_id": ID}`` — type the unit's synthetic
  content (`bench.synth`) into its sheet as a clerk would: the cell writes of
  ``FakeGoogle.edit_cells`` (USER_ENTERED), one edit per tab, each bumping the Drive version.
  ``{"op": "seed", "unit": {...}, "seed": S, "source": SNAPSHOT, "folder": F,
  "name": TITLE}`` — first a copy of the snapshot as a new file in the folder, owned by the
  service account and shared with the unit's e-mail as writer, its "_cchc" unit code and
  name set (as the owner: the range is protected); then the content as above.
  Answers ``{"id": ...}``.
- ``{"op": "shared_drive_folder", "member": EMAIL}`` — a shared drive whose Content
  manager is that service account, and a folder in it (`FakeGoogle.create_shared_drive_folder`).
  Answers ``{"id": FOLDER}``.
- ``{"op": "register_key", "info": {...}}`` — verify the JWT signatures of this service
  account from now on (as the tests do).
- ``{"op": "shift_time", "ms": N}`` — move the fake's clock by N ms (`Store.shift_clock`):
  the bench's clock (`bench.workspaces.Clock`) is in its period's window, set back once
  before any file is made, and moves ten minutes on a cycle.
- ``{"op": "rss"}`` — ``{"peak_rss_mb": ...}`` of this process.
- ``{"op": "quit"}``.

Everything else goes over HTTP, as in tests: the Google endpoints the backend uses, and the
fake's control endpoints (stats, faults, a person's edits), which are never counted.

Each unit's sheet is a copy of the snapshot (`Spreadsheet.clone`, the copy every edit
makes): it shares every cell the clerk's typing does not change, as copies of a sheet do in
the fake (copy on write), so the fake holds each template's blank formatted cells once.

Why a process of its own: the daemon's CPU time and peak RSS are measured without the fake
in them (Google is someone else's computer), and the two share the two cores as a daemon
and Google would.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from typing import Any

import bench.synth as synth
from cchc_sync.app.demo_google import typed
from cchc_sync.domain.templates import TemplateSet, load_template_set
from cchc_sync.testing.fake_google import FakeGoogle, shared_drives
from cchc_sync.testing.fake_google.model import SHEETS_MIME, DriveFile, Sheet, Spreadsheet
from cchc_sync.testing.fake_google.sheets import set_cell


def type_unit(fake: FakeGoogle, templates: TemplateSet, file_id: str,
              unit: synth.SynthUnit, seed: int, revision: int = 0) -> None:
    """Type a unit's rows into its sheet as its clerk: one edit per tab, columns in template
    order, each value parsed as USER_ENTERED in the spreadsheet's locale and the cell's
    format (`FakeGoogle.edit_cells` stores cells the same way; it also copies the whole
    spreadsheet per edit to be atomic, which seeding 5,000 sheets does not need), each edit
    bumping the file's version and modifiedTime."""
    rows = synth.unit_rows(unit, seed, revision)
    store = fake.store
    with store.lock:
        file = store.files[file_id]
        ss = _spreadsheet(file)
        locale = ss.props.get("locale")  # vi_VN: "27.554" is 27554, "07/6/2022" 7 June
        for key, table_rows in rows.items():
            spec = templates.table(key)
            sheet = _sheet(ss, spec.tab)
            keys = [c.key for c in spec.columns]
            for r, row in enumerate(table_rows, start=1):
                for c, k in enumerate(keys):
                    value = typed(row.get(k))
                    if value is not None:
                        set_cell(sheet, r, c, value, "USER_ENTERED", locale)
            store.bump(file, unit.email)


def copy_spreadsheet(src: Spreadsheet, new_id: str) -> Spreadsheet:
    """A copy of `src` under another id, sharing its cells until they change."""
    copied = src.clone()
    copied.id = new_id
    return copied


def snapshot(fake: FakeGoogle, source: str) -> str:
    store = fake.store
    with store.lock:
        src = store.files[source]
        file = store.create_file(src.name, SHEETS_MIME, _maker(src), app_created=True)
        file.spreadsheet = copy_spreadsheet(_spreadsheet(src), file.id)
        return file.id


def _spreadsheet(file: DriveFile) -> Spreadsheet:
    if file.spreadsheet is None:
        raise ValueError(f"{file.id} is not a spreadsheet")
    return file.spreadsheet


def _sheet(ss: Spreadsheet, title: str) -> Sheet:
    sheet = ss.sheet_by_title(title)
    if sheet is None:
        raise ValueError(f"{ss.id} has no tab {title!r}")
    return sheet


def _maker(file: DriveFile) -> str:
    """Who made a file: its owner in a My Drive, its creator in a shared drive (which owns
    its files)."""
    return file.owner or file.creator


def seed(fake: FakeGoogle, templates: TemplateSet, command: dict[str, Any]) -> str:
    unit = synth.SynthUnit(**command["unit"])
    file_id = command.get("file_id")
    store = fake.store
    if not file_id:
        with store.lock:
            src = store.files[command["source"]]
            maker = _maker(src)
            file = store.create_file(command["name"], SHEETS_MIME, maker,
                                     [command["folder"]], app_created=True)
            drive_id = shared_drives.drive_of_parents(store, [command["folder"]])
            if drive_id:  # the drive's file, as the backend's files.create there makes it
                shared_drives.place_in_drive(store, file, drive_id, maker)
            file.permissions.append(store.make_permission("user", "writer", unit.email))
            file.spreadsheet = copied = copy_spreadsheet(_spreadsheet(src), file.id)
            copied.props["title"] = command["name"]
            # The software's own metadata: unit code and name (B1:B2 of "_cchc"), written
            # as the backend writes it (stored strings), by the service account.
            meta = _sheet(copied, "_cchc")
            set_cell(meta, 0, 1, unit.code, "RAW")
            set_cell(meta, 1, 1, unit.name, "RAW")
            store.bump(file, maker)
            file_id = file.id
    type_unit(fake, templates, file_id, unit, command["seed"])
    return file_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    templates = load_template_set(None)
    fake = FakeGoogle(seed=args.seed).start()
    if args.latency_ms:
        fake.set_faults(latency_ms=args.latency_ms)
    print(json.dumps({"url": fake.url}), flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            op = command.get("op")
            if op == "quit":
                break
            try:
                if op == "seed":
                    out: dict[str, Any] = {"id": seed(fake, templates, command)}
                elif op == "snapshot":
                    out = {"id": snapshot(fake, command["source"])}
                elif op == "shared_drive_folder":
                    out = {"id": fake.create_shared_drive_folder(command["member"])}
                elif op == "register_key":
                    fake.register_key(command["info"])
                    out = {}
                elif op == "shift_time":
                    fake.store.shift_clock(int(command["ms"]))
                    out = {}
                elif op == "rss":
                    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                           / 1024}
                else:
                    out = {"error": f"unknown op {op!r}"}
            except Exception as exc:  # noqa: BLE001 - reported to the bench, which stops
                out = {"error": f"{type(exc).__name__}: {exc}"}
            if fake.errors:
                out["fake_errors"] = fake.errors[:1]
            print(json.dumps(out), flush=True)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Skip freeing gigabytes of objects one by one at exit (minutes at 5,000 units).
    os._exit(code)
