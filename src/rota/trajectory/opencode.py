"""opencode: `run --format json` events -> a Trajectory.

Events carry a `part`: `text` (the agent's words), `tool_use` (`tool`, `state.status`
"completed" or "error", `state.input`, `state.output`, `state.metadata.exit` for bash),
`step_finish` (one model step: `tokens.{input, output, reasoning, cache.{read, write}}` and
`cost` in dollars). `error` events carry a name and a message.
"""

from __future__ import annotations

from typing import Any

from rota.trajectory.prs import note_command
from rota.trajectory.record import Command, Trajectory, Usage
from rota.trajectory.source import HarnessOutput, integer, number

SOURCE = "opencode json"
SHELL_TOOLS = ("bash",)
EDIT_TOOLS = ("edit", "write", "patch", "multiedit")


def read(out: HarnessOutput) -> Trajectory:
    t = Trajectory(source=SOURCE)
    usage = Usage()
    cost = 0.0
    got_cost = False
    steps = messages = 0
    edited: set[str] = set()
    any_event = False
    for obj in out.json_lines():
        kind = obj.get("type")
        part = obj.get("part") if isinstance(obj.get("part"), dict) else {}
        if kind == "text":
            any_event = True
            text = part.get("text")
            if isinstance(text, str) and text.strip():
                messages += 1
                t.set_final(text)
        elif kind == "tool_use":
            any_event = True
            name = str(part.get("tool") or "?")
            state = part.get("state") if isinstance(part.get("state"), dict) else {}
            status = state.get("status")
            meta = state.get("metadata") if isinstance(state.get("metadata"), dict) else {}
            code = meta.get("exit")
            code = code if isinstance(code, int) and not isinstance(code, bool) else None
            ok: bool | None = {"completed": True, "error": False}.get(str(status))
            if code is not None and code != 0:
                ok = False
            t.tool(name, ok)
            inp = state.get("input") if isinstance(state.get("input"), dict) else {}
            if name in EDIT_TOOLS:
                path = inp.get("filePath") or inp.get("file_path") or inp.get("path")
                if isinstance(path, str) and path:
                    edited.add(path)
            if name in SHELL_TOOLS:
                output = state.get("output", state.get("error", ""))
                cmd = Command(
                    name, str(inp.get("command") or ""), ok, code, _text(output)
                )
                t.command(cmd)
                note_command(t, cmd)
        elif kind == "step_finish":
            any_event = True
            steps += 1
            tok = part.get("tokens") if isinstance(part.get("tokens"), dict) else {}
            cache = tok.get("cache") if isinstance(tok.get("cache"), dict) else {}
            usage.add(
                Usage(
                    input_tokens=integer(tok.get("input")),
                    output_tokens=integer(tok.get("output")),
                    cache_read_tokens=integer(cache.get("read")),
                    cache_write_tokens=integer(cache.get("write")),
                    reasoning_tokens=integer(tok.get("reasoning")),
                )
            )
            c = number(part.get("cost"))
            if c is not None:
                cost += c
                got_cost = True
            if part.get("reason") == "length":
                t.notes.append("a step stopped at the output length limit")
        elif kind == "error":
            any_event = True
            t.verdict = False
            err = obj.get("error") if isinstance(obj.get("error"), dict) else {}
            data = err.get("data") if isinstance(err.get("data"), dict) else err
            t.notes.append(f"error: {err.get('name', '')} {str(data.get('message', ''))[:200]}")
    if not any_event:
        t.source = "none"
        t.notes.append("no opencode JSON event in the output")
        return t
    t.turns, t.messages = steps, messages
    if t.tool_calls is None:
        t.tool_calls, t.tool_errors = 0, 0
    if usage.total:
        t.usage = usage
    if got_cost and cost > 0:  # a provider without prices reports 0: unknown, not free
        t.cost_usd = round(cost, 6)
    t.files_edited = len(edited)
    return t


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


__all__ = ["SOURCE", "read"]
