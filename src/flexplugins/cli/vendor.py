"""`flexplugins vendor-env`: the shell lines that point the vendor's CLI at the vendor proxy."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from ..config import Settings


def vendor_environment(proxy: str, data_dir: Path) -> dict[str, str]:
    """The variables the vendor's CLI needs to reach this server through the proxy, and no one else."""
    from ..proxy.certs import ca_cert_path, ensure_ca

    ensure_ca(data_dir)
    return {
        # cli-core and flex-dev-utils tunnel every request through HTTP_PROXY with CONNECT.
        "HTTP_PROXY": f"http://{proxy}",
        # Node trusts the proxy's CA in addition to its own (only for the vendor's names).
        "NODE_EXTRA_CA_CERTS": str(ca_cert_path(data_dir)),
        # Direct calls to this machine (the server's own port, a local registry) skip the proxy.
        "NO_PROXY": "127.0.0.1,localhost",
        # No telemetry, no update checks: nothing that would try to leave the machine.
        "CI": "true",
        "TWILIO_SKIP_NEW_VERSION_CHECK": "true",
        "TWILIO_DISABLE_AUTOUPDATE": "true",
        # plugin-flex runs `npm view @twilio/flex-dev-utils@<version>` before every command (and stops,
        # exit 0, when it fails). npm ignores HTTP_PROXY and would ask the registry directly (with no
        # network: about 70 s of retries per command); offline it answers from npm's cache.
        "npm_config_offline": "true",
    }


@click.command("vendor-env")
@click.option("--vendor-proxy", "proxy", required=True, metavar="HOST:PORT", help="As given to `serve`.")
@click.option(
    "--data-dir",
    metavar="DIR",
    help="The server's data directory (default: FLEXPLUGINS_DATA_DIR or .flexplugins).",
)
def vendor_env(proxy: str, data_dir: str | None) -> None:
    """Print shell lines sending the vendor's CLI to this server: eval "$(flexplugins vendor-env ...)"."""
    directory = Path(data_dir) if data_dir else Settings.from_env().data_dir
    host, _, port = proxy.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{proxy!r} is not HOST:PORT", param_hint="--vendor-proxy")
    for name, value in vendor_environment(proxy, directory.absolute()).items():
        click.echo(f"export {name}={shlex.quote(value)}")
