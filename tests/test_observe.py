"""Request IDs, metrics and the error log (api/observe.py, metrics.py) on a real server and database.

Metrics live in the test process (the in-process servers share it), so every check here compares a
scrape before and after the requests it makes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flexplugins.config import Settings
from flexplugins.service import accounts
from tests.conftest import BACKENDS, LiveServer, start_server
from tests.openapi import assert_error
from tests.test_faults import Cluster
from tests.test_faults import throwaway_postgres as throwaway_postgres  # a fixture

API = "/v1/PluginService"
REQUEST_ID = re.compile(r"^RQ[0-9a-f]{32}$")
TOKEN = "scrape-secret-" + "7" * 20
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def test_every_response_carries_a_request_id(server: LiveServer, http: httpx.Client) -> None:
    responses = [
        http.post(f"{API}/Plugins", data={"UniqueName": "rid-plugin"}),  # 201
        http.get(f"{API}/Plugins/rid-plugin"),  # 200
        http.get(f"{API}/Plugins/FP" + "0" * 32),  # 404 from the resource
        http.get("/no/such/path"),  # 404 from routing
        http.delete(f"{API}/Releases/Active"),  # 405
        httpx.get(server.url + f"{API}/Plugins"),  # 401, no credentials
        httpx.get(server.url + "/healthz"),  # 200, no credentials
        http.post(f"{API}/Plugins", data={"UniqueName": "rid-plugin"}),  # 409
    ]
    assert [r.status_code for r in responses] == [201, 200, 404, 404, 405, 401, 200, 409]
    ids = [r.headers.get("Twilio-Request-Id") for r in responses]
    for value in ids:
        assert value is not None and REQUEST_ID.match(value), value
    assert len(set(ids)) == len(ids)


# --- metrics --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def metered(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second server on the same database with metrics behind a bearer token and a rate limit."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("metered"),
        metrics=f"token:{TOKEN}",
        rate_limit=5,
    )
    yield from start_server(settings)


def scrape(server: LiveServer) -> Samples:
    response = httpx.get(server.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much flexplugins_<name> grew between two scrapes."""
    name = "flexplugins_" + name
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_are_refused_without_the_token(metered: LiveServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = httpx.get(metered.url + "/metrics", headers=headers)
        assert_error(response, 401, 20003)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert REQUEST_ID.match(response.headers["Twilio-Request-Id"])
    assert TOKEN not in httpx.get(metered.url + "/metrics").text
    refused = httpx.post(metered.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert_error(refused, 405, 20405)


def test_metrics_are_off_the_public_path_by_default(server: LiveServer, http: httpx.Client) -> None:
    assert server.settings.metrics == "off"
    assert_error(http.get("/metrics"), 404, 20404)
    assert_error(httpx.get(server.url + "/metrics"), 404, 20404)


def test_requests_are_counted_by_route_template_method_and_status(metered: LiveServer) -> None:
    created, token = accounts.create_account(metered.db)
    before = scrape(metered)
    with httpx.Client(base_url=metered.url, auth=(created.sid, token)) as client:
        sids = [client.post(f"{API}/Plugins", data={"UniqueName": f"m-{i}"}).json()["sid"] for i in range(3)]
        for sid in sids:
            assert client.get(f"{API}/Plugins/{sid}").status_code == 200
        for i in range(3):  # distinct paths that match no route: one label value, not three
            assert client.get(f"/unknown/{i}").status_code == 404
    after = scrape(metered)
    template = f"{API}/Plugins/{{sid}}"
    assert delta(before, after, "http_requests_total", route=template, method="GET", status="200") == 3
    assert (
        delta(before, after, "http_requests_total", route=f"{API}/Plugins", method="POST", status="201") == 3
    )
    assert delta(before, after, "http_requests_total", route="unmatched", method="GET", status="404") == 3
    assert delta(before, after, "http_request_duration_seconds_count", route=template, method="GET") == 3
    assert (
        delta(before, after, "http_request_duration_seconds_bucket", route=template, method="GET", le="+Inf")
        == 3
    )
    assert delta(before, after, "http_request_duration_seconds_sum", route=template, method="GET") > 0
    routes = {dict(labels).get("route") for name, labels in after if "http_requests" in name}
    assert not any(sid in str(route) for route in routes for sid in sids), routes
    assert not any(str(route).startswith("/unknown") for route in routes), routes


def test_a_vendor_host_request_is_counted_under_the_route_that_answered(metered: LiveServer) -> None:
    """The vendor's hosts are mapped onto our paths (api/vendor_hosts.py): counted as those routes."""
    created, token = accounts.create_account(metered.db)
    before = scrape(metered)
    response = httpx.get(
        metered.url + "/v1/Services", headers={"Host": "serverless.twilio.com"}, auth=(created.sid, token)
    )
    assert response.status_code == 200, response.text
    after = scrape(metered)
    labels = {"route": "/serverless/v1/Services", "method": "GET", "status": "200"}
    assert delta(before, after, "http_requests_total", **labels) == 1
    assert delta(before, after, "http_requests_total", route="unmatched", method="GET", status="200") == 0


def test_read_cache_hits_and_misses_are_counted(metered: LiveServer) -> None:
    created, token = accounts.create_account(metered.db)
    with httpx.Client(base_url=metered.url, auth=(created.sid, token)) as client:
        client.post(f"{API}/Plugins", data={"UniqueName": "cached"})
        before = scrape(metered)
        for _ in range(4):  # the first builds the body, the next three are served from the cache
            assert client.get(f"{API}/Plugins/cached").status_code == 200
        after = scrape(metered)
    assert delta(before, after, "read_cache_lookups_total", result="miss") == 1
    assert delta(before, after, "read_cache_lookups_total", result="hit") == 3


def test_rate_limit_refusals_are_counted(metered: LiveServer) -> None:
    created, token = accounts.create_account(metered.db)
    before = scrape(metered)
    statuses = []
    with httpx.Client(base_url=metered.url, auth=(created.sid, token)) as client:
        for _ in range(25):  # 5 per second, bursts of 10: most of these are refused
            statuses.append(client.get(f"{API}/Plugins").status_code)
    after = scrape(metered)
    refused = statuses.count(429)
    assert refused >= 10, statuses
    route = f"{API}/Plugins"
    assert delta(before, after, "http_rate_limited_responses_total", route=route) == refused
    assert delta(before, after, "http_requests_total", route=route, method="GET", status="429") == refused


def test_bundle_bytes_served_are_counted(metered: LiveServer) -> None:
    created, token = accounts.create_account(metered.db)
    bundle = b"console.log('metered');" * 40
    with httpx.Client(base_url=metered.url, auth=(created.sid, token)) as client:
        uploaded = client.post(
            "/flexplugins/v1/Bundles", content=bundle, headers={"Content-Type": "application/javascript"}
        )
        assert uploaded.status_code == 201, uploaded.text
        before = scrape(metered)
        for _ in range(2):
            served = httpx.get(uploaded.json()["url"])
            assert served.status_code == 200 and served.content == bundle
        unchanged = httpx.get(uploaded.json()["url"], headers={"If-None-Match": served.headers["ETag"]})
        assert unchanged.status_code == 304
        after = scrape(metered)
    assert delta(before, after, "bundle_bytes_served_total") == 2 * len(bundle)


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL is not among the tested backends")
def test_database_errors_and_503s_are_counted(throwaway_postgres: Cluster, tmp_path: Path) -> None:
    """PostgreSQL stopped under a running server: its requests fail with 503s, all counted."""
    settings = Settings(database_url=throwaway_postgres.url, data_dir=tmp_path, metrics=f"token:{TOKEN}")
    for live in start_server(settings):
        created, token = accounts.create_account(live.db)
        with httpx.Client(base_url=live.url, auth=(created.sid, token), timeout=30) as client:
            assert client.post(f"{API}/Plugins", data={"UniqueName": "there"}).status_code == 201
            before = scrape(live)
            throwaway_postgres.stop()
            reads = [client.get(f"{API}/Plugins/there").status_code for _ in range(3)]
            writes = [client.post(f"{API}/Plugins", data={"UniqueName": "no"}).status_code for _ in range(2)]
            after = scrape(live)
    assert reads == [503] * 3 and writes == [503] * 2, (reads, writes)
    read_route, write_route = f"{API}/Plugins/{{sid}}", f"{API}/Plugins"
    assert delta(before, after, "http_unavailable_responses_total", route=read_route) == 3
    assert delta(before, after, "http_unavailable_responses_total", route=write_route) == 2
    assert delta(before, after, "http_requests_total", route=read_route, method="GET", status="503") == 3
    failures = {
        operation: delta(before, after, "database_errors_total", operation=operation, kind="unavailable")
        for operation in ("read", "write", "counters")
    }
    assert failures["counters"] >= 3, failures  # each cached read asks for the write counter first
    assert failures["write"] == 2, failures


# --- the error log carries the request ID -----------------------------------------------------


async def _broken(request: Request) -> Response:
    raise RuntimeError("a bug in a handler")


def test_an_unexpected_error_is_logged_with_its_request_id(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    broken = Route("/broken", _broken)
    for live in start_server(settings, prepare=lambda app: app.router.routes.insert(0, broken)):
        server_log: list[logging.LogRecord] = []
        handler = logging.Handler(logging.ERROR)
        handler.emit = server_log.append  # type: ignore[method-assign]
        logging.getLogger("uvicorn.error").addHandler(handler)  # uvicorn's loggers do not propagate
        try:
            with caplog.at_level(logging.ERROR, logger="flexplugins"):
                response = httpx.get(live.url + "/broken")
        finally:
            logging.getLogger("uvicorn.error").removeHandler(handler)
        assert_error(response, 500, 20500)
        request_id = response.headers["Twilio-Request-Id"]
        assert REQUEST_ID.match(request_id)
        records = [r for r in caplog.records if "unexpected error" in r.getMessage()]
        assert len(records) == 1
        # Logged once, by the application with its request ID; not again by uvicorn without it.
        assert not server_log, [r.getMessage() for r in server_log]
        assert request_id in records[0].getMessage()
        assert records[0].exc_info is not None


def test_a_credential_is_never_in_the_metrics(metered: LiveServer) -> None:
    created, token = accounts.create_account(metered.db)
    with httpx.Client(base_url=metered.url, auth=(created.sid, token)) as client:
        client.get(f"{API}/Plugins")
        client.get(f"{API}/Plugins", auth=(created.sid, "wrong-" + token))
    text = httpx.get(metered.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert token not in text and TOKEN not in text and created.sid not in text
