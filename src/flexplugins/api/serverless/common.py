"""What the Serverless endpoints share: their base URL and the paths they are mounted under."""

from __future__ import annotations

from starlette.requests import Request

from ..vendor_hosts import SERVERLESS_PREFIX
from ..wire import api_base

PATH = SERVERLESS_PREFIX + "/v1/Services"


def base(request: Request) -> str:
    """`https://serverless.twilio.com` on the vendor's host, else this server's base + /serverless."""
    return api_base(request, SERVERLESS_PREFIX)


def page_scope(account_sid: str, kind: str) -> str:
    """The scope a page token is valid for: one kind of list of one account. (A token used on the
    same kind of list of another service of the account only starts that list at its key.)"""
    return f"{account_sid}:serverless-{kind}"
