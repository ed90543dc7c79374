"""What a trajectory reader reads: the harness's stdout (from the session log, in full, or the
bounded tail rota kept), its stderr, its exit code, and where its own files live (HOME,
CODEX_HOME, the workspace). Readers never raise on bad input: a line that is not what they expect
is skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG_PREFIXES = ("[stderr] ", "[rota] ")  # lines rota.session.execute.LogFile adds to a log
MAX_LINE = 8 * 1024 * 1024  # a longer stdout line is skipped, not parsed
MAX_FILE_BYTES = 64 * 1024 * 1024  # a harness's own session file larger than this is not read


@dataclass(slots=True)
class HarnessOutput:
    """One finished harness run, as a reader sees it.

    log_path: the session log (stdout as written, stderr and rota's notes prefixed); when set,
    stdout is read from it line by line, so that nothing the bounded in-memory tail dropped is
    lost. stdout: the text to read instead (tests, or a log that cannot be read).
    """

    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    log_path: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    workspace: Path | None = None
    started_at: float = 0.0
    ended_at: float = 0.0

    def lines(self) -> Iterator[str]:
        """stdout, one line at a time."""
        if self.log_path is not None:
            try:
                fh = open(self.log_path, "rb")
            except OSError:
                fh = None
            if fh is not None:
                with fh:
                    for raw in fh:
                        if len(raw) > MAX_LINE:
                            continue
                        line = raw.decode("utf-8", "replace").rstrip("\r\n")
                        if line.startswith(LOG_PREFIXES):
                            continue
                        yield line
                return
        yield from self.stdout.splitlines()

    def json_lines(self) -> Iterator[dict[str, Any]]:
        """The stdout lines that are JSON objects."""
        for line in self.lines():
            s = line.strip()
            if not s.startswith("{"):
                continue
            try:
                obj = json.loads(s)
            except ValueError:
                continue
            if isinstance(obj, dict):
                yield obj

    def text(self, limit: int = 4 * 1024 * 1024) -> str:
        """stdout as one text (bounded to its last `limit` characters)."""
        out: list[str] = []
        size = 0
        for line in self.lines():
            out.append(line)
            size += len(line) + 1
            while size > limit and len(out) > 1:
                size -= len(out.pop(0)) + 1
        return "\n".join(out)

    @property
    def home(self) -> Path:
        h = self.env.get("HOME") or os.environ.get("HOME") or str(Path.home())
        return Path(h)

    def env_path(self, name: str, default: Path) -> Path:
        """A directory the harness's environment names (~ expanded against its HOME)."""
        v = self.env.get(name)
        if not v:
            return default
        if v == "~" or v.startswith("~/"):
            return self.home / v[2:]
        return Path(v)


def read_json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON-object lines of a harness's own file (bounded; unreadable: nothing)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return
        fh = open(path, "rb")
    except OSError:
        return
    with fh:
        for raw in fh:
            s = raw.strip()
            if not s.startswith(b"{"):
                continue
            try:
                obj = json.loads(s)
            except ValueError:
                continue
            if isinstance(obj, dict):
                yield obj


def integer(v: Any) -> int:
    """A token count as an int; anything else is 0."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return 0
    return int(v) if v >= 0 else 0


def number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if v >= 0 else None


def text_of(content: Any) -> str:
    """Text of a message or tool result: a string, or a list of {type: text, text} blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for c in content:
            if isinstance(c, str):
                parts.append(c)
            elif isinstance(c, dict) and isinstance(c.get("text"), str):
                parts.append(c["text"])
        return "\n".join(parts)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return ""


__all__ = ["HarnessOutput", "integer", "number", "read_json_lines", "text_of"]
