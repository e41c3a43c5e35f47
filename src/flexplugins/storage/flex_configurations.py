"""Queries of the Flex Configuration of each account."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.flex_configuration import FlexConfiguration
from .paging import Executor
from .tables import flex_configurations as c

_get = sa.select(
    c.c.account_sid, c.c.ui_version, c.c.serverless_service_sids, c.c.date_created, c.c.date_updated
).where(c.c.account_sid == sa.bindparam("account"))


def get(conn: Executor, account_sid: str) -> FlexConfiguration | None:
    row = conn.execute(_get, {"account": account_sid}).first()
    if row is None:
        return None
    account, ui_version, service_sids, created, updated = row
    return FlexConfiguration(account, ui_version, list(json.loads(service_sids)), created, updated)


def put(conn: Connection, configuration: FlexConfiguration, exists: bool) -> None:
    values = {
        "ui_version": configuration.ui_version,
        "serverless_service_sids": json.dumps(configuration.serverless_service_sids),
        "date_updated": configuration.date_updated,
    }
    if exists:
        conn.execute(c.update().where(c.c.account_sid == configuration.account_sid).values(**values))
    else:
        conn.execute(
            c.insert().values(
                account_sid=configuration.account_sid, date_created=configuration.date_created, **values
            )
        )
