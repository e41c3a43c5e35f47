"""The 2010 API's Accounts fetch, /2010-04-01/Accounts/{Sid}.json, for the caller's own account."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.model import Account
from ..service import accounts as service
from .auth import caller
from .wire import json_response

PATH = "/2010-04-01/Accounts"


def rfc2822(value: datetime) -> str:
    """`Thu, 30 Jul 2015 20:00:00 +0000`, as the 2010 API writes its dates."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return format_datetime(aware.astimezone(UTC))


def account_json(account: Account) -> dict[str, Any]:
    when = rfc2822(account.date_created)
    return {
        # Only a digest of the token is kept, and a secret is never echoed back anyway.
        "auth_token": None,
        "date_created": when,
        "date_updated": when,
        "friendly_name": account.friendly_name,
        "owner_account_sid": account.sid,
        "sid": account.sid,
        "status": "active",
        # None of the 2010 API's subresources (calls, messages, ...) is served here.
        "subresource_uris": {},
        "type": "Full",
        "uri": f"{PATH}/{account.sid}.json",
    }


async def fetch_account(request: Request) -> Response:
    who = caller(request)
    found = service.fetch(request.app.state.db, who, request.path_params["sid"])
    return json_response(account_json(found))


routes = [Route(PATH + "/{sid}.json", fetch_account, methods=["GET"])]
