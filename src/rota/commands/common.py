"""Argument and context helpers shared by the command modules."""

from __future__ import annotations

import time

from rota.config import Config, load_config
from rota.errors import UsageError
from rota.store import Store, open_store

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    import argparse
    from typing import Any


def __getattr__(name: str) -> Any:
    """`Formatter`, the command line's help formatter (rota.command_line), for the command
    modules' parsers: loaded with argparse, only when a parser is built."""
    if name == "Formatter":
        from rota.command_line import Formatter

        return Formatter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def add_config_args(p: argparse.ArgumentParser, *, workspace: bool = True) -> None:
    p.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $ROTA_CONFIG, else $XDG_CONFIG_HOME/rota/rota.toml)",
    )
    if workspace:
        p.add_argument("--workspace", metavar="DIR", help="override the configured workspace")


def add_json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON for scripts")


def load(args: Any) -> Config:
    """The config named by the command's --config (and --workspace), from argparse or a plain
    namespace."""
    return load_config(getattr(args, "config", None), workspace=getattr(args, "workspace", None))


def store_for(config: Config) -> Store:
    return open_store(config)


def category_arg(config: Config, value: str | None) -> str:
    """--category checked against the config (exit 2 naming what is configured, and where), or
    the default category when it is not given."""
    if value is None:
        return config.default_category
    if value not in config.categories:
        where = f" (`categories` in {config.path})" if config.path else ""
        raise UsageError(
            f"--category: unknown category {value!r}; configured categories: "
            f"{', '.join(config.categories)}{where}"
        )
    return value


def now() -> float:
    return time.time()
