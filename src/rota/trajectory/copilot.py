"""GitHub Copilot CLI: its session events -> a Trajectory.

With `-s` Copilot prints only the agent's words. Its session state,
`~/.copilot/session-state/<session id>/events.jsonl`, records every event: `assistant.turn_start`,
`assistant.message` (`model`, `content`, `toolRequests`), `tool.execution_complete` (`success`,
`shellExecution.exitCode`, `result.content`), `session.usage_record` (`inputTokens`,
`outputTokens`, cache tokens, `cost`). The session's file is the one whose `session.start` names
this workspace and that was written while the session ran. Without it, the printed text is read
as plain text (rota.trajectory.text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rota.trajectory import text as plain
from rota.trajectory.prs import note_command
from rota.trajectory.record import Command, Trajectory, Usage
from rota.trajectory.source import HarnessOutput, integer, number, read_json_lines

SOURCE = "copilot session events"
SHELL_TOOLS = ("bash", "shell", "powershell")
EDIT_TOOLS = ("edit", "create", "str_replace_editor", "write")
MAX_SESSIONS = 200


def read(out: HarnessOutput) -> Trajectory:
    events = find_events(out)
    if events is not None:
        t = Trajectory(source=SOURCE)
        if _read_events(t, events):
            return t
    t = plain.read(out)
    t.notes.append("copilot session events not found")
    return t


def _read_events(t: Trajectory, path: Path) -> bool:
    calls: dict[str, Command] = {}
    order: list[str] = []
    usage = Usage()
    cost = 0.0
    got_cost = False
    turns = messages = 0
    edited: set[str] = set()
    found = False
    for ev in read_json_lines(path):
        found = True
        kind = ev.get("type")
        data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
        if kind == "assistant.turn_start":
            turns += 1
        elif kind == "assistant.message":
            if isinstance(data.get("model"), str) and data["model"]:
                t.model = data["model"]
            content = data.get("content")
            if isinstance(content, str) and content.strip():
                messages += 1
                t.set_final(content)
            for req in data.get("toolRequests") or []:
                if not isinstance(req, dict):
                    continue
                cid = str(req.get("toolCallId") or len(order))
                name = str(req.get("name") or "?")
                args = req.get("arguments") if isinstance(req.get("arguments"), dict) else {}
                calls[cid] = Command(name, str(args.get("command") or ""))
                order.append(cid)
                path_arg = args.get("path") or args.get("file_path")
                if name in EDIT_TOOLS and isinstance(path_arg, str):
                    edited.add(path_arg)
        elif kind == "tool.execution_complete":
            cmd = calls.get(str(data.get("toolCallId") or ""))
            if cmd is None:
                continue
            shell = data.get("shellExecution") if isinstance(data.get("shellExecution"), dict) else {}
            code = shell.get("exitCode")
            cmd.exit_code = code if isinstance(code, int) and not isinstance(code, bool) else None
            ok = data.get("success")
            cmd.ok = bool(ok) if isinstance(ok, bool) else None
            if cmd.exit_code is not None and cmd.exit_code != 0:
                cmd.ok = False
            result = data.get("result") if isinstance(data.get("result"), dict) else {}
            cmd.output = _text(result.get("content"))
        elif kind == "session.usage_record":
            u = data.get("usage") if isinstance(data.get("usage"), dict) else {}
            usage.add(
                Usage(
                    input_tokens=integer(u.get("inputTokens")),
                    output_tokens=integer(u.get("outputTokens")),
                    cache_read_tokens=integer(u.get("cacheReadTokens")),
                    cache_write_tokens=integer(u.get("cacheWriteTokens")),
                )
            )
            c = number(u.get("cost"))
            if c is not None:
                cost += c
                got_cost = True
    if not found:
        return False
    for cid in order:
        cmd = calls[cid]
        t.tool(cmd.tool, cmd.ok)
        if cmd.tool in SHELL_TOOLS:
            t.command(cmd)
            note_command(t, cmd)
    if t.tool_calls is None:
        t.tool_calls, t.tool_errors = 0, 0
    t.turns, t.messages = turns, messages
    if usage.total:
        t.usage = usage
    if got_cost and cost > 0:  # own-key mode reports 0: unknown, not free
        t.cost_usd = round(cost, 6)
    t.files_edited = len(edited)
    return True


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


def find_events(out: HarnessOutput) -> Path | None:
    """The events file of the session that ran in this workspace during [started_at, ended_at]."""
    root = out.env_path("COPILOT_HOME", out.home / ".copilot") / "session-state"
    try:
        dirs = sorted(root.iterdir(), key=_mtime, reverse=True)[:MAX_SESSIONS]
    except OSError:
        return None
    for d in dirs:
        f = d / "events.jsonl"
        m = _mtime(f)
        if not m:
            continue
        if out.started_at and m < out.started_at - 5:
            break  # newest first: the rest are older still
        if out.workspace is None or _cwd(f) in (str(out.workspace), ""):
            return f
    return None


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _cwd(path: Path) -> str:
    for ev in read_json_lines(path):
        if ev.get("type") == "session.start":
            ctx = (ev.get("data") or {}).get("context") or {}
            cwd = ctx.get("cwd") if isinstance(ctx, dict) else None
            return cwd if isinstance(cwd, str) else ""
        break
    return ""


__all__ = ["SOURCE", "find_events", "read"]
