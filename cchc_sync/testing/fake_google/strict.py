"""Refuse what Google refuses about a request's shape, before any handler runs:

- a query parameter the method does not have (the standard ones aside): ``400
  INVALID_ARGUMENT`` "Invalid JSON payload received. Unknown name "foo": Cannot bind query
  parameter. Field 'foo' could not be found in request message.";
- a top-level field of the JSON body the request message does not have: "Invalid JSON
  payload received. Unknown name "foo": Cannot find field." (the kinds of batchUpdate
  requests are checked in batch.py);
- a ``fields`` mask whose first names are not fields of the answer: Sheets' "Request
  contains an invalid argument." style is not used by Google here; both APIs answer ``400``
  "Invalid field selection <name>".

The parameter lists are the methods' own in Google's discovery documents (Sheets v4,
Drive v3) as of 2025, for the methods the fake serves. Drive v3 is lenient where Sheets is
not: the real recordings show it answering 200 to ``files.get?includeItemsFromAllDrives=``
and to a permission body holding v2's ``withLink``; so unknown parameters and body fields
are refused for Sheets only, and field masks for both (Drive validates ``fields``). On by
default (``FakeGoogle.strict``): the whole suite then proves the product sends nothing
Google would refuse.
"""

from __future__ import annotations

from typing import Any

from cchc_sync.testing.fake_google.errors import ApiError

STANDARD = {"alt", "fields", "key", "access_token", "prettyPrint", "quotaUser", "callback",
            "upload_protocol", "uploadType", "$.xgafv", "oauth_token", "userIp"}
_RENDER = {"majorDimension", "valueRenderOption", "dateTimeRenderOption"}
_DRIVE_ALL = {"supportsAllDrives", "supportsTeamDrives", "includeLabels",
              "includePermissionsForView"}
PARAMS: dict[str, set[str]] = {
    "GET spreadsheets.get": {"ranges", "includeGridData", "excludeTablesInBandedRanges"},
    "POST spreadsheets.create": set(),
    "POST spreadsheets.batchUpdate": set(),
    "GET values.get": _RENDER,
    "GET values.batchGet": {"ranges", *_RENDER},
    "PUT values.update": {"valueInputOption", "includeValuesInResponse",
                          "responseValueRenderOption", "responseDateTimeRenderOption"},
    "POST values.append": {"valueInputOption", "insertDataOption", "includeValuesInResponse",
                           "responseValueRenderOption", "responseDateTimeRenderOption"},
    "POST values.batchUpdate": set(),
    "POST values.clear": set(),
    "POST values.batchClear": set(),
    "POST sheets.copyTo": set(),
    "POST developerMetadata.search": set(),
    "GET developerMetadata.get": set(),
    "GET drive.files.list": {"corpora", "corpus", "driveId", "includeItemsFromAllDrives",
                             "includeTeamDriveItems", "orderBy", "pageSize", "pageToken", "q",
                             "spaces", "teamDriveId", *_DRIVE_ALL},
    "GET drive.files.get": {"acknowledgeAbuse", *_DRIVE_ALL},
    "POST drive.files.create": {"enforceSingleParent", "ignoreDefaultVisibility",
                                "keepRevisionForever", "ocrLanguage",
                                "useContentAsIndexableText", *_DRIVE_ALL},
    "PATCH drive.files.update": {"addParents", "removeParents", "enforceSingleParent",
                                 "keepRevisionForever", "ocrLanguage",
                                 "useContentAsIndexableText", *_DRIVE_ALL},
    "DELETE drive.files.delete": {"enforceSingleParent", "supportsAllDrives",
                                  "supportsTeamDrives"},
    "POST drive.files.copy": {"enforceSingleParent", "ignoreDefaultVisibility",
                              "keepRevisionForever", "ocrLanguage", *_DRIVE_ALL},
    "POST drive.permissions.create": {"emailMessage", "enforceSingleParent",
                                      "moveToNewOwnersRoot", "sendNotificationEmail",
                                      "transferOwnership", "useDomainAdminAccess",
                                      "enforceExpansiveAccess", "supportsAllDrives",
                                      "supportsTeamDrives"},
    "GET drive.permissions.list": {"pageSize", "pageToken", "useDomainAdminAccess",
                                   "includePermissionsForView", "supportsAllDrives",
                                   "supportsTeamDrives"},
    "GET drive.permissions.get": {"useDomainAdminAccess", "supportsAllDrives",
                                  "supportsTeamDrives"},
    "DELETE drive.permissions.delete": {"useDomainAdminAccess", "enforceExpansiveAccess",
                                        "supportsAllDrives", "supportsTeamDrives"},
}
_FILE = {"kind", "id", "name", "mimeType", "description", "starred", "trashed",
         "explicitlyTrashed", "parents", "properties", "appProperties", "spaces", "version",
         "webContentLink", "webViewLink", "iconLink", "hasThumbnail", "thumbnailLink",
         "viewedByMe", "viewedByMeTime", "createdTime", "modifiedTime", "modifiedByMeTime",
         "modifiedByMe", "sharedWithMeTime", "sharingUser", "owners", "driveId",
         "lastModifyingUser", "shared", "ownedByMe", "capabilities", "viewersCanCopyContent",
         "copyRequiresWriterPermission", "writersCanShare", "permissions", "permissionIds",
         "folderColorRgb", "originalFilename", "fullFileExtension", "fileExtension",
         "md5Checksum", "size", "quotaBytesUsed", "headRevisionId", "contentHints",
         "isAppAuthorized", "exportLinks", "shortcutDetails", "contentRestrictions",
         "resourceKey", "labelInfo", "inheritedPermissionsDisabled", "teamDriveId"}
