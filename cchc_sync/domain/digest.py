"""The one content digest: SHA-256 of a value's canonical JSON.

Sheet contents, flag plans, master books and the master's inputs are all compared through
it. The digests are stored in the archive (sheets.content_hash, flags_hash, masters.book_hash
and inputs_key), so the encoding must never change: keys sorted, non-ASCII kept as UTF-8,
anything JSON cannot encode written as str(). tests/test_digest.py pins known values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def json_digest(value: Any) -> str:
    """Hex SHA-256 of `value` as canonical JSON."""
    data = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
