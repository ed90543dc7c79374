"""Where the config file is, and reading it: --config, $ROTA_CONFIG, else the XDG path.

The decoded TOML is cached (rota.config.cache) so that `rota select` skips the TOML parser;
validation (rota.config.validate) runs every time.
"""

from __future__ import annotations

import os

from rota.config import cache as _cache
from rota.config.schema import Config
from rota.config.validate import parse_config
from rota.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


def config_file(explicit: str | os.PathLike[str] | None = None) -> str:
    """--config PATH, else $ROTA_CONFIG, else $XDG_CONFIG_HOME/rota/rota.toml."""
    if explicit:
        return os.path.expanduser(os.fspath(explicit))
    env = os.environ.get("ROTA_CONFIG")
    if env:
        return os.path.expanduser(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "rota", "rota.toml")


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:

    import pathlib  # lazily: pathlib is kept off the `rota select` path

    return pathlib.Path(config_file(explicit))


def load_config(
    explicit: str | os.PathLike[str] | None = None, *, workspace: str | None = None
) -> Config:
    """Read and validate the config. Raises ConfigError (exit 78) naming file, key and fix."""
    path = config_file(explicit)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = _cache.load(path, st)
            if data is None:
                data = _decode_toml(path, f.read())
                _cache.save(path, st, data)
    except FileNotFoundError:
        raise ConfigError(
            "config file not found; create one with `rota init` or pass --config PATH",
            path=path,
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", path=path) from None
    try:
        cfg = parse_config(data, path=path)
    except ConfigError as exc:
        raise _in_file_order(exc, path) from None
    if workspace:
        cfg = _with_workspace(cfg, workspace)
    return cfg


def _decode_toml(path: str, raw: bytes) -> dict[str, Any]:
    import tomllib  # only when the parsed-config cache misses: it is the dearest import here

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("config is not UTF-8 text", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from None


def _in_file_order(exc: ConfigError, path: str) -> ConfigError:
    """Each problem with its line, in file order (the file is read again only on this path)."""
    from rota.config.reader import in_file_order

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text: str | None = f.read()
    except OSError:
        text = None
    return in_file_order(exc, text)


def _with_workspace(cfg: Config, workspace: str) -> Config:
    return cfg._replace(
        workspace=cfg.workspace._replace(location=os.path.abspath(os.path.expanduser(workspace)))
    )
