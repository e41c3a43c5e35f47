"""The one error type of the service, carrying the vendor's error code and HTTP status.

Codes follow the vendor: 20001 for a missing or invalid parameter, 20003 for authentication,
20404 for a resource that does not exist, 20409 for a conflict with existing state (a duplicate),
20429 for too many requests, 20500 for an unexpected failure and 20503 when the database is
unavailable. 20413 (payload too large), 20415 (unsupported media type) and 20431 (request
headers too large) follow the same scheme for HTTP statuses the vendor documents no code for.
"""

from __future__ import annotations


class ApiError(Exception):
    """A refusal the client should see: rendered by the HTTP layer as the vendor's error JSON."""

    def __init__(self, status: int, code: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        # Seconds the client should wait before trying again (sent as Retry-After), when known.
        self.retry_after = retry_after


def invalid(message: str) -> ApiError:
    return ApiError(400, 20001, message)


def missing(param: str) -> ApiError:
    return ApiError(400, 20001, f"Missing required parameter {param} in the post body")


def not_found(message: str) -> ApiError:
    return ApiError(404, 20404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, 20409, message)


def unauthenticated(message: str = "Authentication Error - invalid username or password") -> ApiError:
    return ApiError(401, 20003, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, 20403, message)


def too_large(message: str) -> ApiError:
    return ApiError(413, 20413, message)


def headers_too_large(message: str) -> ApiError:
    return ApiError(431, 20431, message)


def unsupported_media(message: str) -> ApiError:
    return ApiError(415, 20415, message)


def too_many_requests(message: str = "Too many requests", retry_after: int | None = None) -> ApiError:
    return ApiError(429, 20429, message, retry_after)


def unavailable(message: str = "The database is unavailable; try again shortly") -> ApiError:
    return ApiError(503, 20503, message)
