"""Which Google API method a request is: its path and HTTP method to (kind, family,
handler, arguments). The kind ("POST spreadsheets.batchUpdate") is what the fake's
statistics count and tests assert; the family (sheets, drive, token, oauth) chooses the
error body's shape and the service a token must be good for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from cchc_sync.testing.fake_google import batch, drive, metadata, shared_drives, sheets, values


def route(method: str, raw_path: str) -> tuple[str, str, Any, list[str]] | None:
    """-> (kind, family, handler, args) for a Google API path, or None."""
    raw = raw_path.split("/")[1:]
    seg = [unquote(s) for s in raw]
    n = len(seg)
    if raw_path in ("/token", "/oauth2/v4/token") and method == "POST":
        return "POST token", "token", None, []
    if raw_path in ("/o/oauth2/auth", "/o/oauth2/v2/auth") and method == "GET":
        return "GET oauth.authorize", "oauth", None, []
    if raw_path in ("/revoke", "/o/oauth2/revoke") and method == "POST":
        return "POST oauth.revoke", "oauth", None, []
    if n >= 2 and seg[0] == "v4" and seg[1] == "spreadsheets":
        if n == 2 and method == "POST":
            return "POST spreadsheets.create", "sheets", sheets.create, []
        if n == 3:
            sid, _, verb = seg[2].partition(":")
            if verb == "batchUpdate" and method == "POST":
                return "POST spreadsheets.batchUpdate", "sheets", batch.batch_update, [sid]
            if not verb and method == "GET":
                return "GET spreadsheets.get", "sheets", sheets.get, [sid]
            return None
        sid = seg[2]
        if n == 4 and seg[3].startswith("values:"):
            verb = seg[3].split(":", 1)[1]
            by_verb = {("GET", "batchGet"): ("values.batchGet", values.batch_get),
                       ("POST", "batchUpdate"): ("values.batchUpdate", values.batch_update),
                       ("POST", "batchClear"): ("values.batchClear", values.batch_clear)}
            hit = by_verb.get((method, verb))
            return (f"{method} {hit[0]}", "sheets", hit[1], [sid]) if hit else None
        if n == 5 and seg[3] == "values":
            last = raw[4]
            for suffix, name, fn in ((":clear", "values.clear", values.clear),
                                     (":append", "values.append", values.append)):
                if last.endswith(suffix) and method == "POST":
                    return f"POST {name}", "sheets", fn, [sid, unquote(last[: -len(suffix)])]
            if method == "GET":
                return "GET values.get", "sheets", values.get, [sid, seg[4]]
            if method == "PUT":
                return "PUT values.update", "sheets", values.update, [sid, seg[4]]
            return None
        if n == 5 and seg[3] == "sheets" and seg[4].endswith(":copyTo") and method == "POST":
            return "POST sheets.copyTo", "sheets", sheets.copy_to, [sid, seg[4][:-7]]
        if n == 4 and seg[3] == "developerMetadata:search" and method == "POST":
            return "POST developerMetadata.search", "sheets", metadata.search, [sid]
        if n == 5 and seg[3] == "developerMetadata" and method == "GET":
            return "GET developerMetadata.get", "sheets", metadata.get, [sid, seg[4]]
        return None
    if seg[:3] == ["drive", "v3", "drives"]:
        if n == 3 and method == "GET":
            return "GET drive.drives.list", "drive", shared_drives.list_drives, []
        if n == 3 and method == "POST":
            return "POST drive.drives.create", "drive", shared_drives.create_drive, []
        if n == 4 and method == "GET":
            return "GET drive.drives.get", "drive", shared_drives.get_drive, [seg[3]]
        return None
    if seg[:3] == ["drive", "v3", "files"]:
        table: dict[str, tuple[str, Callable[..., Any]]]
        if n == 3:
            table = {"GET": ("drive.files.list", drive.list_files),
                     "POST": ("drive.files.create", drive.create_file)}
            hit = table.get(method)
            return (f"{method} {hit[0]}", "drive", hit[1], []) if hit else None
        fid = seg[3]
        if n == 4:
            table = {"GET": ("drive.files.get", drive.get_file),
                     "PATCH": ("drive.files.update", drive.update_file),
                     "DELETE": ("drive.files.delete", drive.delete_file)}
            hit = table.get(method)
            return (f"{method} {hit[0]}", "drive", hit[1], [fid]) if hit else None
        sub: dict[tuple[str, str], tuple[str, Callable[..., Any]]] = {
            ("POST", "copy"): ("drive.files.copy", drive.copy_file),
            ("GET", "permissions"): ("drive.permissions.list", drive.list_permissions),
            ("POST", "permissions"): ("drive.permissions.create", drive.create_permission),
        }
        if n == 5 and (method, seg[4]) in sub:
            name, fn = sub[(method, seg[4])]
            return f"{method} {name}", "drive", fn, [fid]
        if n == 6 and seg[4] == "permissions":
            table = {"GET": ("drive.permissions.get", drive.get_permission),
                     "DELETE": ("drive.permissions.delete", drive.delete_permission)}
            hit = table.get(method)
            return (f"{method} {hit[0]}", "drive", hit[1], [fid, seg[5]]) if hit else None
        return None
    return None
