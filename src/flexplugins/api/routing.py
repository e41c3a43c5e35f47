"""Route dispatch that does not try every route in turn.

Starlette's router matches each route's regular expression in order until one fits; with some
forty routes, a request for one of the last costs tens of microseconds before its handler runs,
which is a large share of a hot read. This router first narrows the search to the routes that
share the request path's first three segments (`/v1/PluginService/Releases`, say), in their
declared order, and runs Starlette's own matching on those alone. Anything that does not fully
match there (405s, 404s, mounts such as the console) goes through Starlette's full search, so
behaviour is exactly Starlette's.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Route
from starlette.routing import Router as StarletteRouter
from starlette.types import Receive, Scope, Send

_DEPTH = 4  # "", "v1", "PluginService", "Plugins"


def _prefix(path: str) -> tuple[str, ...] | None:
    parts = path.split("/", _DEPTH)[:_DEPTH]
    if len(parts) < _DEPTH:
        return None
    return tuple(parts)


def _route_prefix(route: BaseRoute) -> tuple[str, ...] | None:
    """The literal first segments of a plain route's path; None when a parameter sits among them."""
    if not isinstance(route, Route):
        return None
    prefix = _prefix(route.path)
    if prefix is None or any("{" in part for part in prefix):
        return None
    return prefix


class Router(StarletteRouter):
    def __init__(self, routes: list[BaseRoute], **options: object) -> None:
        super().__init__(routes, **options)  # type: ignore[arg-type]
        self._groups: dict[tuple[str, ...], list[BaseRoute]] = {}
        for route in self.routes:
            prefix = _route_prefix(route)
            if prefix is not None:
                self._groups.setdefault(prefix, []).append(route)
            elif not (isinstance(route, Route) and "{" not in route.path):
                # A mount, or a route with a parameter among its first segments, could match paths
                # of any prefix, so it must be tried in order with the rest: group no further.
                # (A short literal route such as /healthz matches only itself.)
                break

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            prefix = _prefix(scope["path"])
            group = self._groups.get(prefix) if prefix is not None else None
            if group is not None:
                for route in group:
                    match, child_scope = route.matches(scope)
                    if match is Match.FULL:
                        scope["router"] = self
                        scope["route"] = route
                        scope.update(child_scope)
                        await route.handle(scope, receive, send)
                        return
        await super().app(scope, receive, send)
