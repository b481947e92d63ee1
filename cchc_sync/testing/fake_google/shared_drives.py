"""Drive v3 shared drives, as Google documents them.

- ``drives.create`` (``POST /drive/v3/drives?requestId=…``, body ``{"name"}``): the caller
  becomes the drive's organizer ("Manager"). ``drives.list`` lists the drives the caller is
  a member of; ``drives.get`` one of them (404 "Shared drive not found: ID.").
- A shared drive's members are permissions on its id (``permissions.create`` with
  ``fileId`` = the drive id and ``supportsAllDrives=true``): ``organizer`` (Manager),
  ``fileOrganizer`` (Content manager), ``writer`` (Contributor), ``commenter``, ``reader``.
  Only an organizer adds members; ``owner`` is no role in a shared drive.
- The drive's root is a folder whose id is the drive id. A file in a shared drive is owned
  by the drive: no ``owners``, no owner permission, ``driveId`` set; members reach it
  through the drive. So a service account that is a member (writer or above) creates files
  there although it has no Drive storage of its own (accounts.py refuses it elsewhere).
- A request about a shared-drive item without ``supportsAllDrives=true`` answers 404
  "File not found", as Google does for apps that do not declare shared-drive support.
- ``files.list``: shared-drive items need ``includeItemsFromAllDrives=true`` (which itself
  needs ``supportsAllDrives=true``). ``corpora=user`` (the default) holds, of shared-drive
  items, only those the caller created or that are shared with it by a permission of their
  own (Drive: "files inside it won't be retrieved unless the user has created, opened, or
  shared the file"); ``corpora=drive`` needs ``driveId`` and lists that drive;
  ``corpora=allDrives`` everything the caller can see.

Simplified: no drive themes, restrictions, hidden drives or ``useDomainAdminAccess``; a
drive cannot be deleted through the API.
"""

from __future__ import annotations

from typing import Any

from cchc_sync.testing.fake_google.ctx import Ctx, Response, ok
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import FOLDER_MIME, DriveFile, rfc3339

MEMBER_ROLES = ("organizer", "fileOrganizer", "writer", "commenter", "reader")
CAN_ADD_FILES = ("organizer", "fileOrganizer", "writer")
CAN_REMOVE_FILES = ("organizer", "fileOrganizer")


def supports(ctx: Ctx) -> bool:
    return ctx.flag("supportsAllDrives") or ctx.flag("supportsTeamDrives")


def drive_root(store: Any, drive_id: str | None) -> DriveFile | None:
    file = store.files.get(drive_id) if drive_id else None
    return file if file is not None and file.drive_id == file.id else None


def drive_of_parents(store: Any, parents: list[str]) -> str | None:
    """The shared drive a new file with these parents lands in (None: My Drive)."""
    for parent in parents:
        folder = store.files.get(parent)
        if folder is not None and folder.drive_id:
            return folder.drive_id
    return None


def creates_in_shared_drive(store: Any, kind: str, data: Any) -> bool:
    """Whether a files.create / files.copy request puts its file in a shared drive (its
    storage is the drive's, not the caller's: accounts.py lets a service account do it).
    `data`: the request's body parsed (Ctx.parsed)."""
    if kind not in ("POST drive.files.create", "POST drive.files.copy"):
        return False
    parents = data.get("parents") if isinstance(data, dict) else None
    if not isinstance(parents, list) or not parents:
        return False
    return drive_of_parents(store, [str(p) for p in parents]) is not None


def place_in_drive(store: Any, file: DriveFile, drive_id: str, creator: str) -> None:
    """Make a just-created file the drive's: no owner, reached through membership."""
    file.drive_id = drive_id
    file.creator = creator
    file.owner = ""
    file.permissions = []


def member_role(store: Any, file: DriveFile, email: str) -> str | None:
    root = drive_root(store, file.drive_id)
    if root is None:
        return None
    for perm in root.permissions:
        if perm.get("type") in ("user", "group") and \
                perm.get("emailAddress", "").lower() == email.lower():
            return perm.get("role")
    return None


