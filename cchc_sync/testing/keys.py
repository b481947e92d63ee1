"""Service-account key files for tests, generated on the spot (no secrets in the repo).

``make_service_account_key`` writes a key file shaped like the JSON Google Cloud hands out
(type, project_id, private_key_id, private_key, client_email, client_id, auth_uri,
token_uri, auth_provider_x509_cert_url, client_x509_cert_url, universe_domain) with a fresh
RSA key, so google-auth's real service-account flow (sign a JWT, post it to ``token_uri``)
runs unchanged against the fake's token endpoint.

One RSA key per e-mail per process: a 2,048-bit key takes ~0.1 s of CPU to generate and
the suite writes a key file for nearly every Google test; ``fresh=True`` makes a new one
(a rotated key).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_EMAIL = "cchc-sync@test-project.iam.gserviceaccount.com"

_KEYS: dict[str, tuple[str, str]] = {}
"""e-mail -> (private key PEM, its id) made for it in this process: Google gives each key
one id, so a key file of the same key carries the same private_key_id."""


def _private_key(email: str, fresh: bool) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if fresh or email not in _KEYS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _KEYS[email] = (key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        ).decode("ascii"), secrets.token_hex(20))
    return _KEYS[email]


def make_service_account_key(path: str | Path, token_uri: str,
                             email: str = DEFAULT_EMAIL, fresh: bool = False) -> dict[str, Any]:
    """Write a real-shaped service-account key file (mode 0600) and return its content:
    this process's key for `email`, or a new one with `fresh` (it becomes the process's)."""
    pem, key_id = _private_key(email, fresh)
    domain = email.split("@", 1)[1] if "@" in email else "test-project.iam.gserviceaccount.com"
    project = domain.split(".", 1)[0]
    info: dict[str, Any] = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**21 - 10**20) + 10**20),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + quote(email, safe=""),
        "universe_domain": "googleapis.com",
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        json.dump(info, handle, indent=2)
        handle.write("\n")
    return info
