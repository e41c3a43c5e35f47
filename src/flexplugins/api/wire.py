"""The vendor's wire format: form bodies, JSON responses, error JSON, dates and list `meta`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response

from ..domain.errors import ApiError, forbidden, headers_too_large, invalid, too_large, unsupported_media
from ..domain.model import Page
from ..origins import origin_of
from ..storage.paging import Cursor

MORE_INFO = "https://www.twilio.com/docs/errors/"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# Page x PageSize is an OFFSET in SQL: kept within a signed 32-bit integer, as every database takes.
MAX_OFFSET = 2**31 - 1
MAX_METADATA = 1024
# The HTTP server (httptools) sets no limit on request headers; the vendor's clients send a few hundred bytes.
MAX_HEADER_BYTES = 32 * 1024


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"{MORE_INFO}{code}", "status": status}


def error_response(error: ApiError) -> Response:
    return json_response(error_body(error.status, error.code, error.message), error.status)


def date(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with `Z`, to the second (naive values are UTC already)."""
    if value is None:
        return None
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


# Set in the ASGI scope by api/vendor_hosts.py when a request came in on one of the vendor's hosts.
VENDOR_HOST = "flexplugins.vendor_host"


def base_url(request: Request) -> str:
    """Scheme and host for absolute URLs: the vendor's own host when the request came in on it
    (through the vendor proxy, which the vendor's CLI cannot avoid), else the configured public
    URL, else the request's own."""
    vendor: str | None = request.scope.get(VENDOR_HOST)
    if vendor is not None:
        return "https://" + vendor
    public: str | None = request.app.state.settings.public_url
    if public:
        return public.rstrip("/")
    host = request.headers.get("host")
    if not host:
        server = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{request.scope['scheme']}://{host}"


def api_base(request: Request, internal_prefix: str) -> str:
    """The base of one vendor API's URLs: `https://<vendor host>` on its own host, else our base
    followed by the prefix the API is mounted under here (`/serverless` for `/serverless/v1/...`)."""
    if request.scope.get(VENDOR_HOST) is not None:
        return base_url(request)
    return base_url(request) + internal_prefix


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_request(request: Request) -> None:
    """Refuse what no operation can serve: oversized headers, a NUL in the path (no identifier holds
    one), and a write sent by a browser page of another site."""
    scope = request.scope
    size = sum(len(name) + len(value) for name, value in scope["headers"])
    if size > MAX_HEADER_BYTES:
        raise headers_too_large(f"The request headers are larger than the limit of {MAX_HEADER_BYTES} bytes")
    if "\x00" in scope["path"]:
        raise invalid("The request path must not contain NUL characters")
    if scope["method"] not in _SAFE_METHODS:
        check_origin(request)


def check_origin(request: Request) -> None:
    """A write whose Origin names another site is refused (403) before its credentials are used.

    Browsers send Origin with every cross-site POST, and attach Basic credentials they cached
    from an earlier prompt; the vendor's clients send no Origin. The server's own origin (its
    public URL, else the request's scheme and Host) and FLEXPLUGINS_ALLOWED_ORIGINS pass.
    """
    sent = request.headers.get("origin")
    if sent is None:
        return
    origin = origin_of(sent)
    own = origin_of(base_url(request))
    allowed: tuple[str, ...] = request.app.state.settings.allowed_origins
    if origin == own or origin in allowed or "*" in allowed:
        return
    raise forbidden(
        f"Writes from a web page of another site are refused: Origin {sent[:200]!r} is neither this "
        f"server's ({own}) nor listed in FLEXPLUGINS_ALLOWED_ORIGINS"
    )


def flex_metadata(request: Request) -> str | None:
    value = request.headers.get("flex-metadata")
    return None if value is None else value[:MAX_METADATA]


class Form:
    """A parsed application/x-www-form-urlencoded body; fields may repeat."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._fields: dict[str, list[str]] = {}
        for key, value in pairs:
            self._fields.setdefault(key, []).append(value)

    def get(self, name: str) -> str | None:
        values = self._fields.get(name)
        return values[0] if values else None

    def get_all(self, name: str) -> list[str]:
        return self._fields.get(name, [])


async def read_body(request: Request, limit: int, what: str = "The request body") -> bytes:
    """The whole body, refused with a 413 as soon as it is known to pass `limit` bytes."""
    refused = too_large(f"{what} is larger than the limit of {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise refused
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise refused
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request) -> Form:
    limit: int = request.app.state.settings.max_body_bytes
    body = await read_body(request, limit)
    if not body:
        return Form([])
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("", "application/x-www-form-urlencoded"):
        raise unsupported_media(
            f"Request bodies must be application/x-www-form-urlencoded (got {content_type!r})"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("The request body is not valid UTF-8") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=10_000)
    except (ValueError, UnicodeDecodeError):
        raise invalid("The request body is not a valid form (application/x-www-form-urlencoded)") from None
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise invalid(f"Parameter {key.replace(chr(0), '')!r} must not contain NUL characters")
    return Form(pairs)


@dataclass(frozen=True, slots=True)
class Upload:
    """One file part of a multipart body."""

    filename: str | None
    content_type: str | None
    data: bytes


async def read_multipart(
    request: Request, limit: int, max_fields: int = 20
) -> tuple[Form, dict[str, Upload]]:
    """A multipart/form-data body of at most `limit` bytes: its plain fields and its files (the
    last of each name). The body is read, bounded, before it is parsed, with Starlette's parser."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise unsupported_media(f"The request body must be multipart/form-data (got {media or 'none'!r})")
    body = await read_body(request, limit)

    async def replay() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        request.headers, replay(), max_files=max_fields, max_fields=max_fields, max_part_size=64 * 1024
    )
    try:
        parsed = await parser.parse()
    except MultiPartException as error:
        raise invalid(f"The multipart body is not valid: {error.message}") from None
    pairs: list[tuple[str, str]] = []
    files: dict[str, Upload] = {}
    try:
        for key, value in parsed.multi_items():
            if isinstance(value, str):
                if "\x00" in key or "\x00" in value:
                    raise invalid(f"Parameter {key.replace(chr(0), '')!r} must not contain NUL characters")
                pairs.append((key, value))
            else:
                files[key] = Upload(value.filename, value.content_type, await value.read())
    finally:
        await parsed.close()
    return Form(pairs), files


