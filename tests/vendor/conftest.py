"""Helpers of the vendor API tests: the vendor's hosts, and the twilio package pointed at the server."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Credentials, LiveServer

FLEX_API = "flex-api.twilio.com"
SERVERLESS = "serverless.twilio.com"
UPLOAD = "serverless-upload.twilio.com"
API = "api.twilio.com"
VALIDATION = "flex-plugin-upload.us1.twilio.com"


def on(host: str) -> dict[str, str]:
    """Headers of a request the vendor proxy hands over: the vendor's own Host."""
    return {"Host": host}


def upload(
    http: httpx.Client,
    service_sid: str,
    asset_sid: str,
    path: str,
    content: bytes,
    *,
    visibility: str = "Protected",
    content_type: str = "application/javascript",
    host: str | None = UPLOAD,
) -> httpx.Response:
    """The multipart asset version upload, as the deploy script sends it."""
    url = f"/v1/Services/{service_sid}/Assets/{asset_sid}/Versions"
    return http.post(
        url if host else "/serverless" + url,
        data={"Path": path, "Visibility": visibility},
        files={"Content": (path.rsplit("/", 1)[-1], content, content_type)},
        headers=on(host) if host else None,
    )


class Recorded:
    """The `twilio` package pointed at this server, with every exchange kept for schema checks."""

    def __init__(self, server: LiveServer, account: Credentials) -> None:
        from twilio.rest import Client

        from tests.compat.test_twilio_python import RecordingHttpClient

        self.http = RecordingHttpClient()
        self.client = Client(account.sid, account.token, http_client=self.http)
        self.client.flex_api.base_url = server.url
        self.client.serverless.base_url = server.url + "/serverless"
        self.client.api.base_url = server.url

    def validate(self) -> set[str]:
        """Check every response against its OpenAPI file; the operations seen."""
        from tests.openapi import ACCOUNTS_SPEC, CONFIGURATION_SPEC, SERVERLESS_SPEC, assert_valid_response

        seen: set[str] = set()
        for method, path, status, body, _headers in self.http.exchanges:
            if path.startswith("/serverless/"):
                name, spec_path = SERVERLESS_SPEC, path.removeprefix("/serverless")
            elif path.startswith("/2010-04-01/"):
                name, spec_path = ACCOUNTS_SPEC, path
            else:
                name, spec_path = CONFIGURATION_SPEC, path
            seen.add(assert_valid_response(method, spec_path, status, body, name))
        return seen


@pytest.fixture
def recorded(server: LiveServer, account: Credentials) -> Recorded:
    return Recorded(server, account)
