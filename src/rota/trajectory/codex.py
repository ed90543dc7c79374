"""Codex: the `exec --json` events and the session's rollout file -> a Trajectory.

stdout (`codex exec --json`): `thread.started` (the thread id), `item.completed` items
(`command_execution` with `command`, `exit_code`, `aggregated_output`, `status`; `file_change`
with `changes`; `agent_message`; `mcp_tool_call`; `web_search`), `turn.completed` with `usage`,
`turn.failed`, `error`.

The rollout file (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-…-<thread id>.jsonl[.zst]`) holds
every tool call the model made (`function_call` / `function_call_output` with "Process exited
with code N", `custom_tool_call` for apply_patch, `local_shell_call`), the running token total
(`token_count`), and the model (`turn_context`). Codex does not print every call on stdout (a
failed `exec_command` may be missing there), so the rollout is preferred when it is found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rota.trajectory.prs import note_command
from rota.trajectory.record import Command, Trajectory, Usage
from rota.trajectory.source import HarnessOutput, integer, read_json_lines

SOURCE = "codex exec --json"
_EXIT = re.compile(r"(?:Process exited with code|Exit code:?)\s+(-?\d+)")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+)$", re.M)
SHELL_CALLS = ("exec_command", "shell", "shell_command", "local_shell", "container.exec")
MAX_DAYS_BACK = 3  # day folders searched for the rollout before the session's own


def usage_of(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    cached = integer(u.get("cached_input_tokens"))
    return Usage(
        input_tokens=max(0, integer(u.get("input_tokens")) - cached),
        output_tokens=max(
            0, integer(u.get("output_tokens")) - integer(u.get("reasoning_output_tokens"))
        ),
        cache_read_tokens=cached,
        cache_write_tokens=integer(u.get("cache_write_input_tokens")),
        reasoning_tokens=integer(u.get("reasoning_output_tokens")),
    )


def read(out: HarnessOutput) -> Trajectory:
    t = Trajectory(source=SOURCE)
    thread_id = ""
    usage = Usage()
    got_usage = False
    edited: set[str] = set()
    turns = messages = 0
    any_event = False
    stdout_cmds: list[Command] = []
    other_tools: list[tuple[str, bool | None]] = []
    for obj in out.json_lines():
        kind = obj.get("type")
        if kind == "thread.started":
            any_event = True
            thread_id = str(obj.get("thread_id") or "")
        elif kind == "turn.completed":
            any_event = True
            turns += 1
            u = usage_of(obj.get("usage"))
            if u is not None:
                usage.add(u)
                got_usage = True
            t.verdict = True if t.verdict is None else t.verdict
        elif kind == "turn.failed":
            any_event = True
            turns += 1
            t.verdict = False
            err = obj.get("error")
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                t.notes.append(f"turn failed: {err['message'][:200]}")
        elif kind == "item.completed":
            any_event = True
            item = obj.get("item") if isinstance(obj.get("item"), dict) else {}
            itype = item.get("type")
            if itype == "command_execution":
                code = item.get("exit_code")
                code = code if isinstance(code, int) and not isinstance(code, bool) else None
                status = item.get("status")
                ok = (code == 0) if code is not None else (status == "completed" or None)
                stdout_cmds.append(
                    Command(
                        "command_execution",
                        str(item.get("command") or ""),
                        ok,
                        code,
                        str(item.get("aggregated_output") or ""),
                    )
                )
            elif itype == "file_change":
                for ch in item.get("changes") or []:
                    if isinstance(ch, dict) and isinstance(ch.get("path"), str):
                        edited.add(ch["path"])
                other_tools.append(("apply_patch", item.get("status") != "failed"))
            elif itype == "agent_message":
                text = item.get("text")
                if isinstance(text, str) and text.strip():
                    messages += 1
                    t.set_final(text)
            elif itype in ("mcp_tool_call", "web_search"):
                name = str(item.get("tool") or itype)
                other_tools.append((name, item.get("status") != "failed"))
    if not any_event:
        t.source = "none"
        t.notes.append("no codex JSON event in the output")
        return t
    t.turns, t.messages = turns, messages
    if got_usage:
        t.usage = usage

    rollout = find_rollout(out, thread_id) if thread_id else None
    if rollout is not None and _read_rollout(t, rollout, edited):
        t.source = SOURCE + " + rollout"
    else:
        if thread_id:
            t.notes.append(f"rollout file of thread {thread_id} not found")
        for cmd in stdout_cmds:
            t.tool("shell", cmd.ok)
            t.command(cmd)
            note_command(t, cmd)
        for name, ok in other_tools:
            t.tool(name, ok)
    if t.tool_calls is None:
        t.tool_calls, t.tool_errors = 0, 0
    t.files_edited = len(edited)
    return t


def _read_rollout(t: Trajectory, path: Path, edited: set[str]) -> bool:
    calls: dict[str, Command] = {}
    order: list[str] = []
    total: Usage | None = None
    found = False
    for obj in rollout_lines(path):
        found = True
        kind = obj.get("type")
        p = obj.get("payload") if isinstance(obj.get("payload"), dict) else {}
        ptype = p.get("type")
        if kind == "turn_context" and isinstance(p.get("model"), str) and p["model"]:
            t.model = p["model"]
        elif kind == "response_item" and ptype in ("function_call", "custom_tool_call"):
            cid = str(p.get("call_id") or p.get("id") or len(order))
            name = str(p.get("name") or "?")
            text = _call_text(name, p.get("arguments") if ptype == "function_call" else None)
            if ptype == "custom_tool_call" and isinstance(p.get("input"), str):
                edited.update(x.strip() for x in _PATCH_FILE.findall(p["input"]))
                text = text or name
            calls[cid] = Command(name, text)
            order.append(cid)
        elif kind == "response_item" and ptype == "local_shell_call":
            cid = str(p.get("call_id") or p.get("id") or len(order))
            action = p.get("action") if isinstance(p.get("action"), dict) else {}
            argv = action.get("command")
            text = " ".join(str(a) for a in argv) if isinstance(argv, list) else ""
            calls[cid] = Command("local_shell", text)
            order.append(cid)
        elif kind == "response_item" and ptype in (
            "function_call_output",
            "custom_tool_call_output",
            "local_shell_call_output",
        ):
            cmd = calls.get(str(p.get("call_id") or ""))
            if cmd is not None:
                cmd.output, cmd.exit_code, cmd.ok = _call_output(p.get("output"))
        elif kind == "event_msg" and ptype == "token_count":
            info = p.get("info") if isinstance(p.get("info"), dict) else {}
            u = usage_of(info.get("total_token_usage"))
            if u is not None:
                total = u
        elif kind == "event_msg" and ptype == "task_complete":
            last = p.get("last_agent_message")
            if isinstance(last, str):
                t.set_final(last)
        elif kind == "event_msg" and ptype == "turn_aborted":
            t.notes.append(f"turn aborted: {p.get('reason', '')}")
    if not found:
        return False
    for cid in order:
        cmd = calls[cid]
        t.tool(cmd.tool, cmd.ok)
        if cmd.tool in SHELL_CALLS or cmd.tool == "local_shell":
            t.command(cmd)
            note_command(t, cmd)
    if total is not None and total.total:
        t.usage = total
    return True


def _call_text(name: str, arguments: Any) -> str:
    if not isinstance(arguments, str):
        return ""
    try:
        args = json.loads(arguments)
    except ValueError:
        return arguments
    if not isinstance(args, dict):
        return ""
    v = args.get("cmd", args.get("command"))
    if isinstance(v, list):
        v = " ".join(str(a) for a in v)
    return v if isinstance(v, str) else ""


def _call_output(output: Any) -> tuple[str, int | None, bool | None]:
    """(output text, exit code, ok) of a tool call's output, in any of codex's shapes."""
    if isinstance(output, dict):
        meta = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
        code = meta.get("exit_code")
        text = str(output.get("output") or output.get("content") or "")
        if isinstance(code, int) and not isinstance(code, bool):
            return text, code, code == 0
        ok = output.get("success")
        return text, None, ok if isinstance(ok, bool) else None
    if not isinstance(output, str):
        return "", None, None
    s = output.strip()
    if s.startswith("{"):
        try:
            obj = json.loads(s)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return _call_output(obj)
    m = _EXIT.search(output[:400])
    code = int(m.group(1)) if m else None
    text = output.split("Output:\n", 1)[1] if "Output:\n" in output else output
    if code is not None:
        return text, code, code == 0
    low = output[:200].lower()
    if low.startswith(("error", "failed", "apply_patch verification failed")):
        return text, None, False
    return text, None, True


# ---------------------------------------------------------------------------------------------
# Finding the rollout


def codex_home(out: HarnessOutput) -> Path:
    return out.env_path("CODEX_HOME", out.home / ".codex")


def find_rollout(out: HarnessOutput, thread_id: str) -> Path | None:
    """The rollout file whose name ends with the thread id, in the day folders around the
    session (newest first), then in archived_sessions/."""
    import time

    home = codex_home(out)
    suffixes = (f"-{thread_id}.jsonl", f"-{thread_id}.jsonl.zst")
    ref = out.ended_at or out.started_at or time.time()
    seen: set[str] = set()
    for back in range(-1, MAX_DAYS_BACK + 1):
        for tm in (time.localtime(ref - back * 86400.0), time.gmtime(ref - back * 86400.0)):
            day = home / "sessions" / time.strftime("%Y/%m/%d", tm)
            if str(day) in seen:
                continue
            seen.add(str(day))
            hit = _match(day, suffixes)
            if hit is not None:
                return hit
    return _match(home / "archived_sessions", suffixes)


def _match(folder: Path, suffixes: tuple[str, ...]) -> Path | None:
    try:
        names = [p for p in folder.iterdir() if p.name.endswith(suffixes)]
    except OSError:
        return None
    return names[0] if names else None


def rollout_lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.name.endswith(".zst"):
        yield from read_json_lines(path)
        return
    from rota.harnesses.codex import _lines

    for line in _lines(path):
        s = line.strip()
        if not s.startswith("{"):
            continue
        try:
            obj = json.loads(s)
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj


__all__ = ["SOURCE", "find_rollout", "read"]
