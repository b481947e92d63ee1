"""The recording script an administrator runs against the real Google, proved against the
fake: it plays its scenario in a real process, saves a sanitised recording, and the
recording replays against a fresh fake with no mismatch (the same check as the recordings
of real traffic in tests/test_fake_google_replay.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from cchc_sync.testing.record_live import FOLDER_ALIAS, SPREADSHEET_ALIAS
from tests.test_fake_google_replay import Replayer

ROOT = Path(__file__).resolve().parent.parent


def test_the_recording_script_records_sanitised_traffic_that_replays(tmp_path):
    out = tmp_path / "record-live.json"
    with FakeGoogle() as google:  # standing in for the real thing
        key = tmp_path / "key.json"
        google.register_key(make_service_account_key(key, google.token_uri))
        folder = google.create_shared_drive_folder(DEFAULT_EMAIL, "Thử ghi")
        done = subprocess.run(
            [sys.executable, "-m", "cchc_sync.testing.record_live", "--credentials", str(key),
             "--folder", folder, "--endpoint", google.url, "-o", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        # It cleans up after itself: the spreadsheet it made is gone.
        assert [f for f in google.store.files.values() if folder in f.parents] == []
        assert len(google.store.deleted) == 1
    text = out.read_text(encoding="utf-8")
    data = json.loads(text)
    interactions = data["interactions"]
    assert 15 <= len(interactions) <= 40  # "a few dozen requests"
    # Sanitised: no token, no Authorization header, no real id.
    assert "ya29." not in text and "Bearer" not in text and "Authorization" not in text
    assert folder not in text and FOLDER_ALIAS in text and SPREADSHEET_ALIAS in text
    # What a clerk typed came back as Google keeps it, and the answers replay against the
    # fake with no mismatch.
    with FakeGoogle(require_auth=False, default_account=DEFAULT_EMAIL, seed=1) as fresh:
        player = Replayer(fresh)
        player.ids[FOLDER_ALIAS] = fresh.create_shared_drive_folder(DEFAULT_EMAIL, "Thử ghi")
        player.replay("record_live", interactions)
        assert player.replayed == len(interactions)
        assert player.mismatches == []
        assert not fresh.errors
