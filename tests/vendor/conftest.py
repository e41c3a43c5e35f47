"""Helpers of the vendor API tests: the vendor's hosts, and the twilio package pointed at the server."""

from __future__ import annotations

from typing import Any

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


@pytest.fixture
def vendor_client(server: LiveServer, account: Credentials) -> Any:
    """The `twilio` package with each API's base URL at its internal path on this server."""
    from twilio.rest import Client

    client = Client(account.sid, account.token)
    client.flex_api.base_url = server.url
    client.serverless.base_url = server.url + "/serverless"
    client.api.base_url = server.url
    return client


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
