"""Drive endpoints gspread uses besides files/permissions: export (CSV/TSV), comments, and
the v2 media upload behind ``Client.import_csv``.

Faithful: export of a spreadsheet as ``text/csv`` or ``text/tab-separated-values`` gives the
first sheet's formatted values; other formats answer 400 as an unsupported conversion;
comments.list/create insist on a ``fields`` parameter as Drive does; importing CSV replaces
every sheet with one sheet named like the file.
Simplified: exports other than CSV/TSV (xlsx, pdf, ods, zip) are not produced; the v2 file
resource returned by the upload carries the keys the real one has, with plausible values.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cchc_sync.testing.fake_google import fieldmask
from cchc_sync.testing.fake_google.ctx import Ctx, Response, ok
from cchc_sync.testing.fake_google.drive import find, user
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import SHEETS_MIME, Sheet, rfc3339
from cchc_sync.testing.fake_google.sheets import set_cell

EXPORTS = {"text/csv": ",", "text/tab-separated-values": "\t"}


def export(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id)
    mime = ctx.arg("mimeType") or ""
    if file.spreadsheet is None:
        raise ApiError(403, "Export only supports Docs Editors files.",
                       reason="fileNotExportable")
    if mime not in EXPORTS:
        raise ApiError(400, "The requested conversion is not supported.", reason="badRequest",
                       location="convertTo")
    sheet = file.spreadsheet.sheets[0]
    rows = sheet.value_rows(0, 0, sheet.rows, sheet.cols)
    width = max((len(r) for r in rows), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=EXPORTS[mime], lineterminator="\n")
    for row in rows:
        writer.writerow(row + [""] * (width - len(row)))
    text = buf.getvalue().rstrip("\n")
    return 200, text.encode("utf-8"), {"Content-Type": f"{mime}; charset=utf-8"}


def _need_fields(ctx: Ctx) -> str:
    fields = ctx.arg("fields")
    if not fields:
        raise ApiError(400, "The 'fields' parameter is required for this method.",
                       reason="required", location="fields")
    return fields


def list_comments(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id)
    fields = _need_fields(ctx)
    include_deleted = ctx.flag("includeDeleted")
    comments = [c for c in file.comments if include_deleted or not c.get("deleted")]
    body = {"kind": "drive#commentList", "comments": comments}
    return ok(fieldmask.apply(body, fieldmask.parse(fields)))


def create_comment(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id)
    fields = _need_fields(ctx)
    body = ctx.json()
    if not body.get("content"):
        raise ApiError(400, "The comment content is required.", reason="required",
                       location="content")
    now = rfc3339(ctx.store.now_ms())
    comment: dict[str, Any] = {
        "kind": "drive#comment",
        "id": f"AAAA{ctx.store.new_int_id()}",
        "createdTime": now,
        "modifiedTime": now,
        "author": {k: v for k, v in user(ctx, ctx.caller).items() if k != "emailAddress"},
        "htmlContent": body["content"],
        "content": body["content"],
        "deleted": False,
        "resolved": False,
        "replies": [],
    }
    if body.get("anchor"):
        comment["anchor"] = body["anchor"]
    file.comments.append(comment)
    file.version += 1
    return ok(fieldmask.apply(comment, fieldmask.parse(fields)))


def import_v2(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id, write=True)
    if file.spreadsheet is None:
        raise ApiError(400, "Only spreadsheets can be converted here.", reason="badRequest")
    text = ctx.body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    ss = file.spreadsheet
    sheet = Sheet(props={"sheetId": 0, "title": file.name, "index": 0, "sheetType": "GRID",
                         "gridProperties": {"rowCount": max(1000, len(rows)),
                                            "columnCount": max(26, max(map(len, rows),
                                                                       default=0))}})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            set_cell(sheet, r, c, value, "USER_ENTERED", ss.props.get("locale"))
    ss.sheets = [sheet]
    ss.named_ranges = []
    ss.props["timeZone"] = "America/Los_Angeles"  # what the Drive v2 conversion sets
    ss.recalc()
    ctx.store.bump(file, ctx.caller)
    return ok(_v2_resource(ctx, file))


def _v2_resource(ctx: Ctx, file) -> dict[str, Any]:
    base = f"https://www.googleapis.com/drive/v2/files/{file.id}"
    docs = f"https://docs.google.com/spreadsheets/export?id={file.id}&exportFormat="
    owner = {
        "displayName": file.owner, "kind": "drive#user",
        "isAuthenticatedUser": file.owner == ctx.caller,
        "permissionId": ctx.store.permission_id(file.owner), "emailAddress": file.owner,
        "picture": {"url": "https://lh3.googleusercontent.com/a/default-user=s64"},
    }
    modifier = dict(owner, displayName=file.last_modifier, emailAddress=file.last_modifier,
                    isAuthenticatedUser=file.last_modifier == ctx.caller,
                    permissionId=ctx.store.permission_id(file.last_modifier))
    when = rfc3339(file.modified_ms)
    return {
        "kind": "drive#file",
        "userPermission": {"id": "me", "type": "user", "role": "owner",
                           "kind": "drive#permission", "selfLink": f"{base}/permissions/me",
                           "etag": f"\"{file.version}\"", "pendingOwner": False},
        "selfLink": base,
        "ownerNames": [file.owner],
        "lastModifyingUserName": file.last_modifier,
        "editable": True,
        "writersCanShare": True,
        "mimeType": SHEETS_MIME,
        "exportLinks": {
            "application/x-vnd.oasis.opendocument.spreadsheet": docs + "ods",
            "text/tab-separated-values": docs + "tsv",
            "application/pdf": docs + "pdf",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": docs + "xlsx",
            "text/csv": docs + "csv",
            "application/zip": docs + "zip",
            "application/vnd.oasis.opendocument.spreadsheet": docs + "ods",
        },
        "parents": [{"selfLink": f"{base}/parents/{p}", "id": p, "isRoot": True,
                     "kind": "drive#parentReference",
                     "parentLink": f"https://www.googleapis.com/drive/v2/files/{p}"}
                    for p in file.parents],
        "thumbnailLink": f"https://docs.google.com/feeds/vt?gd=true&id={file.id}&v=1&sz=s220",
        "appDataContents": False,
        "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/{SHEETS_MIME}",
        "shared": len(file.permissions) > 1,
        "lastModifyingUser": modifier,
        "owners": [owner],
        "copyable": True,
        "etag": f"\"{file.version}\"",
        "alternateLink": f"https://docs.google.com/spreadsheets/d/{file.id}/edit?usp=drivesdk",
        "embedLink": f"https://docs.google.com/spreadsheets/d/{file.id}/htmlembed",
        "fileSize": "1024",
        "copyRequiresWriterPermission": False,
        "spaces": ["drive"],
        "id": file.id,
        "title": file.name,
        "labels": {"viewed": True, "restricted": False, "starred": file.starred,
                   "hidden": False, "trashed": file.trashed},
        "explicitlyTrashed": file.trashed,
        "createdDate": rfc3339(file.created_ms),
        "modifiedDate": when,
        "modifiedByMeDate": when,
        "lastViewedByMeDate": when,
        "markedViewedByMeDate": "1970-01-01T00:00:00.000Z",
        "quotaBytesUsed": "1024",
        "version": str(file.version),
        "capabilities": {"canEdit": True, "canCopy": True},
    }
