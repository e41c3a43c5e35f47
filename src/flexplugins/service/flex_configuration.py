"""The Flex Configuration of an account: fetch (defaults until first written) and update."""

from __future__ import annotations

from typing import Any

from ..domain import flex_configuration as rules
from ..domain.errors import invalid
from ..domain.flex_configuration import DEFAULT_UI_VERSION, FlexConfiguration
from ..domain.model import Principal
from ..storage import accounts, audit
from ..storage import flex_configurations as store
from ..storage.db import Database, now
from ..storage.serverless import services


def _default(account_sid: str, db: Database) -> FlexConfiguration:
    with db.read() as conn:
        created = accounts.date_created(conn, account_sid)
    when = created or now()
    return FlexConfiguration(account_sid, DEFAULT_UI_VERSION, [], when, when)


def fetch(db: Database, who: Principal) -> FlexConfiguration:
    with db.read() as conn:
        found = store.get(conn, who.account_sid)
    return found if found is not None else _default(who.account_sid, db)


def update(db: Database, who: Principal, values: dict[str, Any], metadata: str | None) -> FlexConfiguration:
    """Apply the fields this server keeps (`serverless_service_sids`, `ui_version`); others are
    accepted and not kept, as they configure parts of Flex this server does not run."""
    rules.account_sid(values.get("account_sid"), who.account_sid)
    version = rules.ui_version(values.get("ui_version"))
    service_sids = None
    if "serverless_service_sids" in values:
        raw = values["serverless_service_sids"]
        service_sids = [] if raw is None or raw == "" or raw == [""] else rules.service_sids(raw)
    with db.write() as conn:
        db.lock_account(conn, who.account_sid)
        current = store.get(conn, who.account_sid)
        base = current if current is not None else _default(who.account_sid, db)
        if service_sids is not None:
            known = services.existing_sids(conn, who.account_sid)
            unknown = [sid for sid in service_sids if sid not in known]
            if unknown:
                raise invalid(
                    f"serverless_service_sids names a Service this account does not have: {unknown[0]}"
                )
        when = now()
        updated = FlexConfiguration(
            who.account_sid,
            version if version is not None else base.ui_version,
            service_sids if service_sids is not None else base.serverless_service_sids,
            base.date_created,
            when,
        )
        store.put(conn, updated, exists=current is not None)
        audit.record(conn, who, "flex.configuration.update", who.account_sid, metadata, when)
    return updated
