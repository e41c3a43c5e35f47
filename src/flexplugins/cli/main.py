"""`flexplugins`: the command group. Each command is imported only when it runs (cli/lazy.py), so
`--help` and the client commands load nothing of the server; a command's module is named here with
its summary, which must stay the first paragraph of its help (tests/cli/test_lazy_imports.py)."""

from __future__ import annotations

import sys

import click

from .lazy import LazyCommand, LazyGroup

# httpx imports its own command line (with click, Rich and Pygments: about a fifth of the CPU of a
# client command) whenever those are installed, and this process never runs it. A None in
# sys.modules makes that one import fail, which httpx expects (its `httpx` command would then say
# that its dependencies are missing); httpx's client is untouched.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

COMMANDS = {
    # Administration, on the database itself.
    "serve": LazyCommand("flexplugins.cli.serve:serve", "Run the API server (migrating the database first)."),
    "accounts": LazyCommand(
        "flexplugins.cli.admin:accounts_group",
        "Accounts (each owns its plugins, configurations and releases).",
    ),
    "keys": LazyCommand(
        "flexplugins.cli.admin:keys_group",
        "API keys of an account (SK SIDs with a secret, usable instead of the auth token).",
    ),
    "db": LazyCommand(
        "flexplugins.cli.admin:db_group",
        "Database migrations, backups (db backup), and restoring an export file (db import).",
    ),
    "tokens": LazyCommand(
        "flexplugins.cli.tokens:tokens_group",
        "Runtime tokens: read the manifest and bundles of one account, nothing else.",
    ),
    "secret-key": LazyCommand(
        "flexplugins.cli.secret_key:secret_key_group",
        "The server key: with the database's secrets, it signs console sessions and page tokens.",
    ),
    "vendor-env": LazyCommand(
        "flexplugins.cli.vendor:vendor_env",
        'Print shell lines sending the vendor\'s CLI to this server: eval "$(flexplugins vendor-env ...)".',
    ),
    # Client commands, over HTTP.
    "deploy": LazyCommand(
        "flexplugins.cli.workflow:deploy",
        "Deploy a new version of plugin NAME from BUNDLE (a built .js file or its folder) or --plugin-url.",
    ),
    "release": LazyCommand(
        "flexplugins.cli.workflow:release",
        "Release plugin versions on top of the active release, or an existing --configuration.",
    ),
    "rollback": LazyCommand(
        "flexplugins.cli.workflow:rollback",
        "Make the previous release's configuration live again (or --to a named release's), as a new release.",
    ),
    "list": LazyCommand(
        "flexplugins.cli.browse:list_group",
        "List plugins, versions of a plugin, configurations or releases; * marks what is active.",
    ),
    "describe": LazyCommand(
        "flexplugins.cli.browse:describe_group", "Show one plugin, version, configuration or release in full."
    ),
    "diff": LazyCommand(
        "flexplugins.cli.browse:diff",
        "What changes from FROM to TO: each `active`, a release (FK...) or a configuration (FJ...).",
    ),
    "history": LazyCommand(
        "flexplugins.cli.browse:history",
        "The release timeline: when each release went live, who made it, and what it changed.",
    ),
    "archive": LazyCommand(
        "flexplugins.cli.manage:archive_group",
        "Archive a plugin, a plugin version or a configuration (refused while the active release holds it).",
    ),
    "login": LazyCommand(
        "flexplugins.cli.manage:login",
        "Check credentials against the server and save them as a profile readable only by you.",
    ),
    "export": LazyCommand(
        "flexplugins.cli.export:export",
        "Write the account's whole state to FILE: plugins, versions, configurations, releases, "
        "bundles, audit.",
    ),
    "promote": LazyCommand(
        "flexplugins.cli.promote:promote",
        "Make the active release of profile PROFILE hold the plugins of release SOURCE (default: active).",
    ),
    "apply": LazyCommand(
        "flexplugins.cli.apply:apply_file",
        "Make the active release match FILE (TOML): deploy missing versions, release if anything differs.",
    ),
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="flexplugins")
def main() -> None:
    """flexplugins: a self-hosted Flex Plugins API."""


if __name__ == "__main__":
    main()
