"""The ASGI application: routes of every resource, error rendering, start-up."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ..config import ENV_MIGRATED, Settings
from ..domain.errors import ApiError
from ..service import server_key
from ..storage.db import Database, make_sqlite_directory
from . import (
    accounts,
    audit,
    bundles,
    configurations,
    console,
    delta_releases,
    flex_configuration,
    plugin_validation,
    plugin_versions,
    plugins,
    releases,
    runtime,
)
from .auth import Authenticator
from .cache import ResponseCache
from .observe import LOGGED, MetricsAccess, Observe, request_id_of
from .routing import Router
from .serverless import assets as serverless_assets
from .serverless import builds as serverless_builds
from .serverless import deployments as serverless_deployments
from .serverless import environments as serverless_environments
from .serverless import hosting as serverless_hosting
from .serverless import services as serverless_services
from .vendor_hosts import VendorHosts
from .wire import PageTokens, error_body, error_response, json_response

log = logging.getLogger("flexplugins")

_HTTP_MESSAGES = {
    404: "The requested resource was not found",
    405: "The method is not allowed for the requested resource",
}


async def healthz(request: Request) -> Response:
    db: Database = request.app.state.db
    db.ping()
    return json_response({"status": "ok"})


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    response = error_response(error)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="flexplugins"'
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    status = error.status_code
    message = _HTTP_MESSAGES.get(status) or str(error.detail)
    if status == 404:
        message = f"The requested resource {request.url.path} was not found"
    return json_response(error_body(status, 20000 + status, message), status)


async def _client_gone(request: Request, error: Exception) -> Response:
    """The client closed the connection before sending its whole request: normal, one line at most."""
    log.info("client disconnected during %s %s", request.method, request.url.path)
    # Nobody is there to read it; the status only tells the server not to keep the connection.
    return Response(status_code=400)


async def _unexpected(request: Request, error: Exception) -> Response:
    request.scope[LOGGED] = True  # Observe need not pass it on to the server to be logged again
    log.exception(
        "unexpected error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id_of(request.scope),
        exc_info=error,
    )
    return json_response(error_body(500, 20500, "An unexpected error occurred on the server"), 500)


class App(Starlette):
    """Starlette, with the headers every response carries added outside all of its middleware."""

    def build_middleware_stack(self) -> ASGIApp:
        # Observe (request IDs, nosniff, metrics, the access log) outside Starlette's error handling
        # too, so that a 500 is counted, logged and carries its headers like any other response.
        settings: Settings = self.state.settings
        observed = Observe(
            super().build_middleware_stack(),
            metrics=self.state.metrics_access,
            access_log=settings.access_log,
        )
        return observed


def create_app(settings: Settings, db: Database | None = None, *, migrate: bool = True) -> Starlette:
    database = db or Database(settings.database_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if migrate:
            database.upgrade()
        key = server_key.load_checked(settings, database)
        app.state.page_tokens = PageTokens(
            server_key.signing_key(database, key, server_key.PAGE_TOKENS).hex()
        )
        app.state.console_key = server_key.signing_key(database, key, server_key.CONSOLE_SESSIONS)
        yield
        await database.counters.close()
        if db is None:
            database.dispose()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        *plugins.routes,
        *plugin_versions.routes,
        *configurations.routes,
        *releases.routes,
        *delta_releases.routes,
        *audit.routes,
        *bundles.routes,
        *runtime.routes,
        # The vendor APIs the vendor's CLI calls besides the Plugin Service (see vendor_hosts.py).
        *flex_configuration.routes,
        *plugin_validation.routes,
        *serverless_services.routes,
        *serverless_environments.routes,
        *serverless_assets.routes,
        *serverless_builds.routes,
        *serverless_deployments.routes,
        # The router groups routes by their first segments up to the first route with a parameter
        # there (`{sid}.json`) or one spanning segments (`{path:path}`): these come last.
        *accounts.routes,
        *serverless_hosting.routes,
        console.mount,
    ]
    app = App(
        middleware=[Middleware(VendorHosts)],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected,
        },
    )
    app.router = Router(routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics_access = MetricsAccess(settings.metrics)  # a bad setting fails here, not later
    app.state.db = database
    app.state.responses = ResponseCache()
    app.state.auth = Authenticator(database, settings)
    return app


def create_app_from_env() -> Starlette:
    """The factory server workers import: settings come from FLEXPLUGINS_* variables."""
    settings = Settings.from_env()
    migrate = os.environ.get(ENV_MIGRATED) != "1"
    if migrate:  # run without `serve`, which has made the database already otherwise
        make_sqlite_directory(settings.database_url)
    return create_app(settings, migrate=migrate)
