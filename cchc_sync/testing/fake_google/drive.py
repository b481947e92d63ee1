"""Drive v3: files (list, get, create, copy, update, delete) and permissions.

Faithful: default fields (``kind,id,name,mimeType``; ``kind,incompleteSearch,files`` for a
list), ``fields`` masks such as ``nextPageToken,files(id,name,modifiedTime,version,
lastModifyingUser(me,emailAddress))``, ``pageSize`` 1..1000 (default 100) with opaque
``pageToken`` paging, ``q`` (see drive_query.py), ``supportsAllDrives``,
``includeItemsFromAllDrives``, ``corpora``, ``spaces``, ``orderBy`` accepted; ``version`` is
a string; ``modifiedTime`` RFC 3339 with milliseconds; a file the caller cannot see answers
404 "File not found: ID." with Drive's ``errors`` list; only the owner may delete; a folder
delete removes what it holds; ``parents`` cannot be set by update (addParents/removeParents);
sharing needs writer access; an ``owner`` permission needs ``transferOwnership=true``.
Visibility: the caller sees files it owns or that are shared with it (``unshared`` files,
see the control endpoints, are invisible); with only the ``drive.file`` scope it sees just
the files the app created. Listing without ``trashed = false`` includes trashed files, as
Drive does.
Shared drives (``driveId``, ``supportsAllDrives``, ``includeItemsFromAllDrives``,
``corpora``, members and their roles): shared_drives.py.
Simplified: no uploads of content (metadata-only create), files.list ordering defaults to
``modifiedTime desc``.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from cchc_sync.testing.fake_google import drive_query, fieldmask, shared_drives
from cchc_sync.testing.fake_google.ctx import Ctx, Response, ok
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import FOLDER_MIME, SHEETS_MIME, DriveFile, Store, rfc3339

DRIVE_SCOPES = {
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/drive.metadata",
    "https://www.googleapis.com/auth/drive.metadata.readonly",
}
DRIVE_WRITE_SCOPES = {"https://www.googleapis.com/auth/drive"}
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
WRITERS = ("owner", "organizer", "fileOrganizer", "writer")


def not_found(file_id: str) -> ApiError:
    return ApiError(404, f"File not found: {file_id}.", reason="notFound", location="fileId")


def insufficient(message: str = "The user does not have sufficient permissions for this "
                 "file.") -> ApiError:
    return ApiError(403, message, reason="insufficientFilePermissions")


def _scope_error() -> ApiError:
    return ApiError(403, "Request had insufficient authentication scopes.",
                    reason="insufficientPermissions")


def visible(ctx: Ctx, file: DriveFile) -> bool:
    if ctx.store.role_of(file, ctx.caller) is None:
        return False
    return bool(ctx.scopes & DRIVE_SCOPES) or (DRIVE_FILE in ctx.scopes and file.app_created)


def find(ctx: Ctx, file_id: str, write: bool = False) -> DriveFile:
    if not ctx.scopes & (DRIVE_SCOPES | {DRIVE_FILE}):
        raise _scope_error()
    file = ctx.store.files.get(file_id)
    if file is None or not visible(ctx, file):
        raise not_found(file_id)
    if file.drive_id and not shared_drives.supports(ctx):
        raise not_found(file_id)  # Google hides shared-drive items from apps that do not
        # declare supportsAllDrives=true
    if write:
        if not (ctx.scopes & DRIVE_WRITE_SCOPES or (DRIVE_FILE in ctx.scopes and
                                                    file.app_created)):
            raise _scope_error()
        if ctx.store.role_of(file, ctx.caller) not in WRITERS:
            raise insufficient()
    return file


def user(ctx: Ctx, email: str) -> dict[str, Any]:
    return {
        "kind": "drive#user",
        "displayName": email.split("@")[0],
        "me": email.lower() == ctx.caller.lower(),
        "permissionId": ctx.store.permission_id(email),
        "emailAddress": email,
    }


def file_json(ctx: Ctx, file: DriveFile) -> dict[str, Any]:
    role = ctx.store.role_of(file, ctx.caller)
    link = (f"https://docs.google.com/spreadsheets/d/{file.id}/edit?usp=drivesdk"
            if file.mime_type == SHEETS_MIME else
            f"https://drive.google.com/drive/folders/{file.id}" if file.mime_type == FOLDER_MIME
            else f"https://drive.google.com/file/d/{file.id}/view?usp=drivesdk")
    out: dict[str, Any] = {
        "kind": "drive#file",
        "id": file.id,
        "name": file.name,
        "mimeType": file.mime_type,
        "starred": file.starred,
        "trashed": file.trashed,
        "explicitlyTrashed": file.trashed,
        "parents": list(file.parents),
        "spaces": ["drive"],
        "version": str(file.version),
        "webViewLink": link,
        "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/{file.mime_type}",
        "viewersCanCopyContent": True,
        "copyRequiresWriterPermission": False,
        "writersCanShare": True,
        "createdTime": rfc3339(file.created_ms),
        "modifiedTime": rfc3339(file.modified_ms),
        "modifiedByMe": file.last_modifier.lower() == ctx.caller.lower(),
        "owners": [user(ctx, file.owner)],
        "lastModifyingUser": user(ctx, file.last_modifier or file.owner or file.creator),
        "shared": len(file.permissions) > 1,
        "ownedByMe": file.owner.lower() == ctx.caller.lower(),
        "capabilities": {
            "canEdit": role in WRITERS,
            "canCopy": True,
            "canShare": role in WRITERS,
            "canDelete": _may_remove(file, role),
            "canRename": role in WRITERS,
            "canTrash": _may_remove(file, role),
        },
        "permissionIds": [p["id"] for p in file.permissions],
    }
    if file.description:
        out["description"] = file.description
    if file.drive_id:  # owned by the drive: no owners, and Drive says which drive
        out["driveId"] = file.drive_id
        out["teamDriveId"] = file.drive_id
        del out["owners"]
        out["shared"] = True
    return out


def _may_remove(file: DriveFile, role: str | None) -> bool:
    if file.drive_id:
        return role in shared_drives.CAN_REMOVE_FILES and file.drive_id != file.id
    return role == "owner"


def _respond(ctx: Ctx, file: DriveFile, default: tuple[str, ...] = ("kind", "id", "name",
                                                                    "mimeType")) -> Response:
    body = file_json(ctx, file)
    fields = ctx.arg("fields")
    if not fields:
        return ok({k: body[k] for k in default})
    return ok(_mask(body, fields))


def _mask(body: dict[str, Any], fields: str) -> dict[str, Any]:
    try:
        return fieldmask.apply(body, fieldmask.parse(fields))
    except fieldmask.MaskError:
        raise ApiError(400, "Invalid field selection " + fields, reason="invalidParameter",
                       location="fields") from None


_ORDER_KEYS = {
    "modifiedTime": lambda f: f.modified_ms,
    "createdTime": lambda f: f.created_ms,
    "name": lambda f: f.name.lower(),
    "name_natural": lambda f: f.name.lower(),
    "folder": lambda f: f.mime_type != FOLDER_MIME,
    "starred": lambda f: not f.starred,
}


def list_files(ctx: Ctx) -> Response:
    if not ctx.scopes & (DRIVE_SCOPES | {DRIVE_FILE}):
        raise _scope_error()
    size_text = ctx.arg("pageSize") or "100"
    try:
        size = int(size_text)
    except ValueError:
        size = -1
    if not 1 <= size <= 1000:
        raise ApiError(400, f"Invalid value '{size_text}'. Values must be within the range: "
                            "[1, 1000]", reason="invalid", location="pageSize")
    shared_drives.check_list_args(ctx)
    query = ctx.arg("q")
    pred = drive_query.parse(query) if query else None
    listed = (ctx.store.as_listed(f) for f in ctx.store.files.values())
    files = [f for f in listed if visible(ctx, f) and shared_drives.listed(ctx, f)
             and (pred is None or pred(f, ctx.caller))]
    order = ctx.arg("orderBy") or "modifiedTime desc"
    for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
        name, _, direction = part.partition(" ")
        key = _ORDER_KEYS.get(name)
        if key is None:
            raise ApiError(400, "Invalid Value", reason="invalid", location="orderBy")
        files.sort(key=key, reverse=direction.strip().lower() == "desc")
    token = ctx.arg("pageToken")
    offset = 0
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise ApiError(400, "Invalid Value", reason="invalid",
                           location="pageToken") from None
    page = files[offset:offset + size]
    body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
    if offset + size < len(files):
        body["nextPageToken"] = base64.urlsafe_b64encode(
            f"o:{offset + size}".encode()).decode()
    fields = ctx.arg("fields")
    if not fields:
        body["files"] = [{k: file_json(ctx, f)[k] for k in ("kind", "mimeType", "id", "name")}
                         for f in page]
        return ok(body)
    body["files"] = [file_json(ctx, f) for f in page]
    return ok(_mask(body, fields))


def get_file(ctx: Ctx, file_id: str) -> Response:
    return _respond(ctx, find(ctx, file_id))


def _check_parents(ctx: Ctx, parents: list[str]) -> None:
    for parent in parents:
        if parent in ctx.store.root_ids.values():
            continue
        folder = ctx.store.files.get(parent)
        if folder is None or not visible(ctx, folder) or folder.mime_type != FOLDER_MIME or (
                folder.drive_id and not shared_drives.supports(ctx)):
            raise not_found(parent)
        if folder.drive_id and ctx.store.role_of(folder, ctx.caller) not in \
                shared_drives.CAN_ADD_FILES:
            raise insufficient()


def _place(ctx: Ctx, file: DriveFile, parents: list[str]) -> None:
    """A file created into a shared drive belongs to the drive, not to its creator."""
    drive_id = shared_drives.drive_of_parents(ctx.store, parents)
    if drive_id:
        shared_drives.place_in_drive(ctx.store, file, drive_id, ctx.caller)


def create_file(ctx: Ctx) -> Response:
    if not ctx.scopes & (DRIVE_WRITE_SCOPES | {DRIVE_FILE}):
        raise _scope_error()
    body = ctx.json()
    parents = body.get("parents") or []
    _check_parents(ctx, parents)
    mime = body.get("mimeType") or "application/octet-stream"
    name = body.get("name") or ("Untitled spreadsheet" if mime == SHEETS_MIME else "Untitled")
    file = ctx.store.create_file(name, mime, ctx.caller, parents or None)
    _place(ctx, file, parents)
    if body.get("description"):
        file.description = body["description"]
    return _respond(ctx, file)


def copy_file(ctx: Ctx, file_id: str) -> Response:
    source = find(ctx, file_id)
    if not ctx.scopes & (DRIVE_WRITE_SCOPES | {DRIVE_FILE}):
        raise _scope_error()
    body = ctx.json()
    parents = body.get("parents") or [p for p in source.parents
                                      if p not in ctx.store.root_ids.values()]
    _check_parents(ctx, parents)
    name = body.get("name") or f"Copy of {source.name}"
    file = ctx.store.create_file(name, source.mime_type, ctx.caller, parents or None)
    _place(ctx, file, parents)
    if source.spreadsheet is not None:
        file.spreadsheet = copy.deepcopy(source.spreadsheet)
        file.spreadsheet.id = file.id
        file.spreadsheet.props["title"] = name
    return _respond(ctx, file)


def update_file(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id, write=True)
    body = ctx.json()
    if "parents" in body:
        raise ApiError(403, "The parents field is not directly writable in update requests. "
                            "Use the addParents and removeParents parameters instead.",
                       reason="fieldNotWritable")
    add = [p for p in (ctx.arg("addParents") or "").split(",") if p]
    remove = [p for p in (ctx.arg("removeParents") or "").split(",") if p]
    _check_parents(ctx, add)
    content_change = False
    if body.get("name") and body["name"] != file.name:
        file.name = body["name"]
        if file.spreadsheet is not None:
            file.spreadsheet.props["title"] = file.name
        content_change = True
    if "description" in body:
        file.description = body["description"]
        content_change = True
    if "starred" in body:
        file.starred = bool(body["starred"])
    if "trashed" in body:
        if not _may_remove(file, ctx.store.role_of(file, ctx.caller)):
            raise insufficient()
        file.trashed = bool(body["trashed"])
    file.parents = [p for p in file.parents if p not in remove] + [
        p for p in add if p not in file.parents]
    if content_change:
        ctx.store.bump(file, ctx.caller)
    else:
        file.version += 1
    return _respond(ctx, file)


def delete_file(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id, write=True)
    if not _may_remove(file, ctx.store.role_of(file, ctx.caller)):
        raise insufficient()
    remove_tree(ctx.store, file.id)
    return 204, None, {}


def remove_tree(store: Store, file_id: str) -> None:
    file = store.files.pop(file_id, None)
    store.deleted.add(file_id)
    if file is not None and file.mime_type == FOLDER_MIME:
        for child in [f for f in store.files.values() if file_id in f.parents]:
            if child.owner == file.owner:
                remove_tree(store, child.id)
            else:
                child.parents = [p for p in child.parents if p != file_id]


# --------------------------------------------------------------------------- permissions


def _perm_out(ctx: Ctx, perm: dict[str, Any], default: tuple[str, ...]) -> dict[str, Any]:
    fields = ctx.arg("fields")
    if not fields:
        return {k: perm[k] for k in default if k in perm}
    return _mask(perm, fields)


def list_permissions(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id)
    perms = [copy.deepcopy(p) for p in file.permissions]
    fields = ctx.arg("fields")
    if not fields:
        body = {"kind": "drive#permissionList", "permissions": [
            {k: p[k] for k in ("kind", "id", "type", "role") if k in p} for p in perms]}
        return ok(body)
    return ok(_mask({"kind": "drive#permissionList", "permissions": perms}, fields))


def get_permission(ctx: Ctx, file_id: str, perm_id: str) -> Response:
    file = find(ctx, file_id)
    perm = next((p for p in file.permissions if p["id"] == perm_id), None)
    if perm is None:
        raise ApiError(404, f"Permission not found: {perm_id}.", reason="notFound",
                       location="permissionId")
    return ok(_perm_out(ctx, perm, ("kind", "id", "type", "role")))


def create_permission(ctx: Ctx, file_id: str) -> Response:
    file = find(ctx, file_id, write=True)
    body = ctx.json()
    kind, role = body.get("type"), body.get("role")
    if kind not in ("user", "group", "domain", "anyone"):
        raise ApiError(400, "The permission type field is required.", reason="required",
                       location="permission.type")
    if role not in ROLES:
        raise ApiError(400, "The permission role field is required.", reason="required",
                       location="permission.role")
    email = body.get("emailAddress")
    if kind in ("user", "group") and not email:
        raise ApiError(400, "The permission emailAddress field is required.", reason="required",
                       location="permission.emailAddress")
    if kind == "domain" and not body.get("domain"):
        raise ApiError(400, "The permission domain field is required.", reason="required",
                       location="permission.domain")
    if file.drive_id:
        shared_drives.check_member_grant(ctx, file, role)
    if role == "owner" and not ctx.flag("transferOwnership"):
        raise ApiError(403, "The transferOwnership parameter must be enabled when the "
                            "permission role is 'owner'.", reason="forbidden")
    perm = ctx.store.make_permission(kind, role, email, body.get("domain"))
    existing = next((p for p in file.permissions if p["id"] == perm["id"]), None)
    if existing is not None and ROLES.index(role) >= ROLES.index(existing["role"]):
        # Drive raises a role through permissions.create but never lowers one (that takes
        # permissions.update): the existing permission is answered, unchanged — the owner
        # listed among a file's readers stays its owner.
        return ok(_perm_out(ctx, existing, ("kind", "id", "type", "role")))
    if existing is not None:
        existing["role"] = role
        perm = existing
    else:
        file.permissions.append(perm)
    if role == "owner":
        for p in file.permissions:
            if p is not perm and p["role"] == "owner":
                p["role"] = "writer"
        file.owner = email or file.owner
    file.version += 1
    return ok(_perm_out(ctx, perm, ("kind", "id", "type", "role")))


def delete_permission(ctx: Ctx, file_id: str, perm_id: str) -> Response:
    file = find(ctx, file_id, write=True)
    perm = next((p for p in file.permissions if p["id"] == perm_id), None)
    if perm is None:
        raise ApiError(404, f"Permission not found: {perm_id}.", reason="notFound",
                       location="permissionId")
    if perm["role"] == "owner":
        raise ApiError(403, "The owner of a file cannot be removed.", reason="cannotRemoveOwner")
    file.permissions.remove(perm)
    file.version += 1
    return 204, None, {}
