"""The vendor host names the proxy answers for, and nothing else."""

from __future__ import annotations

from ..domain.serverless import DOMAIN as ASSET_DOMAIN
from ..domain.serverless import hosted_domain

# The hosts the vendor's tools call (CLIENTS.md): the Plugin Service and Flex Configuration, the
# Serverless API and its upload host, the 2010 REST API (account fetch), the plugin validator, and
# Flex itself (the runtime's plugin list).
VENDOR_HOSTS = frozenset(
    {
        "flex-api.twilio.com",
        "serverless.twilio.com",
        "serverless-upload.twilio.com",
        "api.twilio.com",
        "flex-plugin-upload.us1.twilio.com",
        "flex.twilio.com",
    }
)
# Serverless environments are served at one label under twil.io (a wildcard certificate covers one
# label): domain.serverless.hosted_domain says which names those are.


def is_vendor_host(host: str) -> bool:
    """Whether the proxy may answer for this host name (no port, any case)."""
    name = host.lower().rstrip(".")
    return name in VENDOR_HOSTS or hosted_domain(name)


def certificate_names() -> list[str]:
    """The DNS names on the proxy's server certificate."""
    return [*sorted(VENDOR_HOSTS), f"*.{ASSET_DOMAIN}"]


def permitted_subtrees() -> list[str]:
    """The names the proxy's CA may ever certify (its name constraints)."""
    return [*sorted(VENDOR_HOSTS), ASSET_DOMAIN]
