"""What a harness is doing, in a few words, from one line of its output: the live line of
`rota run` at a terminal shows the latest. Pure: no I/O.

The agent CLIs that print JSON lines say what they do in their events (Claude Code's
`--output-format stream-json`, Codex's `exec --json`, Gemini CLI's `stream-json`); the others print
text, whose last non-empty line is the best there is. A line that says nothing new (a tool's
result, a usage event) gives None, so the previous description stays.
"""

from __future__ import annotations

import json
import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
_INPUT_KEYS = ("command", "file_path", "path", "pattern", "url", "query", "description", "prompt")


def describe(line: str) -> str | None:
    """A short description of what this output line shows the harness doing, or None."""
    text = _ANSI.sub("", line).strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            event = json.loads(text)
        except ValueError:
            return _first_line(text)
        return _event(event) if isinstance(event, dict) else None
    if not any(ch.isalnum() for ch in text):
        return None  # rules, spinners, box drawing
    return _first_line(text)


def _first_line(text: str) -> str:
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return " ".join(first.split())


def _tool(name: str, args: object) -> str:
    if isinstance(args, dict):
        for key in _INPUT_KEYS:
            value = args.get(key)
            if isinstance(value, str) and value.strip():
                return f"{name}: {_first_line(value)}"
    return str(name)


def _event(e: dict) -> str | None:
    kind = e.get("type")
    # Claude Code (stream-json)
    if kind == "system" and e.get("subtype") == "init":
        return f"started ({e['model']})" if e.get("model") else "started"
    if kind == "assistant" and isinstance(e.get("message"), dict):
        said = None
        for part in e["message"].get("content") or []:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "tool_use":
                said = _tool(str(part.get("name", "tool")), part.get("input"))
            elif part.get("type") == "text" and str(part.get("text", "")).strip():
                said = _first_line(str(part["text"]))
        return said
    if kind == "result":
        if e.get("is_error"):
            return "finished with an error"
        result = e.get("result")
        return (
            "finished: " + _first_line(result) if isinstance(result, str) and result else "finished"
        )
    # Codex (exec --json)
    if kind in ("item.started", "item.completed") and isinstance(e.get("item"), dict):
        return _codex_item(e["item"], started=kind == "item.started")
    if kind == "turn.failed":
        err = e.get("error")
        msg = err.get("message") if isinstance(err, dict) else None
        return f"failed: {msg}" if msg else "failed"
    if kind == "thread.started":
        return "started"
    # Gemini CLI (stream-json)
    if kind == "tool_use":
        return _tool(str(e.get("tool_name", "tool")), e.get("parameters"))
    if kind == "message" and e.get("role") == "assistant" and isinstance(e.get("content"), str):
        return _first_line(e["content"]) or None
    return None


def _codex_item(item: dict, *, started: bool) -> str | None:
    kind = item.get("type")
    if kind == "command_execution" and item.get("command"):
        return "$ " + _first_line(str(item["command"]))
    if kind == "file_change":
        paths = [c.get("path") for c in item.get("changes") or [] if isinstance(c, dict)]
        shown = ", ".join(str(p) for p in paths[:3] if p)
        return f"edited {shown}" if shown else "edited files"
    if kind == "agent_message" and item.get("text") and not started:
        return _first_line(str(item["text"]))
    if kind == "reasoning":
        return "thinking"
    if kind == "mcp_tool_call":
        return f"tool {item.get('server', '')}.{item.get('tool', '')}".rstrip(".")
    if kind == "web_search":
        return f"searching: {item.get('query', '')}".rstrip(": ")
    return None
