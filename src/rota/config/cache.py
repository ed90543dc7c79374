"""A cache of parsed config files, like Python's .pyc: it spares `rota select` the TOML parser.

The decoded TOML document (not the validated Config: validation runs every time) is stored with
marshal, keyed by the file's path, size, mtime and inode, under $XDG_CACHE_HOME/rota/ with
owner-only permissions. Any mismatch or unreadable entry is a miss; the cache never changes what
a config means.
"""

from __future__ import annotations

import marshal
import os

from rota.privatefs import private_dir

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any

FORMAT = 1


def _name_hash(text: str) -> int:
    """32-bit FNV-1a of the text's UTF-8 bytes. It only names the cache file (the key inside
    decides); hashlib or zlib would cost a module load on every `rota select`."""
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _cache_file(path: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = _name_hash(os.path.abspath(path))
    return os.path.join(base, "rota", f"config-{digest:08x}.marshal")


def _key(path: str, st: os.stat_result) -> tuple[Any, ...]:
    return (FORMAT, os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def load(path: str, st: os.stat_result) -> dict[str, Any] | None:
    if os.environ.get("ROTA_NO_CONFIG_CACHE"):
        return None
    try:
        with open(_cache_file(path), "rb") as f:
            key, data = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if key == _key(path, st) and isinstance(data, dict) else None


def save(path: str, st: os.stat_result, data: dict[str, Any]) -> None:
    if os.environ.get("ROTA_NO_CONFIG_CACHE"):
        return
    target = _cache_file(path)
    try:
        blob = marshal.dumps((_key(path, st), data))
    except ValueError:  # a TOML date/time value: marshal cannot hold it, so no cache
        return
    try:
        private_dir(os.path.dirname(target))
        tmp = f"{target}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, target)
    except OSError:  # a read-only home only loses the speed-up
        pass
