"""Terminal output: aligned tables, colour only on a TTY (and never with NO_COLOR), JSON."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the select path
if TYPE_CHECKING:
    from typing import Any, TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "dim": "2", "bold": "1", "cyan": "36"}


def terminal_width() -> int:
    """$COLUMNS, else the terminal's width, else 80 (without argparse's `import shutil`)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
    return columns if columns > 0 else 80  # a terminal that does not say its size


def use_colour(stream: TextIO | None = None) -> bool:
    stream = sys.stdout if stream is None else stream  # looked up now: tests swap sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def paint(text: str, colour: str, enabled: bool) -> str:
    if not enabled or colour not in _CODES:
        return text
    return f"\033[{_CODES[colour]}m{text}\033[0m"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, indent: str = "") -> str:
    """A plain aligned table. Cells may carry ANSI colour; widths ignore it."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], _visible_len(c))
    lines = [indent + "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    for row in cells:
        lines.append(
            indent
            + "  ".join(c + " " * (widths[i] - _visible_len(c)) for i, c in enumerate(row)).rstrip()
        )
    return "\n".join(lines)


def _visible_len(text: str) -> int:
    n = 0
    i = 0
    while i < len(text):
        if text[i] == "\033":
            j = text.find("m", i)
            i = j + 1 if j >= 0 else len(text)
            continue
        n += 1
        i += 1
    return n


# The version of every `--json` document's shape: a script checks it before reading the rest.
# Raise it when a key changes meaning or goes away (adding keys does not change it).
SCHEMA_VERSION = 1


def print_document(body: Mapping[str, Any], stream: TextIO | None = None) -> None:
    """A `--json` answer: one object, `schema_version` first, an ISO-8601 twin beside each epoch."""
    print_json(with_iso({"schema_version": SCHEMA_VERSION, **body}), stream)


_EPOCH_KEYS = ("at", "now", "until", "since", "earliest_reset")


def with_iso(obj: Any) -> Any:
    """The same data with `KEY_iso` (ISO-8601, UTC) after every epoch-seconds `KEY`: keys ending
    in `_at`, and at/now/until/since/earliest_reset. Existing twins are kept."""
    if isinstance(obj, list):
        return [with_iso(x) for x in obj]
    if not isinstance(obj, Mapping):
        return obj
    from rota.timefmt import iso

    out: dict[str, Any] = {}
    for key, value in obj.items():
        out[key] = with_iso(value)
        twin = f"{key}_iso"
        if (
            isinstance(key, str)
            and (key.endswith("_at") or key in _EPOCH_KEYS)
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
            and twin not in obj
        ):
            out[twin] = iso(float(value))
    return out


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    stream = sys.stdout if stream is None else stream  # the current stdout, not import-time's
    json.dump(obj, stream, indent=2, sort_keys=False, default=str)
    stream.write("\n")


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"
