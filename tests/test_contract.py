"""The contract the suite validates against is the vendor's own, read from the checkout: the OpenAPI
files of the pinned `@twilio/cli-core`, narrowed to the APIs flexplugins serves."""

from __future__ import annotations

import json

from tests import openapi


def _operations(document: dict[str, object]) -> set[str]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {
        operation["operationId"]
        for item in paths.values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def test_the_files_come_from_the_pinned_cli_core_inside_the_checkout() -> None:
    where = openapi.cli_core_dir()
    checkout = openapi.VENDOR_CLI.parents[2]
    assert where.is_relative_to(checkout), where
    assert json.loads((where / "package.json").read_text())["version"] == openapi.CLI_CORE_VERSION


def test_the_plugin_service_document_holds_its_13_paths_and_18_operations_only() -> None:
    document = openapi.spec()
    assert len(document["paths"]) == 13
    assert all(path.startswith("/v1/PluginService/") for path in document["paths"])
    operations = _operations(document)
    assert len(operations) == 18
    assert {"CreatePlugin", "ListPluginVersion", "CreatePluginRelease", "FetchPluginRelease"} <= operations


def test_the_other_documents_hold_what_the_vendor_cli_calls() -> None:
    configuration = openapi.spec(openapi.CONFIGURATION_SPEC)
    assert list(configuration["paths"]) == ["/v1/Configuration"]
    assert "FetchConfiguration" in _operations(configuration)
    assert list(openapi.spec(openapi.ACCOUNTS_SPEC)["paths"]) == ["/2010-04-01/Accounts/{Sid}.json"]
    serverless = _operations(openapi.spec(openapi.SERVERLESS_SPEC))
    assert {"CreateService", "CreateBuild", "CreateDeployment", "FetchBuildStatus"} <= serverless


def test_a_schema_requires_every_documented_property() -> None:
    schema = openapi.response_schema("FetchPlugin", 200)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"]) >= {"sid", "unique_name", "url"}
