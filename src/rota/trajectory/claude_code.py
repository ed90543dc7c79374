"""Claude Code's `--output-format stream-json` lines -> a Trajectory.

- `system/init`: the model. `assistant` lines: one per content block, several sharing a message id
  (usage is per message: counted once); `tool_use` blocks name the tool and its input.
- `user` lines carry `tool_result` blocks with `is_error`; Bash results hold the command's output.
- the `result` line: `num_turns`, `total_cost_usd`, `usage` (the session's total), `is_error`,
  `subtype` (`error_max_turns` when the turn limit stopped it) and the final `result` text.
Lines of subagents (`parent_tool_use_id` set) count as tool work, not as turns of the session.
"""

from __future__ import annotations

from typing import Any

from rota.trajectory.prs import note_command
from rota.trajectory.record import Command, Trajectory, Usage
from rota.trajectory.source import HarnessOutput, integer, number, text_of

SOURCE = "claude-code stream-json"
SHELL_TOOLS = ("Bash",)
EDIT_TOOLS = ("Edit", "MultiEdit", "Write", "NotebookEdit")
TURN_LIMIT_SUBTYPES = ("error_max_turns",)


def usage_of(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    return Usage(
        input_tokens=integer(u.get("input_tokens")),
        output_tokens=integer(u.get("output_tokens")),
        cache_read_tokens=integer(u.get("cache_read_input_tokens")),
        cache_write_tokens=integer(u.get("cache_creation_input_tokens")),
    )


def read(out: HarnessOutput) -> Trajectory:
    t = Trajectory(source=SOURCE)
    pending: dict[str, Command] = {}  # tool_use id -> the call, until its result arrives
    names: dict[str, str] = {}
    seen_messages: set[str] = set()
    per_message = Usage()
    edited: set[str] = set()
    result: dict[str, Any] | None = None
    turns = 0
    messages = 0
    last_text = ""
    any_line = False
    for obj in out.json_lines():
        kind = obj.get("type")
        if kind == "system" and obj.get("subtype") == "init":
            any_line = True
            if isinstance(obj.get("model"), str) and obj["model"]:
                t.model = t.model or obj["model"]
        elif kind == "assistant":
            any_line = True
            msg = obj.get("message") if isinstance(obj.get("message"), dict) else {}
            mid = str(msg.get("id") or "")
            main = not obj.get("parent_tool_use_id")
            model = msg.get("model")
            if main and isinstance(model, str) and model and model != "<synthetic>":
                t.model = model
            if mid and mid not in seen_messages:
                seen_messages.add(mid)
                if main and model != "<synthetic>":
                    turns += 1
                u = usage_of(msg.get("usage"))
                if u is not None:
                    per_message.add(u)
            content = msg.get("content") if isinstance(msg.get("content"), list) else []
            for block in content:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "text" and main:
                    text = block.get("text")
                    if isinstance(text, str) and text.strip():
                        messages += 1
                        last_text = text
                elif block.get("type") == "tool_use":
                    tid = str(block.get("id") or "")
                    name = str(block.get("name") or "?")
                    inp = block.get("input") if isinstance(block.get("input"), dict) else {}
                    names[tid] = name
                    if name in EDIT_TOOLS:
                        path = inp.get("file_path") or inp.get("notebook_path")
                        if isinstance(path, str) and path:
                            edited.add(path)
                    text = inp.get("command") if name in SHELL_TOOLS else None
                    pending[tid] = Command(name, text if isinstance(text, str) else "")
        elif kind == "user":
            any_line = True
            msg = obj.get("message") if isinstance(obj.get("message"), dict) else {}
            content = msg.get("content") if isinstance(msg.get("content"), list) else []
            for block in content:
                if not isinstance(block, dict) or block.get("type") != "tool_result":
                    continue
                tid = str(block.get("tool_use_id") or "")
                cmd = pending.pop(tid, None)
                name = names.get(tid, cmd.tool if cmd else "?")
                ok = not bool(block.get("is_error"))
                t.tool(name, ok)
                if cmd is not None and name in SHELL_TOOLS:
                    cmd.ok = ok
                    cmd.output = text_of(block.get("content"))
                    cmd.exit_code = _exit_code(cmd.output, ok)
                    t.command(cmd)
                    note_command(t, cmd)
        elif kind == "result":
            any_line = True
            result = obj
    for cmd in pending.values():  # calls whose result never came (the session was cut short)
        t.tool(cmd.tool, None)
        if cmd.tool in SHELL_TOOLS:
            t.command(cmd)
    if not any_line:
        t.source = "none"
        t.notes.append("no stream-json line in the output")
        return t
    t.turns = turns
    t.messages = messages
    t.files_edited = len(edited)
    if t.tool_calls is None:
        t.tool_calls, t.tool_errors = 0, 0
    t.set_final(last_text)
    if per_message.total:
        t.usage = per_message
    if result is not None:
        n = result.get("num_turns")
        if isinstance(n, int) and not isinstance(n, bool) and n >= 0:
            t.turns = n
        t.cost_usd = number(result.get("total_cost_usd"))
        u = usage_of(result.get("usage"))
        if u is not None and u.total:
            t.usage = u  # the session's own total (includes subagents)
        if "is_error" in result:
            t.verdict = not bool(result.get("is_error"))
        if str(result.get("subtype", "")) in TURN_LIMIT_SUBTYPES:
            t.turn_limit = True
        if isinstance(result.get("result"), str):
            t.set_final(result["result"])
    else:
        t.notes.append("no result line: the session was cut short")
    return t


def _exit_code(output: str, ok: bool) -> int | None:
    # Bash results of a failing command start with "Exit code N".
    head = output.lstrip()[:40]
    for prefix in ("Exit code ", "Error: Exit code "):
        if head.startswith(prefix):
            digits = head[len(prefix) :].split(None, 1)[0] if head[len(prefix) :] else ""
            if digits.isdigit():
                return int(digits)
    return 0 if ok else None


__all__ = ["SOURCE", "read"]
