"""A Click group whose commands are imported only when they run, so `flexplugins --help` and the
client commands never pay for the server's modules (SQLAlchemy, Starlette, Alembic ...).

Each command is named by where it lives and by its summary (the first paragraph of its help), which
`--help` and shell completion show without importing it; tests/cli/test_lazy_imports.py checks each
summary against the command's own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


@dataclass(frozen=True)
class LazyCommand:
    """A command known by its import path, "package.module:attribute", and its summary."""

    import_path: str
    summary: str

    def load(self) -> click.Command:
        module_name, _, attribute = self.import_path.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.import_path} is not a Click command")
        return command


class LazyGroup(click.Group):
    """click.Group with `lazy` commands, imported by get_command the first time each is needed."""

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def listed(self, name: str) -> click.Command | None:
        """The command as the help lists it: itself once imported, else a stand-in with its summary."""
        if name in self.commands:
            return self.commands[name]
        if name in self.lazy:
            return click.Command(name, help=self.lazy[name].summary)
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click's own layout, with stand-ins for the commands not imported yet.
        rows = [(name, command) for name in self.list_commands(ctx) if (command := self.listed(name))]
        rows = [(name, command) for name, command in rows if not command.hidden]
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        results = [
            CompletionItem(name, help=command.get_short_help_str())
            for name in self.list_commands(ctx)
            if name.startswith(incomplete) and (command := self.listed(name)) and not command.hidden
        ]
        # The group's own options, as click.Command completes them.
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results
