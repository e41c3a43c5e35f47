"""A small typed Python client (httpx) for a flexplugins server: the Plugin Service API and bundle store.

    from flexplugins.client import Client, FlexPluginsError

    with Client("http://127.0.0.1:8080", account_sid, auth_token) as client:
        bundle = client.upload_bundle(Path("build/plugin-hello.js").read_bytes())
        plugin = client.create_plugin("plugin-hello")
        version = client.create_version(plugin.sid, "1.0.0", bundle.url)

Every failure (a refusal of the server, a server that cannot be reached, an answer that is not the
API's) raises FlexPluginsError with the vendor error's code, HTTP status and message.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from . import __version__
from .domain.bundles import bundle_key
from .origins import origin_of

API = "/v1/PluginService"
BUNDLES = "/flexplugins/v1/Bundles"
AUDIT_EVENTS = "/flexplugins/v1/AuditEvents"
DELTA_RELEASES = "/flexplugins/v1/Releases"
RUNTIME_MANIFEST = "/flexplugins/v1/Runtime/Manifest"
ACTIVE = "Active"
PAGE_SIZE = 1000
CHUNK = 64 * 1024


class FlexPluginsError(Exception):
    """A failed call: the vendor error's code, the HTTP status (0 when there was no answer) and message."""

    def __init__(
        self, message: str, *, code: int | None = None, status: int = 0, more_info: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.more_info = more_info

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        return f"{self.message} (error {self.code}, HTTP {self.status})"


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


T = TypeVar("T", bound="Resource")


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource as the API answers it; `raw` is the JSON object exactly as received."""

    raw: dict[str, Any]

    @classmethod
    def from_json(cls: type[T], body: dict[str, Any]) -> T:
        values: dict[str, Any] = {"raw": body}
        for item in fields(cls):
            if item.name == "raw":
                continue
            value = body.get(item.name)
            values[item.name] = _date(value) if item.name.startswith("date_") else value
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Plugin(Resource):
    sid: str
    account_sid: str
    unique_name: str
    friendly_name: str | None
    description: str | None
    archived: bool
    date_created: datetime
    date_updated: datetime | None
    url: str


@dataclass(frozen=True, slots=True)
class PluginVersion(Resource):
    sid: str
    plugin_sid: str
    account_sid: str
    version: str
    plugin_url: str
    changelog: str | None
    private: bool
    archived: bool
    date_created: datetime
    url: str


@dataclass(frozen=True, slots=True)
class Configuration(Resource):
    sid: str
    account_sid: str
    name: str
    description: str | None
    archived: bool
    date_created: datetime
    url: str


@dataclass(frozen=True, slots=True)
class ConfiguredPlugin(Resource):
    configuration_sid: str
    plugin_sid: str
    plugin_version_sid: str
    unique_name: str
    friendly_name: str | None
    version: str
    plugin_url: str
    phase: int
    private: bool
    plugin_archived: bool
    plugin_version_archived: bool
    changelog: str | None
    date_created: datetime


@dataclass(frozen=True, slots=True)
class Release(Resource):
    sid: str
    account_sid: str
    configuration_sid: str
    date_created: datetime
    url: str


def integrity_of(data: bytes) -> str:
    """The Subresource Integrity value (`sha384-...`) of these bytes, as the bundle store computes it."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def bundle_location(url: str) -> tuple[str, str] | None:
    """(account SID, SHA-256) when `url` names a bundle of a flexplugins bundle store (any host,
    any spelling): the server's own reading of the URL (domain/bundles.py), not a match of its own."""
    return bundle_key(url)


def etag_of(release: Release | None) -> str:
    """The If-Match value that holds a write to `release` still being the active one (None: none yet)."""
    return '"none"' if release is None else f'"{release.sid}"'


@dataclass(frozen=True, slots=True)
class DeltaRelease:
    """The answer of a delta release: what is active now, and what changed (if `changed`)."""

    release: Release | None
    configuration: Configuration | None
    changes: list[dict[str, Any]]
    changed: bool


@dataclass(frozen=True, slots=True)
class AuditEvent(Resource):
    account_sid: str
    credential_sid: str
    action: str
    resource_sid: str
    flex_metadata: str | None
    date_created: datetime


@dataclass(frozen=True, slots=True)
class Bundle(Resource):
    sha256: str
    size: int
    integrity: str
    content_type: str
    url: str
    private: bool | None = None  # None from a server older than the upload's Private flag


@dataclass(frozen=True, slots=True)
class PluginRef:
    """An entry of a new configuration: a plugin version SID and its load phase (None: server default)."""

    plugin_version_sid: str
    phase: int | None = None

    def to_form(self) -> str:
        entry: dict[str, Any] = {"plugin_version": self.plugin_version_sid}
        if self.phase is not None:
            entry["phase"] = self.phase
        return json.dumps(entry)


Progress = Callable[[int, int], None]


class _TransportPerScheme(httpx.BaseTransport):
    """httpx's own transport, made on the first request of each scheme. httpx builds its default
    transport's TLS context up front, loading the CA bundle (about a tenth of a command line run's
    CPU); a plain-HTTP server, the usual local one, never needs it. HTTPS is verified as by default."""

    def __init__(self) -> None:
        self._transports: dict[str, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        transport = self._transports.get(scheme)
        if transport is None:
            # No TLS ever happens on a plain-HTTP pool: it needs no CA bundle. Two threads making
            # the first request at once keep one transport (the other has opened nothing).
            made = httpx.HTTPTransport(verify=scheme != "http")
            transport = self._transports.setdefault(scheme, made)
        return transport.handle_request(request)

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()


class Client:
    """One connection to a flexplugins server, authenticated as an account or with an API key.

    `username` is the account SID or an API key SID, `password` the auth token or the key's secret.
    `metadata` is sent as the Flex-Metadata header of every call, so the audit trail shows the tool.
    """

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        metadata: str | None = None,
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self.page_size = page_size
        headers = {"User-Agent": f"flexplugins-client/{__version__}"}
        headers["Flex-Metadata"] = metadata or f"flexplugins-client/{__version__}"
        self._http = httpx.Client(
            base_url=self.url,
            auth=(username, password),
            headers=headers,
            timeout=timeout,
            transport=transport or _TransportPerScheme(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # --- transport ------------------------------------------------------------------------

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **options)
        except httpx.TimeoutException:
            raise FlexPluginsError(f"The server at {self.url} did not answer in time") from None
        except httpx.TransportError as error:
            raise FlexPluginsError(f"Cannot reach the server at {self.url}: {error}") from None
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    def _json(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        response = self._request(method, path, **options)
        try:
            body = response.json()
        except ValueError:
            raise FlexPluginsError(
                f"The server at {self.url} did not answer with JSON; is it a flexplugins server?",
                status=response.status_code,
            ) from None
        if not isinstance(body, dict):
            raise FlexPluginsError(f"Unexpected answer from {self.url}{path}", status=response.status_code)
        return body

    def _pages(self, path: str, key: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list, following meta.next_page_url (newest first)."""
        url: str | None = path
        query: dict[str, str] | None = {"PageSize": str(self.page_size), **(params or {})}
        while url:
            body = self._json("GET", url, params=query)
            yield from body.get(key) or []
            url = (body.get("meta") or {}).get("next_page_url")
            query = None  # the next page URL carries its own query

    def offers(self, path: str) -> bool:
        """Whether the server has an endpoint at `path` (anything but a 404 to a GET of it).

        Tells a flexplugins server with its extensions from the vendor's service, or one with
        them switched off, which answer 404 for every path outside the Plugin Service.
        """
        try:
            self._request("GET", path, params={"PageSize": "1"})
        except FlexPluginsError as error:
            if error.status == 404:
                return False
            if error.status == 0:
                raise
        return True

    def verify(self) -> None:
        """Check that the server answers and accepts the credentials (one small read)."""
        self._json("GET", f"{API}/Releases", params={"PageSize": "1"})

    # --- plugins --------------------------------------------------------------------------

    def create_plugin(
        self, unique_name: str, friendly_name: str | None = None, description: str | None = None
    ) -> Plugin:
        form = _form(UniqueName=unique_name, FriendlyName=friendly_name, Description=description)
        return Plugin.from_json(self._json("POST", f"{API}/Plugins", data=form))

    def fetch_plugin(self, plugin: str) -> Plugin:
        """A plugin by SID or unique name."""
        return Plugin.from_json(self._json("GET", f"{API}/Plugins/{_seg(plugin)}"))

    def find_plugin(self, plugin: str) -> Plugin | None:
        """fetch_plugin, but None when there is no such plugin."""
        try:
            return self.fetch_plugin(plugin)
        except FlexPluginsError as error:
            if error.status == 404:
                return None
            raise

    def update_plugin(
        self, plugin: str, friendly_name: str | None = None, description: str | None = None
    ) -> Plugin:
        form = _form(FriendlyName=friendly_name, Description=description)
        return Plugin.from_json(self._json("POST", f"{API}/Plugins/{_seg(plugin)}", data=form))

    def archive_plugin(self, plugin: str) -> Plugin:
        return Plugin.from_json(self._json("POST", f"{API}/Plugins/{_seg(plugin)}/Archive"))

    def list_plugins(self) -> list[Plugin]:
        return [Plugin.from_json(item) for item in self._pages(f"{API}/Plugins", "plugins")]

    # --- plugin versions ------------------------------------------------------------------

    def create_version(
        self,
        plugin: str,
        version: str,
        plugin_url: str,
        *,
        changelog: str | None = None,
        private: bool = False,
        cli_version: str | None = None,
        validate_status: str | None = None,
    ) -> PluginVersion:
        form = _form(
            Version=version,
            PluginUrl=plugin_url,
            Changelog=changelog,
            Private="true" if private else "false",
            CliVersion=cli_version,
            ValidateStatus=validate_status,
        )
        path = f"{API}/Plugins/{_seg(plugin)}/Versions"
        return PluginVersion.from_json(self._json("POST", path, data=form))

    def fetch_version(self, plugin: str, version: str) -> PluginVersion:
        """A version by plugin SID or unique name, and version SID or version string."""
        path = f"{API}/Plugins/{_seg(plugin)}/Versions/{_seg(version)}"
        return PluginVersion.from_json(self._json("GET", path))

    def archive_version(self, plugin: str, version: str) -> PluginVersion:
        path = f"{API}/Plugins/{_seg(plugin)}/Versions/{_seg(version)}/Archive"
        return PluginVersion.from_json(self._json("POST", path))

    def list_versions(self, plugin: str) -> list[PluginVersion]:
        """The versions of a plugin, newest first."""
        path = f"{API}/Plugins/{_seg(plugin)}/Versions"
        return [PluginVersion.from_json(item) for item in self._pages(path, "plugin_versions")]

    # --- configurations -------------------------------------------------------------------

    def create_configuration(
        self, name: str, plugins: Sequence[PluginRef], description: str | None = None
    ) -> Configuration:
        form: dict[str, Any] = _form(Name=name, Description=description)
        form["Plugins"] = [ref.to_form() for ref in plugins]
        return Configuration.from_json(self._json("POST", f"{API}/Configurations", data=form))

    def fetch_configuration(self, configuration_sid: str) -> Configuration:
        return Configuration.from_json(self._json("GET", f"{API}/Configurations/{_seg(configuration_sid)}"))

    def archive_configuration(self, configuration_sid: str) -> Configuration:
        path = f"{API}/Configurations/{_seg(configuration_sid)}/Archive"
        return Configuration.from_json(self._json("POST", path))

    def list_configurations(self) -> list[Configuration]:
        items = self._pages(f"{API}/Configurations", "configurations")
        return [Configuration.from_json(item) for item in items]

    def list_configured_plugins(self, configuration_sid: str) -> list[ConfiguredPlugin]:
        """The plugins of a configuration, in its load order."""
        path = f"{API}/Configurations/{_seg(configuration_sid)}/Plugins"
        return [ConfiguredPlugin.from_json(item) for item in self._pages(path, "plugins")]

    def fetch_configured_plugin(self, configuration_sid: str, plugin_sid: str) -> ConfiguredPlugin:
        path = f"{API}/Configurations/{_seg(configuration_sid)}/Plugins/{_seg(plugin_sid)}"
        return ConfiguredPlugin.from_json(self._json("GET", path))

    # --- releases -------------------------------------------------------------------------

    def create_release(self, configuration_sid: str, *, if_match: str | None = None) -> Release:
        """Release a configuration; with `if_match` (see `etag_of`), only if that release is still active."""
        form = _form(ConfigurationId=configuration_sid)
        headers = {"If-Match": if_match} if if_match else None
        return Release.from_json(self._json("POST", f"{API}/Releases", data=form, headers=headers))

    def delta_release(
        self,
        enable: Sequence[str] = (),
        disable: Sequence[str] = (),
        *,
        name: str | None = None,
        description: str | None = None,
        if_match: str | None = None,
    ) -> DeltaRelease:
        """Enable (`name@version`, `name@latest`) and disable plugins on top of the active release, in one
        transaction on the server; nothing is created when that changes nothing."""
        form: dict[str, Any] = _form(Name=name, Description=description)
        form["Enable"] = list(enable)
        form["Disable"] = list(disable)
        headers = {"If-Match": if_match} if if_match else None
        body = self._json("POST", DELTA_RELEASES, data=form, headers=headers)
        return DeltaRelease(
            release=None if body.get("release") is None else Release.from_json(body["release"]),
            configuration=(
                None if body.get("configuration") is None else Configuration.from_json(body["configuration"])
            ),
            changes=list(body.get("changes") or []),
            changed=bool(body.get("changed")),
        )

    def fetch_release(self, release_sid: str) -> Release:
        """A release by SID, or the active one with "Active"."""
        return Release.from_json(self._json("GET", f"{API}/Releases/{_seg(release_sid)}"))

    def active_release(self) -> Release | None:
        try:
            return self.fetch_release(ACTIVE)
        except FlexPluginsError as error:
            if error.status == 404:
                return None
            raise

    def list_releases(self) -> list[Release]:
        """Every release, newest (the active one) first."""
        return [Release.from_json(item) for item in self._pages(f"{API}/Releases", "releases")]

    def iter_releases(self) -> Iterator[Release]:
        return (Release.from_json(item) for item in self._pages(f"{API}/Releases", "releases"))

    def runtime_manifest(self) -> dict[str, Any]:
        """What host applications load: the active release's plugins with their integrity values."""
        return self._json("GET", RUNTIME_MANIFEST)

    # --- audit trail ----------------------------------------------------------------------

    def iter_audit_events(self, resource_sid: str | None = None) -> Iterator[AuditEvent]:
        """The account's audit trail, newest first, fetched page by page as it is consumed."""
        params = {"ResourceSid": resource_sid} if resource_sid else None
        return (AuditEvent.from_json(item) for item in self._pages(AUDIT_EVENTS, "audit_events", params))

    # --- bundles --------------------------------------------------------------------------

    def upload_bundle(
        self,
        data: bytes,
        *,
        content_type: str = "application/javascript",
        progress: Progress | None = None,
        private: bool = False,
    ) -> Bundle:
        """Store a JavaScript bundle on the server; `progress(sent, total)` is called as bytes go out.

        `private` makes it private from the start: served only to the account's callers, even
        before a private version names it.
        """
        total = len(data)

        def chunks() -> Iterator[bytes]:
            for start in range(0, total, CHUNK):
                piece = data[start : start + CHUNK]
                yield piece
                if progress is not None:
                    progress(start + len(piece), total)

        headers = {"Content-Type": content_type, "Content-Length": str(total)}
        params = {"Private": "true"} if private else None
        content = chunks() if total else data
        body = self._json("POST", BUNDLES, content=content, headers=headers, params=params)
        return Bundle.from_json(body)

    def fetch_bundle(self, url: str) -> bytes:
        """The bytes at a bundle URL. Credentials (which private bundles need) go only to this server's
        origin, however its URL is written (case, default port, query string)."""
        if url.startswith(("http://", "https://")) and origin_of(url) != origin_of(self.url):
            return self._request("GET", url, auth=None).content
        return self._request("GET", url).content


def _seg(value: str) -> str:
    return quote(value, safe="")


def _form(**values: str | None) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _error_of(response: httpx.Response) -> FlexPluginsError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        code = body.get("code")
        return FlexPluginsError(
            str(body["message"]),
            code=code if isinstance(code, int) else None,
            status=int(body.get("status") or response.status_code),
            more_info=body.get("more_info"),
        )
    return FlexPluginsError(
        f"HTTP {response.status_code} from {response.request.url} (not a flexplugins answer)",
        status=response.status_code,
    )
