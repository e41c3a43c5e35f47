"""What every client command shares: where the server is, who we are, and how results and errors print."""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar
from urllib.parse import urlsplit

import click

from .. import __version__
from ..client import Client, FlexPluginsError, Resource

if TYPE_CHECKING:
    # Rich is imported where output is rendered (about a fifth of a command's start-up): a --json
    # run, and every command that prints through click.echo only, never loads it.
    from rich.console import Console
    from rich.table import Table

DEFAULT_URL = "http://127.0.0.1:8080"
METADATA = f"flexplugins-cli/{__version__}"
PROFILE_FILE = "profiles.json"

P = ParamSpec("P")
R = TypeVar("R")


class CliError(Exception):
    """A refusal of the command line itself (bad input, nothing to do), printed as one line."""


# --- profiles ---------------------------------------------------------------------------------


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "flexplugins"


def profiles_path() -> Path:
    return config_dir() / PROFILE_FILE


def read_profiles() -> dict[str, Any]:
    path = profiles_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"default": None, "profiles": {}}
    except (OSError, ValueError) as error:
        raise CliError(f"Cannot read the profiles in {path}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise CliError(f"{path} is not a flexplugins profiles file; remove it and run `flexplugins login`")
    return data


def write_profiles(data: dict[str, Any]) -> Path:
    """Write the profiles readable by their owner only (they hold secrets)."""
    path = profiles_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)
    return path


@dataclass(frozen=True)
class Credentials:
    url: str
    username: str
    password: str
    source: str


def server_url(given: str) -> str:
    """The server's base URL; a bare HOST:PORT (as `serve` prints its address) means http://HOST:PORT."""
    text = given.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(
            f"--url must be the server's address, such as http://127.0.0.1:8080, https://flex.example.com "
            f"or 127.0.0.1:8080 (got {given!r})"
        )
    return text.rstrip("/")


def resolve(url: str | None, profile: str | None) -> Credentials:
    """The server and credentials: --profile, else the environment, else the default profile."""
    env = os.environ
    if url is not None:
        url = server_url(url)
    if profile is None:
        if env.get("TWILIO_API_KEY") and env.get("TWILIO_API_SECRET"):
            return Credentials(url or DEFAULT_URL, env["TWILIO_API_KEY"], env["TWILIO_API_SECRET"], "env")
        if env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN"):
            return Credentials(url or DEFAULT_URL, env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"], "env")
    data = read_profiles()
    name = profile or data.get("default")
    if name is None:
        raise CliError(
            "No credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
            "TWILIO_API_SECRET), or run `flexplugins login`"
        )
    saved = data["profiles"].get(name)
    if not isinstance(saved, dict):
        raise CliError(
            f"There is no profile {name!r} in {profiles_path()}; run `flexplugins login --profile {name}`"
        )
    return Credentials(
        url or server_url(str(saved.get("url") or DEFAULT_URL)),
        str(saved["username"]),
        str(saved["password"]),
        name,
    )


# --- output -----------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    if isinstance(value, Resource):
        return value.raw
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


class Session:
    """One command's connection and output mode."""

    def __init__(self, url: str | None, profile: str | None, as_json: bool) -> None:
        self._url = url
        self._profile = profile
        self.as_json = as_json
        self._client: Client | None = None

    # No console markup: what we print holds names, paths and versions of users' plugins, and a
    # name such as `[red]x` must print as it is. Styles are given as Text objects instead.
    @functools.cached_property
    def console(self) -> Console:
        from rich.console import Console

        console = Console(markup=False, highlight=False, soft_wrap=True)
        if not console.is_terminal and not os.environ.get("COLUMNS"):
            console.width = 160  # logs of CI jobs: wide rather than folded
        return console

    @functools.cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

    @property
    def client(self) -> Client:
        if self._client is None:
            found = resolve(self._url, self._profile)
            self._client = Client(found.url, found.username, found.password, metadata=METADATA)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def emit(self, data: Any, render: Callable[[], None]) -> None:
        """Print `data` as JSON with --json, else call `render` for the readable form."""
        if self.as_json:
            click.echo(json.dumps(jsonable(data), indent=2))
        else:
            render()

    def table(self, title: str | None, *columns: str) -> Table:
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        return table

    def fail(self, message: str, error: FlexPluginsError | None = None) -> NoReturn:
        click.echo(f"error: {message}", err=True)
        if self.as_json:
            body: dict[str, Any] = {"message": message}
            if error is not None:
                body.update(code=error.code, status=error.status, more_info=error.more_info)
            click.echo(json.dumps({"error": body}))
        sys.exit(1)


def client_command(func: Callable[..., None]) -> Callable[..., None]:
    """The options every client command takes, and its one-line error handling."""

    @click.option(
        "--url",
        envvar="FLEXPLUGINS_URL",
        metavar="URL",
        help=f"The flexplugins server (FLEXPLUGINS_URL; default: the profile's, else {DEFAULT_URL}).",
    )
    @click.option("--profile", envvar="FLEXPLUGINS_PROFILE", metavar="NAME", help="A profile saved by login.")
    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
    @functools.wraps(func)
    def wrapper(url: str | None, profile: str | None, as_json: bool, **options: Any) -> None:
        session = Session(url, profile, as_json)
        try:
            func(session, **options)
        except FlexPluginsError as error:
            session.fail(str(error), error)
        except CliError as error:
            session.fail(str(error))
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as error:  # a bug of ours: still one line, unless asked for the trace
            if os.environ.get("FLEXPLUGINS_DEBUG"):
                traceback.print_exc()
            session.fail(f"unexpected {type(error).__name__}: {error}")
        finally:
            session.close()

    return wrapper


def paged(items: Iterator[R], limit: int | None) -> list[R]:
    out: list[R] = []
    for item in items:
        if limit is not None and len(out) >= limit:
            break
        out.append(item)
    return out