_PERMISSION = {"kind", "id", "type", "emailAddress", "domain", "role", "view",
               "allowFileDiscovery", "displayName", "photoLink", "expirationTime",
               "permissionDetails", "deleted", "pendingOwner", "inheritedPermissionsDisabled"}
BODY: dict[str, set[str]] = {
    "POST spreadsheets.create": {"spreadsheetId", "properties", "sheets", "namedRanges",
                                 "spreadsheetUrl", "developerMetadata", "dataSources",
                                 "dataSourceSchedules"},
    "POST spreadsheets.batchUpdate": {"requests", "includeSpreadsheetInResponse",
                                      "responseRanges", "responseIncludeGridData"},
    "POST values.batchUpdate": {"valueInputOption", "data", "includeValuesInResponse",
                                "responseValueRenderOption", "responseDateTimeRenderOption"},
    "PUT values.update": {"range", "majorDimension", "values"},
    "POST values.append": {"range", "majorDimension", "values"},
    "POST values.batchClear": {"ranges"},
    "POST developerMetadata.search": {"dataFilters"},
    "POST sheets.copyTo": {"destinationSpreadsheetId"},
    "POST drive.files.create": _FILE,
    "PATCH drive.files.update": _FILE,
    "POST drive.files.copy": _FILE,
    "POST drive.permissions.create": _PERMISSION,
}
_VALUE_RANGE = {"range", "majorDimension", "values"}
ANSWER: dict[str, set[str]] = {
    "GET spreadsheets.get": BODY["POST spreadsheets.create"],
    "POST spreadsheets.create": BODY["POST spreadsheets.create"],
    "POST spreadsheets.batchUpdate": {"spreadsheetId", "replies", "updatedSpreadsheet"},
    "GET values.get": _VALUE_RANGE,
    "GET values.batchGet": {"spreadsheetId", "valueRanges"},
    "GET drive.files.list": {"kind", "nextPageToken", "incompleteSearch", "files"},
    "GET drive.files.get": _FILE,
    "POST drive.files.create": _FILE,
    "PATCH drive.files.update": _FILE,
    "POST drive.files.copy": _FILE,
    "GET drive.permissions.list": {"kind", "nextPageToken", "permissions"},
    "POST drive.permissions.create": _PERMISSION,
    "GET drive.permissions.get": _PERMISSION,
}


def _invalid(message: str) -> ApiError:
    return ApiError(400, message, status="INVALID_ARGUMENT", reason="badRequest",
                    details=[{"@type": "type.googleapis.com/google.rpc.BadRequest",
                              "fieldViolations": [{"description": message}]}])


def check(kind: str, query: dict[str, list[str]], data: Any) -> None:
    """Raise Google's 400 for an unknown parameter, body field or mask name (`data`: the
    body parsed, anything but a dict when it is empty or not JSON: the handler answers that)."""
    allowed = PARAMS.get(kind)
    if allowed is None:
        return
    drive = kind.split(" ", 1)[1].startswith("drive.")
    for name in [] if drive else query:
        if name not in STANDARD and name not in allowed:
            raise _invalid(
                f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                f"parameter. Field '{name}' could not be found in request message.")
    fields = None if drive else BODY.get(kind)
    if fields is not None and isinstance(data, dict):
        for name in data:
            if name not in fields:
                raise _invalid(f'Invalid JSON payload received. Unknown name "{name}": '
                               "Cannot find field.")
    mask = (query.get("fields") or [""])[-1]
    known = ANSWER.get(kind)
    if mask and known is not None:
        for name in _first_names(mask):
            if name not in known and name != "*":
                raise ApiError(400, f"Invalid field selection {name}",
                               status="INVALID_ARGUMENT", reason="invalidParameter",
                               location="fields")


def _first_names(mask: str) -> list[str]:
    """The names at the top level of a mask: "files(id,name),nextPageToken" -> files,
    nextPageToken; "sheets/properties/title" -> sheets."""
    names, depth, current = [], 0, ""
    for ch in mask.replace(" ", ""):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(current)
            current = ""
            continue
        if depth == 0 and ch not in "()":
            current += ch
    names.append(current)
    return [n.split("/")[0].split(".")[0] for n in names if n]
