"""Response validation against the vendor's OpenAPI files, with every documented property required.

The contract is the vendor's own: the OpenAPI files that ship inside the `@twilio/cli-core` npm
package, from which twilio-cli builds its `twilio api:*` commands. twilio-cli 6.2.4 depends on exactly
`@twilio/cli-core` 8.3.2, and tests/compat/vendor_cli/ installs it from a committed lock file (the
README's test command runs that install), so every machine that runs the suite has the same files and
none is looked for outside the checkout.

The Plugin Service is the default document; the Flex Configuration, Serverless and 2010 Accounts
documents (the other APIs the vendor's CLI calls) are named by their constants below."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CLI_CORE_VERSION = "8.3.2"
VENDOR_CLI = Path(__file__).resolve().parent / "compat" / "vendor_cli"

SPEC_NAME = "plugin-service"
CONFIGURATION_SPEC = "flex-configuration"
SERVERLESS_SPEC = "serverless"
ACCOUNTS_SPEC = "accounts"

# Each document: the file of cli-core it is read from, and the paths of that file it keeps (all when
# empty). The Plugin Service and the Configuration resource share the Flex v1 file.
DOCUMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    SPEC_NAME: ("twilio_flex_v1.json", ("/v1/PluginService/",)),
    CONFIGURATION_SPEC: ("twilio_flex_v1.json", ("/v1/Configuration",)),
    SERVERLESS_SPEC: ("twilio_serverless_v1.json", ()),
    ACCOUNTS_SPEC: ("twilio_api_v2010.json", ("/2010-04-01/Accounts/{Sid}.json",)),
}


def cli_core_dir() -> Path:
    """Where twilio-cli's own `@twilio/cli-core` is installed, found as Node resolves it from
    twilio-cli: its nested node_modules first, then the hoisted one."""
    twilio_cli = VENDOR_CLI / "node_modules" / "twilio-cli"
    for base in (twilio_cli, VENDOR_CLI):
        candidate = base / "node_modules" / "@twilio" / "cli-core"
        if (candidate / "package.json").is_file():
            version = json.loads((candidate / "package.json").read_text())["version"]
            if version != CLI_CORE_VERSION:
                raise RuntimeError(
                    f"{candidate} is @twilio/cli-core {version}, not the pinned {CLI_CORE_VERSION}: "
                    "run tests/compat/vendor_cli/install"
                )
            return candidate
    raise FileNotFoundError(
        f"@twilio/cli-core is not installed under {VENDOR_CLI / 'node_modules'}: "
        "run tests/compat/vendor_cli/install (the README's test command does)"
    )


@cache
def _file(name: str) -> dict[str, Any]:
    return json.loads((cli_core_dir() / "src" / "services" / "twilio-api" / name).read_text())  # type: ignore[no-any-return]


@cache
def spec(name: str = SPEC_NAME) -> dict[str, Any]:
    """One vendor document: the file's paths narrowed to this API's, its components whole."""
    file_name, prefixes = DOCUMENTS[name]
    document = copy.deepcopy(_file(file_name))
    if prefixes:
        document["paths"] = {
            path: item for path, item in document["paths"].items() if path.startswith(prefixes)
        }
    if not document["paths"]:
        raise KeyError(f"{file_name} of @twilio/cli-core has no paths under {prefixes}")
    return document


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
