"""Gemini CLI: `--output-format json` stats and its chat file -> a Trajectory.

stdout is one JSON document at the end: `response` (the final answer), `stats.models.<model>`
(`api.totalRequests`, `tokens.{input|prompt, candidates, cached, thoughts, tool}`), `stats.tools`
(`totalCalls`, `totalFail`, `byName`), or `error`. Exit 53 means the turn limit stopped it.

`stats.tools` counts a shell command that exited non-zero as a success, and a session cut short
prints nothing, so the chat file (`~/.gemini/tmp/<project>/chats/session-…-<id8>.jsonl`, found by
the session id, else as the newest one written during the session) gives the commands and their
"Exit Code: N".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rota.harnesses.common import load_json
from rota.trajectory.prs import note_command
from rota.trajectory.record import Command, Trajectory, Usage
from rota.trajectory.source import HarnessOutput, integer, read_json_lines

SOURCE = "gemini json"
EXIT_TURN_LIMIT = 53
SHELL_TOOLS = ("run_shell_command",)
EDIT_TOOLS = ("replace", "write_file", "edit")
_EXIT = re.compile(r"Exit Code:\s*(-?\d+)")
MAX_CHAT_FILES = 200  # chat files looked at when searching by time


def read(out: HarnessOutput) -> Trajectory:
    t = Trajectory(source=SOURCE)
    doc = load_json(out.text())
    doc = doc if isinstance(doc, dict) else None
    sid = ""
    if doc is not None:
        sid = str(doc.get("session_id") or doc.get("sessionId") or "")
        if isinstance(doc.get("response"), str):
            t.set_final(doc["response"])
            t.verdict = True
        if doc.get("error"):
            t.verdict = False
        stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
        _stats(t, stats)
    if out.exit_code == EXIT_TURN_LIMIT:
        t.turn_limit = True
    chat = find_chat(out, sid)
    if chat is not None and _read_chat(t, chat):
        t.source = SOURCE + " + chat file" if doc is not None else "gemini chat file"
    elif doc is None:
        t.source = "none"
        t.notes.append("no JSON document in the output and no chat file")
    return t


def _stats(t: Trajectory, stats: dict[str, Any]) -> None:
    models = stats.get("models") if isinstance(stats.get("models"), dict) else {}
    usage = Usage()
    requests = 0
    best = (-1, "")
    for name, m in models.items():
        if not isinstance(m, dict):
            continue
        api = m.get("api") if isinstance(m.get("api"), dict) else {}
        n = integer(api.get("totalRequests"))
        requests += n
        best = max(best, (n, str(name)))
        tok = m.get("tokens") if isinstance(m.get("tokens"), dict) else {}
        cached = integer(tok.get("cached"))
        inp = integer(tok.get("input")) if "input" in tok else integer(tok.get("prompt")) - cached
        usage.add(
            Usage(
                input_tokens=max(0, inp) + integer(tok.get("tool")),
                output_tokens=integer(tok.get("candidates")),
                cache_read_tokens=cached,
                reasoning_tokens=integer(tok.get("thoughts")),
            )
        )
    if models:
        t.usage = usage
        t.turns = requests
        t.model = best[1] or None
    tools = stats.get("tools") if isinstance(stats.get("tools"), dict) else {}
    if tools:
        t.tool_calls = integer(tools.get("totalCalls"))
        t.tool_errors = integer(tools.get("totalFail"))
        for name, v in (tools.get("byName") or {}).items():
            if isinstance(v, dict):
                t.tools[str(name)] = integer(v.get("count"))
                if integer(v.get("fail")):
                    t.tool_failures[str(name)] = integer(v.get("fail"))


def _read_chat(t: Trajectory, path: Path) -> bool:
    latest: dict[str, dict[str, Any]] = {}  # message id -> its last version
    order: list[str] = []
    for obj in read_json_lines(path):
        mid = obj.get("id")
        if not isinstance(mid, str) or obj.get("type") != "gemini":
            continue
        if mid not in latest:
            order.append(mid)
        latest[mid] = obj
    if not order:
        return False
    calls = errors = 0
    tools: dict[str, int] = {}
    failures: dict[str, int] = {}
    edited: set[str] = set()
    usage = Usage()
    messages = 0
    for mid in order:
        msg = latest[mid]
        content = msg.get("content")
        if isinstance(content, str) and content.strip():
            messages += 1
        tok = msg.get("tokens") if isinstance(msg.get("tokens"), dict) else {}
        cached = integer(tok.get("cached"))
        usage.add(
            Usage(
                input_tokens=max(0, integer(tok.get("input")) - cached) + integer(tok.get("tool")),
                output_tokens=integer(tok.get("output")),
                cache_read_tokens=cached,
                reasoning_tokens=integer(tok.get("thoughts")),
            )
        )
        if isinstance(msg.get("model"), str) and not t.model:
            t.model = msg["model"]
        for call in msg.get("toolCalls") or []:
            if not isinstance(call, dict):
                continue
            name = str(call.get("name") or "?")
            args = call.get("args") if isinstance(call.get("args"), dict) else {}
            output = _result_text(call.get("result"))
            m = _EXIT.search(output)
            code = int(m.group(1)) if m else None
            status = call.get("status")
            ok: bool | None = None if status is None and not output else status != "error"
            if code is not None and code != 0:
                ok = False
            calls += 1
            tools[name] = tools.get(name, 0) + 1
            if ok is False:
                errors += 1
                failures[name] = failures.get(name, 0) + 1
            if name in EDIT_TOOLS and isinstance(args.get("file_path"), str):
                edited.add(args["file_path"])
            if name in SHELL_TOOLS:
                cmd = Command(name, str(args.get("command") or ""), ok, code, output)
                t.command(cmd)
                note_command(t, cmd)
    # The chat file sees every call and its exit code: it replaces the stats' counts.
    t.tool_calls, t.tool_errors = calls, errors
    t.tools, t.tool_failures = tools, failures
    t.files_edited = len(edited)
    t.messages = messages
    if t.usage is None and usage.total:
        t.usage = usage
    if t.turns is None:
        t.turns = len(order)
    if not t.final_message:
        last = latest[order[-1]].get("content")
        if isinstance(last, str):
            t.set_final(last)
    return True


def _result_text(result: Any) -> str:
    parts: list[str] = []
    for r in result if isinstance(result, list) else []:
        fr = r.get("functionResponse") if isinstance(r, dict) else None
        resp = fr.get("response") if isinstance(fr, dict) else None
        if isinstance(resp, dict):
            v = resp.get("output", resp.get("error", ""))
            parts.append(v if isinstance(v, str) else str(v))
    return "\n".join(parts)


def find_chat(out: HarnessOutput, session_id: str) -> Path | None:
    """The session's chat file: by the session id's first 8 characters in its name, else the
    newest chat file written while the session ran."""
    root = out.home / ".gemini" / "tmp"
    try:
        projects = [p / "chats" for p in root.iterdir() if p.is_dir()]
    except OSError:
        return None
    candidates: list[tuple[float, Path]] = []
    for chats in projects:
        try:
            files = sorted(chats.iterdir())[-MAX_CHAT_FILES:]
        except OSError:
            continue
        for f in files:
            if not f.name.startswith("session-"):
                continue
            if session_id and session_id[:8] in f.name:
                return f
            try:
                mtime = f.stat().st_mtime
            except OSError:
                continue
            if out.started_at and out.started_at - 5 <= mtime <= (out.ended_at or mtime) + 5:
                candidates.append((mtime, f))
    if not candidates:
        return None
    return max(candidates)[1]


__all__ = ["SOURCE", "find_chat", "read"]
