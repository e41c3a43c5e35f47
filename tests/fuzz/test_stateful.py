"""A stateful schemathesis run over the vendor's OpenAPI file: create, then fetch, list, archive and
release what was created (links inferred from the schema), with a fixed seed and a bounded number of
examples. Checks: no 5xx, and every 2xx body matches its schema with every documented property.
"""

from __future__ import annotations

import copy
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import Credentials, LiveServer
from tests.openapi import assert_valid, spec

# The vendor's file declares no OpenAPI links; these say what its clients do with a created resource.
LINKS: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "CreatePlugin": {
        "fetch": ("FetchPlugin", {"Sid": "$response.body#/sid"}),
        "update": ("UpdatePlugin", {"Sid": "$response.body#/sid"}),
        "archive": ("UpdatePluginArchive", {"Sid": "$response.body#/sid"}),
        "version": ("CreatePluginVersion", {"PluginSid": "$response.body#/sid"}),
        "versions": ("ListPluginVersion", {"PluginSid": "$response.body#/sid"}),
    },
    "CreatePluginVersion": {
        "fetch": (
            "FetchPluginVersion",
            {"PluginSid": "$response.body#/plugin_sid", "Sid": "$response.body#/sid"},
        ),
        "archive": (
            "UpdatePluginVersionArchive",
            {"PluginSid": "$response.body#/plugin_sid", "Sid": "$response.body#/sid"},
        ),
    },
    "CreatePluginConfiguration": {
        "fetch": ("FetchPluginConfiguration", {"Sid": "$response.body#/sid"}),
        "plugins": ("ListConfiguredPlugin", {"ConfigurationSid": "$response.body#/sid"}),
        "archive": ("UpdatePluginConfigurationArchive", {"Sid": "$response.body#/sid"}),
        "release": ("CreatePluginRelease", {}),
    },
    "CreatePluginRelease": {"fetch": ("FetchPluginRelease", {"Sid": "$response.body#/sid"})},
}


def linked_spec() -> dict[str, Any]:
    document = copy.deepcopy(spec())
    for methods in document["paths"].values():
        for operation in methods.values():
            if not isinstance(operation, dict) or operation.get("operationId") not in LINKS:
                continue
            links = LINKS[operation["operationId"]]
            operation["responses"]["201"]["links"] = {
                name: {"operationId": target, "parameters": parameters}
                for name, (target, parameters) in links.items()
            }
            if operation["operationId"] == "CreatePluginConfiguration":
                release = operation["responses"]["201"]["links"]["release"]
                release["requestBody"] = {"ConfigurationId": "$response.body#/sid"}
    return document


SEED_SETTINGS = hypothesis.settings(
    max_examples=40,
    stateful_step_count=8,
    derandomize=True,  # a fixed seed: the same run every time
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


def test_stateful_run_over_the_vendor_openapi(server: LiveServer, account: Credentials) -> None:
    schema = schemathesis.openapi.from_dict(linked_spec())
    schema.config.update(base_url=server.url, basic_auth=(account.sid, account.token))
    schema.config.generation.update(modes=[GenerationMode.POSITIVE], with_security_parameters=False)
    machine = schema.as_state_machine()
    seen: dict[str, int] = {}

    class Run(machine):  # type: ignore[misc,valid-type]
        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            operation_id = case.operation.definition.raw.get("operationId")
            key = f"{operation_id} {response.status_code}"
            seen[key] = seen.get(key, 0) + 1
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            if 200 <= response.status_code < 300:
                assert_valid(operation_id, response.status_code, response.json())

    Run.run(settings=SEED_SETTINGS)
    created = [key for key in seen if key.startswith("Create") and key.endswith(" 201")]
    if not created:
        pytest.fail(f"the run never created anything: {seen}")