# --- Lists ----------------------------------------------------------------------------------


class PageRequest:
    """PageSize, Page and PageToken of a list request, validated."""

    __slots__ = ("size", "page", "cursor", "token")

    def __init__(self, size: int, page: int, cursor: Cursor | None, token: str | None) -> None:
        self.size = size
        self.page = page
        self.cursor = cursor
        self.token = token


def _int_param(name: str, raw: str, low: int, high: int) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise invalid(f"{name} must be an integer from {low} to {high} (got {raw!r})")
    value = int(raw)
    if not low <= value <= high:
        raise invalid(f"{name} must be an integer from {low} to {high} (got {raw!r})")
    return value


class PageTokens:
    """Signed page tokens: they name the list (and its account and scope) they belong to."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _mac(self, payload: bytes) -> str:
        digest = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def make(self, scope: str, direction: str, value: int) -> str:
        payload = f"{scope}|{direction}|{value}".encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._mac(payload)}"

    def read(self, scope: str, token: str) -> Cursor:
        refused = invalid("PageToken is not valid for this list; use the next_page_url the API returned")
        try:
            body, mac = token.split(".", 1)
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            raise refused from None
        # One spelling per token: base64's unused trailing bits must not let an edited token pass.
        if base64.urlsafe_b64encode(payload).decode().rstrip("=") != body:
            raise refused
        if not hmac.compare_digest(self._mac(payload), mac):
            raise refused
        parts = payload.decode(errors="replace").split("|")
        if len(parts) != 3 or parts[0] != scope or parts[1] not in ("after", "before"):
            raise refused
        try:
            value = int(parts[2])
        except ValueError:
            raise refused from None
        return Cursor(parts[1], value)  # type: ignore[arg-type]


# Pages larger than this are built in the thread pool: a 1,000-item page takes milliseconds to
# query and render, which on the event loop would hold up every other request. Small pages, the
# hot reads, stay on the loop (no thread hop).
LARGE_PAGE = 100


async def build_list(paging: PageRequest, build: Callable[[], Response]) -> Response:
    """Run a list endpoint's queries and rendering: on the loop for a small page, else in a thread."""
    if paging.size > LARGE_PAGE:
        return await run_in_threadpool(build)
    return build()


def page_request(request: Request, scope: str) -> PageRequest:
    query = request.query_params
    raw_size = query.get("PageSize")
    size = DEFAULT_PAGE_SIZE if raw_size is None else _int_param("PageSize", raw_size, 1, MAX_PAGE_SIZE)
    raw_page = query.get("Page")
    page = 0 if raw_page is None else _int_param("Page", raw_page, 0, 100_000_000)
    token = query.get("PageToken")
    cursor: Cursor | None = None
    if token:
        tokens: PageTokens = request.app.state.page_tokens
        cursor = tokens.read(scope, token)
    elif page > 0:
        if page * size > MAX_OFFSET:
            raise invalid(
                f"Page x PageSize must be at most {MAX_OFFSET} (got {page} x {size}); "
                "follow next_page_url (its PageToken) to go further"
            )
        cursor = Cursor("offset", page * size)
    return PageRequest(size, page, cursor, token or None)


def list_body(
    request: Request,
    path: str,
    key: str,
    scope: str,
    paging: PageRequest,
    page: Page[Any],
    items: list[dict[str, Any]],
    base: str | None = None,
) -> dict[str, Any]:
    """The list envelope: the items under `key` and the vendor's `meta` with absolute page URLs
    (at `base` + `path`; `base` is base_url unless given)."""
    base = (base_url(request) if base is None else base) + path
    tokens: PageTokens = request.app.state.page_tokens

    # Our tokens are URL-safe base64 and a dot; only a token the client sent needs quoting.
    def url(page_index: int, token: str | None) -> str:
        if token:
            return f"{base}?PageSize={paging.size}&Page={page_index}&PageToken={token}"
        return f"{base}?PageSize={paging.size}&Page={page_index}"

    next_url = None
    if page.has_next and page.last_key is not None:
        next_url = url(paging.page + 1, tokens.make(scope, "after", page.last_key))
    previous_url = None
    # The toolkit follows next_page_url with its PageToken only (no Page), so a token alone also
    # means there is a page before this one.
    if page.has_previous and (paging.page > 0 or paging.token):
        previous_index = max(paging.page - 1, 0)
        if page.first_key is not None:
            previous_url = url(previous_index, tokens.make(scope, "before", page.first_key))
        else:
            previous_url = url(previous_index, None)
    return {
        key: items,
        "meta": {
            "page": paging.page,
            "page_size": paging.size,
            "first_page_url": url(0, None),
            "previous_page_url": previous_url,
            "url": url(paging.page, quote(paging.token, safe="") if paging.token else None),
            "next_page_url": next_url,
            "key": key,
        },
    }