def listed(ctx: Ctx, file: DriveFile) -> bool:
    """Whether files.list returns this (visible) file for the request's corpora."""
    corpora = ctx.arg("corpora") or "user"
    if not file.drive_id:
        return corpora in ("user", "allDrives", "default")
    if file.drive_id == file.id or not ctx.flag("includeItemsFromAllDrives"):
        return False
    if corpora == "drive":
        return file.drive_id == ctx.arg("driveId")
    if corpora == "allDrives":
        return True
    return file.creator.lower() == ctx.caller.lower() or any(
        p.get("emailAddress", "").lower() == ctx.caller.lower() for p in file.permissions)


def check_list_args(ctx: Ctx) -> None:
    if ctx.flag("includeItemsFromAllDrives") and not supports(ctx):
        raise ApiError(400, "The includeItemsFromAllDrives parameter can only be set when "
                            "supportsAllDrives is also set.", reason="invalid",
                       location="includeItemsFromAllDrives")
    corpora = ctx.arg("corpora") or "user"
    if (corpora == "drive") != bool(ctx.arg("driveId")):
        raise ApiError(400, "The driveId parameter must be specified if and only if corpora "
                            "is set to drive.", reason="invalid", location="driveId")
    if corpora == "drive" and not ctx.flag("includeItemsFromAllDrives"):
        raise ApiError(400, "The includeItemsFromAllDrives parameter must be set to true "
                            "when corpora is set to drive.", reason="invalid",
                       location="includeItemsFromAllDrives")


def drive_not_found(drive_id: str) -> ApiError:
    return ApiError(404, f"Shared drive not found: {drive_id}", reason="notFound",
                    location="driveId")


def _drive_json(root: DriveFile) -> dict[str, Any]:
    return {"kind": "drive#drive", "id": root.id, "name": root.name,
            "createdTime": rfc3339(root.created_ms), "hidden": False}


def _member(store: Any, drive_id: str, email: str) -> bool:
    root = drive_root(store, drive_id)
    return root is not None and any(
        p.get("emailAddress", "").lower() == email.lower() for p in root.permissions)


def create_drive(ctx: Ctx) -> Response:
    request_id = ctx.arg("requestId")
    if not request_id:
        raise ApiError(400, "Required parameter: requestId", reason="required",
                       location="requestId")
    name = ctx.json().get("name") or "Untitled"
    store = ctx.store
    existing = store.drive_requests.get(request_id)
    if existing is not None:  # drives.create is idempotent per requestId
        return ok(_drive_json(store.files[existing]))
    root = new_drive(store, name, ctx.caller)
    store.drive_requests[request_id] = root.id
    return ok(_drive_json(root))


def new_drive(store: Any, name: str, organizer: str) -> DriveFile:
    """A shared drive whose Manager is `organizer` (the API's create and the seeding)."""
    drive_id = "0A" + store.new_id(17) + "Uk9PVA"
    root = store.create_file(name, FOLDER_MIME, organizer, None, file_id=drive_id)
    root.parents = []
    root.drive_id = root.id
    root.creator = organizer
    root.owner = ""
    root.permissions = [store.make_permission("user", "organizer", organizer)]
    return root


def list_drives(ctx: Ctx) -> Response:
    drives = [_drive_json(f) for f in ctx.store.files.values()
              if f.drive_id == f.id and _member(ctx.store, f.id, ctx.caller)]
    return ok({"kind": "drive#driveList", "drives": drives})


def get_drive(ctx: Ctx, drive_id: str) -> Response:
    root = drive_root(ctx.store, drive_id)
    if root is None or not _member(ctx.store, drive_id, ctx.caller):
        raise drive_not_found(drive_id)
    return ok(_drive_json(root))


def check_member_grant(ctx: Ctx, file: DriveFile, role: str) -> None:
    """permissions.create on a shared-drive item: only a Manager adds members to the drive;
    a file's own permissions need writer access; no one becomes an owner."""
    if role == "owner":
        raise ApiError(403, "Bad Request. User message: \"You can't transfer ownership of "
                            "items in a shared drive.\"", reason="teamDrivesOwnershipNotSupported")
    if file.drive_id == file.id and member_role(ctx.store, file, ctx.caller) != "organizer":
        raise ApiError(403, "The user does not have sufficient permissions for this file.",
                       reason="insufficientFilePermissions")
    if file.drive_id == file.id and role not in MEMBER_ROLES:
        raise ApiError(400, "The permission role field is required.", reason="required",
                       location="permission.role")
