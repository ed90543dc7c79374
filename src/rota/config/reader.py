"""Reading a decoded TOML config: typed access to each table, every problem collected (not only
the first), and each problem placed on its line of the file, so one run shows every error in file
order. Used by rota.config.validate (what is checked) and rota.config.load (where it is)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from rota.errors import ConfigError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any


class Problems:
    """The problems found in one config, in the order they were found."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[ConfigError] = []

    def add(self, message: str, key: str) -> None:
        self.items.append(ConfigError(message, path=self.path, key=key))

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise self.items[0]
        if self.items:
            raise ConfigProblems(self.path, self.items)


class ConfigProblems(ConfigError):
    """Several config problems at once; `problems` in the order found (see `in_file_order`)."""

    def __init__(self, path: str, problems: list[ConfigError]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problems", path=path)
        self.args = (self._text(),)

    def _text(self) -> str:
        lines = [f"{len(self.problems)} problems in {self.path} (each: line, key, what is wrong):"]
        lines += [str(p) for p in self.problems]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._text()


class Reader:
    """Typed access to one table; records which keys were used so leftovers are reported. A bad
    value is reported to `problems` and the default is used, so checking goes on."""

    def __init__(self, table: Mapping[str, Any], key: str, problems: Problems) -> None:
        self.table = table
        self.key = key
        self.problems = problems
        self.used: set[str] = set()

    def error(self, sub: str, msg: str) -> None:
        self.problems.add(msg, f"{self.key}.{sub}" if self.key else sub)

    def get(self, name: str, kind: type | tuple[type, ...], default: Any, what: str) -> Any:
        self.used.add(name)
        if name not in self.table:
            return default
        v = self.table[name]
        # bool is an int in Python; a TOML `true` must not pass for a number.
        if isinstance(v, bool) and not (kind is bool or (isinstance(kind, tuple) and bool in kind)):
            self.error(name, f"expected {what}, got {type(v).__name__} {v!r}")
            return default
        if not isinstance(v, kind):
            self.error(name, f"expected {what}, got {type_name(v)} {v!r}")
            return default
        return v

    def number(
        self,
        name: str,
        default: float,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        """A finite number within its bounds. NaN and infinities are refused: a NaN compares
        false with every bound, so it would pass `v < minimum` and then hang the sampler."""
        v = self.get(name, (int, float), default, "a number")
        if (
            not math.isfinite(v)
            or (minimum is not None and v < minimum)
            or (maximum is not None and v > maximum)
        ):
            self.error(name, f"expected a finite number{_bounds(minimum, maximum)}, got {v!r}")
            return float(default)
        return float(v)

    def integer(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        v = self.get(name, int, default, "an integer")
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            self.error(name, f"expected an integer{_bounds(minimum, maximum)}, got {v!r}")
            return int(default)
        return int(v)

    def boolean(self, name: str, default: bool) -> bool:
        return bool(self.get(name, bool, default, "true or false"))

    def string(self, name: str, default: str) -> str:
        return str(self.get(name, str, default, "a string"))

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        v = self.get(name, list, list(default), "a list of strings")
        bad = [i for i, item in enumerate(v) if not isinstance(item, str)]
        for i in bad:
            self.error(f"{name}[{i}]", f"expected a string, got {type_name(v[i])} {v[i]!r}")
        return tuple(default) if bad else tuple(v)

    def table_(self, name: str) -> dict[str, Any]:
        return dict(self.get(name, dict, {}, "a table"))

    def finish(self) -> None:
        for extra in [k for k in self.table if k not in self.used]:
            self.error(
                extra,
                f"unknown key {extra!r}; expected one of: {', '.join(sorted(self.used))}",
            )


def type_name(v: object) -> str:
    return {
        dict: "table",
        list: "array",
        str: "string",
        int: "integer",
        float: "float",
        bool: "boolean",
    }.get(type(v), type(v).__name__)


# ---------------------------------------------------------------------------------------------
# Where each key is in the file (only read when there are problems to report)

# Compiled on first use: only a config with problems is ever located.
_HEADER = r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$"
_KEY = (
    r'^\s*((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
    r'(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\'))*)\s*='
)
_INLINE_KEY = r'[{,]\s*([A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")\s*='


def _split_key(text: str) -> list[str]:
    parts = re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^.\s]+', text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def key_lines(text: str) -> dict[str, int]:
    """Dotted key -> the 1-based line that defines it (tables, keys, inline-table keys)."""
    lines: dict[str, int] = {}
    table: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(_HEADER, line)
        if m and "=" not in m.group(1):
            table = _split_key(m.group(1))
            for i in range(1, len(table) + 1):
                lines.setdefault(".".join(table[:i]), n)
            continue
        m = re.match(_KEY, line)
        if not m:
            continue
        key = [*table, *_split_key(m.group(1))]
        for i in range(1, len(key) + 1):
            lines.setdefault(".".join(key[:i]), n)
        rest = line[m.end() :]
        if rest.lstrip().startswith("{"):
            for sub in re.findall(_INLINE_KEY, rest):
                lines.setdefault(".".join([*key, *_split_key(sub)]), n)
    return lines


def line_of(key: str | None, lines: Mapping[str, int]) -> int | None:
    """The line of `key` (`pools.p.arms[1]` -> `pools.p.arms`), else of its nearest parent."""
    if not key:
        return None
    parts = _split_key(re.sub(r"\[\d+\]", "", key))
    while parts:
        n = lines.get(".".join(parts))
        if n is not None:
            return n
        parts.pop()
    return None


def in_file_order(error: ConfigError, text: str | None) -> ConfigError:
    """The same error(s), each with its line, sorted by line (unplaced ones last)."""
    problems = list(getattr(error, "problems", None) or [error])
    lines = key_lines(text) if text is not None else {}
    placed = []
    for i, p in enumerate(problems):
        n = line_of(p.key, lines)
        placed.append((n if n is not None else 1 << 30, i, located(p, n)))
    placed.sort(key=lambda t: (t[0], t[1]))
    ordered = [p for _, _, p in placed]
    if len(ordered) == 1:
        return ordered[0]
    return ConfigProblems(error.path or "", ordered)


def located(p: ConfigError, line: int | None) -> ConfigError:
    if line is None:
        return p
    return ConfigError(p.message, path=p.path, key=p.key, line=line)


def _bounds(lo: float | None, hi: float | None) -> str:
    """' from 0.01 to 3650', ' >= 0', ' <= 10', or ''."""
    def f(x: float) -> str:
        return f"{x:g}" if isinstance(x, float) else str(x)

    if lo is not None and hi is not None:
        return f" from {f(lo)} to {f(hi)}"
    if lo is not None:
        return f" >= {f(lo)}"
    return f" <= {f(hi)}" if hi is not None else ""
