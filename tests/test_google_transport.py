"""The one place where the Google backend waits and retries: the quota limiter, the
backoff policy and how Google's answers become our exceptions."""

from __future__ import annotations

import logging

import pytest
from gspread.urls import DRIVE_FILES_API_V3_URL

from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.client import build_gspread_client
from cchc_sync.sources.google.transport import (
    GoogleApiError,
    GoogleTransport,
    GoogleUnavailable,
    QuotaLimiter,
    RetryPolicy,
)
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import make_service_account_key
from tests.test_google_budget import Sleeper

LIST = {"q": "trashed = false", "fields": "files(id)"}


@pytest.fixture(scope="module")
def fake():
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def transport(fake, tmp_path):
    fake.clear_faults()
    make_service_account_key(tmp_path / "sa.json", fake.token_uri)
    client = build_gspread_client(tmp_path / "sa.json", endpoint=fake.url)
    sleeper = Sleeper()
    t = GoogleTransport(client.http_client, clock=sleeper.clock, sleep=sleeper.sleep,
                        rng=lambda: 0.5)
    t.sleeper = sleeper
    yield t
    fake.clear_faults()


def test_the_limiter_never_lets_more_than_the_quota_through_in_a_minute():
    sleeper = Sleeper()
    limiter = QuotaLimiter(3, clock=sleeper.clock, sleep=sleeper.sleep)
    sent = []
    for _ in range(7):
        limiter.acquire()
        sent.append(sleeper.now)
        sleeper.now += 1  # a request takes a second
    assert sent == [1000, 1001, 1002, 1060, 1061, 1062, 1120]
    for i in range(len(sent)):
        assert sum(1 for t in sent if sent[i] <= t < sent[i] + 60) <= 3


def test_backoff_doubles_adds_jitter_honours_retry_after_and_is_capped():
    policy = RetryPolicy(base_delay=1, max_delay=64, jitter=1)
    assert [policy.delay(n, None, lambda: 0.5) for n in range(8)] == [
        1.5, 2.5, 4.5, 8.5, 16.5, 32.5, 64, 64]
    assert policy.delay(0, 30, lambda: 0.0) == 30  # the server asks for longer
    assert policy.delay(5, 1, lambda: 0.0) == 32  # ... or backoff is longer already
    assert policy.delay(0, 600, lambda: 0.0) == 64


def test_429_is_retried_after_retry_after_and_logged_once_each(transport, fake, caplog):
    fake.set_faults(status=429, count=2, retry_after=7)
    with caplog.at_level(logging.WARNING, logger="cchc_sync"):
        body = transport.call("GET", DRIVE_FILES_API_V3_URL, params=LIST)
    assert "files" in body
    assert transport.sleeper.slept == [7, 7]
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "429" in retries[0].getMessage()
    assert "Bearer" not in caplog.text and "ya29" not in caplog.text


def test_5xx_then_giving_up_raises_unavailable(transport, fake):
    fake.set_faults(status=503, rate=1.0)
    with pytest.raises(GoogleUnavailable):
        transport.call("GET", DRIVE_FILES_API_V3_URL, params=LIST)
    attempts = transport.retry.max_attempts
    assert len(transport.sleeper.slept) == attempts - 1
    assert transport.sent["read"] == attempts


def test_dropped_connection_is_retried(transport, fake):
    fake.set_faults(reset_connection_rate=1.0)
    with pytest.raises(GoogleUnavailable):
        transport.call("GET", DRIVE_FILES_API_V3_URL, params=LIST)
    fake.clear_faults()
    assert transport.call("GET", DRIVE_FILES_API_V3_URL, params=LIST) is not None


def test_a_404_is_not_retried(transport):
    with pytest.raises(GoogleApiError) as err:
        transport.call("GET", f"{DRIVE_FILES_API_V3_URL}/nope", params={"fields": "id"})
    assert err.value.status == 404
    assert transport.sleeper.slept == []


def test_a_rejected_key_is_a_source_error(transport, fake):
    fake.set_faults(token_status=400)
    transport.auth.token = None  # force a token request
    transport.session.credentials.token = None
    with pytest.raises(SourceError, match="tài khoản dịch vụ"):
        transport.call("GET", DRIVE_FILES_API_V3_URL, params=LIST)
    assert transport.sleeper.slept == []


def test_an_expired_token_is_refreshed_without_a_retry(transport, fake):
    assert transport.call("GET", DRIVE_FILES_API_V3_URL, params=LIST) is not None
    fake.expire_tokens()
    assert transport.call("GET", DRIVE_FILES_API_V3_URL, params=LIST) is not None
    assert transport.retries == 0


def test_no_environment_lookup_per_request_unless_a_proxy_is_set(monkeypatch):
    """requests reads proxies, .netrc and CA bundles from the environment on every request
    while trust_env is on: off unless a proxy is configured; a CA bundle is read once."""
    from google.auth.credentials import AnonymousCredentials

    from cchc_sync.sources.google.client import EndpointAuthorizedSession

    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    session = EndpointAuthorizedSession(AnonymousCredentials(), endpoint="http://127.0.0.1:1")
    assert session.trust_env is False and session._token_session.trust_env is False
    assert session.verify == "/etc/ssl/certs/ca-certificates.crt"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.gov.vn:3128")
    session = EndpointAuthorizedSession(AnonymousCredentials(), endpoint="http://127.0.0.1:1")
    assert session.trust_env is True and session.verify is True
