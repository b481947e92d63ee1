"""What Google refuses because of the account or its Cloud project, not the request: an API
not enabled in the project (403 SERVICE_DISABLED, naming the activation link) and, since
2025, any file created by a service account outside a shared drive (403
storageQuotaExceeded, domain usageLimits: not a rate limit, never worth a retry).

Both bodies follow what Google documents and people report (Sheets: google.rpc.Status with
an ErrorInfo detail; Drive: the same plus its `errors` list). Switched on with
`FakeGoogle.disabled_apis` / `service_account_storage` or `POST /_fake/accounts`.
"""

from __future__ import annotations

from typing import Any

PROJECT = "000000000000"
SERVICES = {
    "sheets": ("sheets.googleapis.com", "Google Sheets API"),
    "drive": ("drive.googleapis.com", "Google Drive API"),
}
CREATES = {"POST drive.files.create", "POST drive.files.copy", "POST spreadsheets.create"}
NO_STORAGE = (
    "Service Accounts do not have storage quota. Leverage shared drives "
    "(https://developers.google.com/workspace/drive/api/guides/about-shareddrives), or use "
    "OAuth delegation (http://support.google.com/a/answer/7281227) instead."
)


class Refusal:
    def __init__(self, code: int, body: dict[str, Any]):
        self.code = code
        self.body = body

    def raw_body(self) -> dict[str, Any]:
        return self.body


def account_refusal(fake: Any, family: str, kind: str, caller: str,
                    into_shared_drive: bool = False) -> Refusal | None:
    """`into_shared_drive`: the file lands in a shared drive, whose storage it uses (a
    service account may create there)."""
    if family in fake.disabled_apis:
        return _service_disabled(family)
    if (kind in CREATES and not fake.service_account_storage and not into_shared_drive
            and caller.lower().endswith(".iam.gserviceaccount.com")):
        error: dict[str, Any] = {
            "code": 403, "message": NO_STORAGE,
            "errors": [{"message": NO_STORAGE, "domain": "usageLimits",
                        "reason": "storageQuotaExceeded"}],
        }
        if family == "sheets":
            error = {"code": 403, "message": NO_STORAGE, "status": "PERMISSION_DENIED"}
        return Refusal(403, {"error": error})
    return None


def _service_disabled(family: str) -> Refusal:
    service, title = SERVICES[family]
    link = f"https://console.developers.google.com/apis/api/{service}/overview?project={PROJECT}"
    message = (f"{title} has not been used in project {PROJECT} before or it is disabled. "
               f"Enable it by visiting {link} then retry. If you enabled this API recently, "
               "wait a few minutes for the action to propagate to our systems and retry.")
    error: dict[str, Any] = {
        "code": 403, "message": message, "status": "PERMISSION_DENIED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
             "domain": "googleapis.com",
             "metadata": {"service": service, "consumer": f"projects/{PROJECT}",
                          "activationUrl": link, "serviceTitle": title,
                          "containerInfo": PROJECT}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
             "message": message},
            {"@type": "type.googleapis.com/google.rpc.Help",
             "links": [{"description": "Google developers console API activation",
                        "url": link}]},
        ],
    }
    if family == "drive":
        error["errors"] = [{"message": message, "domain": "usageLimits",
                            "reason": "accessNotConfigured", "extendedHelp": link}]
    return Refusal(403, {"error": error})
