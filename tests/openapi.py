"""Response validation against the vendor's OpenAPI files, with every documented property required.

The Plugin Service's file is the default; the Flex Configuration, Serverless and 2010 Accounts
files (the other APIs the vendor's CLI calls) are named by their constants below."""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SPEC_NAME = "twilio_flex_v1_pluginservice.openapi.json"
CONFIGURATION_SPEC = "twilio_flex_v1_configuration.openapi.json"
SERVERLESS_SPEC = "twilio_serverless_v1.openapi.json"
ACCOUNTS_SPEC = "twilio_api_v2010_accounts.openapi.json"


def _find_spec(name: str = SPEC_NAME) -> Path:
    """The vendor's published OpenAPI file for the Plugin Service (the contract).

    FLEXPLUGINS_OPENAPI names it; otherwise it is the copy in `shared/reference/` beside this
    checkout or beside any folder above it (CI may check the project out deeper), and finally the
    workplace's own copy under /work/shared.
    """
    given = os.environ.get("FLEXPLUGINS_OPENAPI")
    if given:
        # The other files are looked for beside the one named.
        return Path(given) if name == SPEC_NAME else Path(given).with_name(name)
    here = Path(__file__).resolve()
    candidates = [parent / "shared" / "reference" / name for parent in here.parents]
    candidates.append(Path("/work/shared/reference") / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{name} not found in shared/reference/ beside the checkout or above it; "
        "set FLEXPLUGINS_OPENAPI to its path"
    )


SPEC_PATH = _find_spec()


@cache
def spec(name: str = SPEC_NAME) -> dict[str, Any]:
    path = SPEC_PATH if name == SPEC_NAME else _find_spec(name)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _strict(schema: Any, components: dict[str, Any]) -> Any:
    """Resolve $refs, require every property, turn `nullable` into a JSON Schema type union."""
    if isinstance(schema, list):
        return [_strict(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _strict(copy.deepcopy(components[name]), components)
    out = {
        k: _strict(v, components) for k, v in schema.items() if k not in ("nullable", "x-twilio", "format")
    }
    if schema.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in out:
        out["required"] = sorted(out["properties"])
        out["additionalProperties"] = False
    return out


def response_schema(operation_id: str, status: int, spec_name: str = SPEC_NAME) -> dict[str, Any]:
    doc = spec(spec_name)
    for methods in doc["paths"].values():
        for operation in methods.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                content = operation["responses"][str(status)]["content"]["application/json"]
                return _strict(content["schema"], doc["components"]["schemas"])  # type: ignore[no-any-return]
    raise KeyError(operation_id)


def assert_valid(operation_id: str, status: int, body: Any, spec_name: str = SPEC_NAME) -> None:
    jsonschema.validate(body, response_schema(operation_id, status, spec_name))


ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string", "minLength": 1},
        "more_info": {"type": "string", "pattern": "^https://www.twilio.com/docs/errors/[0-9]+$"},
        "status": {"type": "integer"},
    },
    "additionalProperties": False,
}


def assert_error(response: Any, status: int, code: int) -> dict[str, Any]:
    """The response is the vendor's error JSON with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    assert body["status"] == status and body["code"] == code, body
    return body  # type: ignore[no-any-return]


def operation_for(method: str, path: str, spec_name: str = SPEC_NAME) -> str | None:
    """The operationId of the vendor operation this request path matches, if any."""
    import re

    for template, methods in spec(spec_name)["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in methods:
            # A literal segment beats a parameter (e.g. .../Archive vs .../{Sid}); check exact arity.
            return str(methods[method.lower()]["operationId"])
    return None


def assert_valid_response(method: str, path: str, status: int, body: Any, spec_name: str = SPEC_NAME) -> str:
    """Validate a raw response of a vendor operation against its documented schema."""
    operation = operation_for(method, path, spec_name)
    assert operation is not None, f"{method} {path} is not a vendor operation"
    if status >= 400:
        jsonschema.validate(body, ERROR_SCHEMA)
    elif status != 204:
        assert_valid(operation, status, body, spec_name)
    return operation
