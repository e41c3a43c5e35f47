"""The vendor proxy (`serve --vendor-proxy`): CONNECT to the vendor's hosts only, TLS with a CA made in
the data directory and constrained to those names, requests handed to the same application with
their original host, so every URL in a response carries the vendor's host.

Driven with real clients over loopback: httpx and the `twilio` package (requests) configured only
through the proxy and CA variables, raw sockets for what a client should never get through.
"""

from __future__ import annotations

import datetime
import os
import shlex
import socket
import ssl
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import free_port
from tests.serving import ServeProcess, flexplugins_exe, serve

SID = "AC" + "5e" * 16
TOKEN = "proxy-test-token-0123456789abcdef-0123"
AUTH = (SID, TOKEN)


@pytest.fixture(scope="module")
def proxied(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServeProcess, str]]:
    """A real server with the vendor proxy, and the proxy's address."""
    tmp = tmp_path_factory.mktemp("proxy")
    address = f"127.0.0.1:{free_port()}"
    proc = serve(
        database_url,
        tmp,
        vendor_proxy=address,
        env={"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN},
    )
    yield proc, address
    proc.stop()


def data_dir(proc: ServeProcess) -> Path:
    return proc.log.parent / "data"


def vendor_env(address: str, directory: Path) -> dict[str, str]:
    """What `flexplugins vendor-env` prints, read as the shell would."""
    out = subprocess.run(
        [flexplugins_exe(), "vendor-env", "--vendor-proxy", address, "--data-dir", str(directory)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    env = {}
    for line in out.splitlines():
        words = shlex.split(line)
        assert words[0] == "export" and len(words) == 2, line
        name, _, value = words[1].partition("=")
        env[name] = value
    return env


def vendor_client(address: str, directory: Path) -> httpx.Client:
    env = vendor_env(address, directory)
    verify = ssl.create_default_context(cafile=env["NODE_EXTRA_CA_CERTS"])
    return httpx.Client(proxy=env["HTTP_PROXY"], verify=verify, auth=AUTH, timeout=30)


def raw(address: str, request: bytes) -> bytes:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def test_vendor_env_prints_what_the_cli_needs(proxied: tuple[ServeProcess, str]) -> None:
    proc, address = proxied
    env = vendor_env(address, data_dir(proc))
    assert env["HTTP_PROXY"] == f"http://{address}"
    assert Path(env["NODE_EXTRA_CA_CERTS"]) == (data_dir(proc) / "vendor-ca.pem").absolute()
    assert env["CI"] == "true"
    assert env["TWILIO_SKIP_NEW_VERSION_CHECK"] == "true"
    assert "127.0.0.1" in env["NO_PROXY"].split(",")


def test_plugin_service_through_the_proxy_carries_the_vendor_host(proxied: tuple[ServeProcess, str]) -> None:
    proc, address = proxied
    with vendor_client(address, data_dir(proc)) as client:
        created = client.post(
            "https://flex-api.twilio.com/v1/PluginService/Plugins", data={"UniqueName": "via-proxy"}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["url"] == f"https://flex-api.twilio.com/v1/PluginService/Plugins/{body['sid']}"
        assert body["links"]["plugin_versions"].startswith("https://flex-api.twilio.com/v1/PluginService/")
        listed = client.get("https://flex-api.twilio.com/v1/PluginService/Plugins", params={"PageSize": 1})
        assert listed.status_code == 200
        assert listed.json()["meta"]["url"].startswith("https://flex-api.twilio.com/v1/PluginService/Plugins")
        # Keep-alive: several requests on one tunnel.
        for _ in range(3):
            again = client.get(f"https://flex-api.twilio.com/v1/PluginService/Plugins/{body['sid']}")
            assert again.status_code == 200
        # Refusals come from the application, in the vendor's shape.
        refused = client.get("https://flex-api.twilio.com/v1/PluginService/Plugins", auth=(SID, "wrong" * 8))
        assert refused.status_code == 401 and refused.json()["code"] == 20003
    # The same plugin, directly, carries the server's own address.
    direct = httpx.get(f"{proc.url}/v1/PluginService/Plugins/via-proxy", auth=AUTH)
    assert direct.json()["url"].startswith(proc.url + "/v1/PluginService/Plugins/")


def test_twilio_package_unchanged_through_the_proxy(
    proxied: tuple[ServeProcess, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `twilio` package with no base URL change: only the proxy and CA variables point it here."""
    from twilio.rest import Client

    proc, address = proxied
    env = vendor_env(address, data_dir(proc))
    monkeypatch.setenv("HTTPS_PROXY", env["HTTP_PROXY"])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", env["NODE_EXTRA_CA_CERTS"])
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = Client(SID, TOKEN)
    plugin = client.flex_api.v1.plugins.create(unique_name="from-twilio-python")
    assert plugin.url == f"https://flex-api.twilio.com/v1/PluginService/Plugins/{plugin.sid}"
    names = [p.unique_name for p in client.flex_api.v1.plugins.list(page_size=1)]
    assert "from-twilio-python" in names


@pytest.mark.parametrize(
    "target",
    [
        "example.com:443",
        "twilio.com:443",
        "evil.flex-api.twilio.com.example.com:443",
        "a.b.twil.io:443",
        "flex-api.twilio.com:80",
        "127.0.0.1:22",
        "[::1]:443",
    ],
)
def test_connect_to_any_other_host_is_403(proxied: tuple[ServeProcess, str], target: str) -> None:
    _, address = proxied
    answer = raw(address, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]


def test_plain_http_through_the_proxy_is_never_forwarded(proxied: tuple[ServeProcess, str]) -> None:
    _, address = proxied
    other = raw(address, b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert other.startswith(b"HTTP/1.1 403 "), other[:200]
    vendor = raw(
        address, b"GET http://flex-api.twilio.com/v1/PluginService/Plugins HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert vendor.startswith(b"HTTP/1.1 400 ") and b"CONNECT flex-api.twilio.com:443" in vendor
    origin_form = raw(address, b"GET /v1/PluginService/Plugins HTTP/1.1\r\nHost: x\r\n\r\n")
    assert origin_form.startswith(b"HTTP/1.1 403 "), origin_form[:200]
    garbage = raw(address, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 "), garbage[:200]
    huge = raw(address, b"CONNECT flex-api.twilio.com:443 HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
    assert huge.startswith(b"HTTP/1.1 431 "), huge[:200]


def test_asset_hosts_of_one_label_are_tunnelled(proxied: tuple[ServeProcess, str]) -> None:
    proc, address = proxied
    with vendor_client(address, data_dir(proc)) as client:
        answer = client.get("https://plugin-sample-1234-dev.twil.io/plugins/none/1.0.0/bundle.js")
    # What the application answers for the path; the point here is that TLS verified and it got there.
    assert answer.status_code in (200, 401, 404), answer.text


def test_ca_is_kept_private_and_constrained(proxied: tuple[ServeProcess, str]) -> None:
    proc, _ = proxied
    directory = data_dir(proc)
    key = directory / "vendor-ca-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate((directory / "vendor-ca.pem").read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    permitted = sorted(name.value for name in constraints.value.permitted_subtrees or [])
    assert permitted == sorted(
        [
            "api.twilio.com",
            "flex-api.twilio.com",
            "flex-plugin-upload.us1.twilio.com",
            "flex.twilio.com",
            "serverless-upload.twilio.com",
            "serverless.twilio.com",
            "twil.io",
        ]
    )
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0


def test_a_certificate_for_another_name_signed_by_the_ca_is_rejected(
    proxied: tuple[ServeProcess, str],
) -> None:
    """Name constraints are enforced by TLS clients: even the CA's own key cannot vouch for example.com."""
    proc, _ = proxied
    directory = data_dir(proc)
    ca = x509.load_pem_x509_certificate((directory / "vendor-ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((directory / "vendor-ca-key.pem").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = directory.parent / "rogue.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pem)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(directory / "vendor-ca.pem"))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as sock,
        pytest.raises(ssl.SSLCertVerificationError, match="permitted subtree violation|name constraint"),
    ):
        client_ctx.wrap_socket(sock, server_hostname="example.com")
    thread.join(5)
    listener.close()


def test_ca_survives_restarts_and_works_with_several_workers(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
    url = f"sqlite:///{tmp_path / 'w.db'}"
    first = serve(url, tmp_path, vendor_proxy=address, env=env)
    ca_before = (data_dir(first) / "vendor-ca.pem").read_bytes()
    first.stop()
    second = serve(url, tmp_path, workers=2, vendor_proxy=address, env=env)
    try:
        assert (data_dir(second) / "vendor-ca.pem").read_bytes() == ca_before
        for _ in range(6):  # new connections, spread over both workers
            with vendor_client(address, data_dir(second)) as client:
                answer = client.get("https://flex-api.twilio.com/v1/PluginService/Plugins")
                assert answer.status_code == 200, answer.text
    finally:
        second.stop()


def test_vendor_proxy_option_is_checked(tmp_path: Path) -> None:
    for bad in ("nonsense", "127.0.0.1:99999", "127.0.0.1:"):
        done = subprocess.run(
            [
                flexplugins_exe(),
                "serve",
                "--database",
                f"sqlite:///{tmp_path / 'x.db'}",
                "--vendor-proxy",
                bad,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ, FLEXPLUGINS_DATA_DIR=str(tmp_path / "d")),
        )
        assert done.returncode == 2 and "--vendor-proxy" in done.stderr, (bad, done.stderr)
