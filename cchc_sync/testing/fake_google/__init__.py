"""A faithful local fake of Google's Sheets v4, Drive v3 and OAuth token APIs for tests.

Real gspread 6.2 and google-auth talk to it unchanged over HTTP (point the service-account
key's ``token_uri`` at ``FakeGoogle.token_uri`` and give ``cchc_sync.sources.google.client.
build_gspread_client`` the fake's ``url`` as endpoint). See docs/fake-google.md.

>>> from cchc_sync.testing.fake_google import FakeGoogle
>>> with FakeGoogle() as fake:
...     print(fake.url)
"""

from cchc_sync.testing.fake_google.server import FakeGoogle

__all__ = ["FakeGoogle"]
