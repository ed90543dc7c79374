"""gptme: its conversation log -> a Trajectory.

gptme prints "Using logdir: <dir>" at the start; `<dir>/conversation.jsonl` has one message per
line. Assistant messages carry `metadata.usage`, `metadata.cost` (dollars) and `metadata.model`;
their tool calls are written `@tool(call_id): {json args}` (older versions: a fenced block such
as ```shell). The tool's answer is a system message with the same `call_id` and
`metadata.tool`: "Ran command: `…`", the output, and "Return code: N" when it failed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from rota.trajectory.prs import note_command
from rota.trajectory.record import Command, Trajectory, Usage
from rota.trajectory.source import HarnessOutput, integer, number, read_json_lines

SOURCE = "gptme conversation log"
SHELL_TOOLS = ("shell",)
EDIT_TOOLS = ("save", "patch", "append", "morph")
_LOGDIR = re.compile(r"Using logdir:\s*(\S+)")
_CALL = re.compile(r"^@(\w+)\((\w+)\):\s*(.*)$", re.M)
_FENCE = re.compile(r"^```(\w+)(?:[ \t]+(\S+))?\n(.*?)^```", re.M | re.S)
_RETURN_CODE = re.compile(r"Return code:\s*(-?\d+)")
_SESSION_COST = re.compile(r"Session:\s*\$([0-9.]+)\s*\|\s*(\d+)\s+turns")
CONTROL_TOOLS = ("complete",)  # ends the session: not work
FENCE_TOOLS = ("shell", "bash", "sh", "save", "patch", "append", "python", "ipython")


def read(out: HarnessOutput) -> Trajectory:
    t = Trajectory(source=SOURCE)
    text = out.text()
    m = _LOGDIR.search(text)
    conv = None
    if m:
        raw = m.group(1)
        folder = out.home / raw[2:] if raw.startswith("~/") else Path(raw)
        conv = folder / "conversation.jsonl"
    if conv is None or not _read_log(t, conv):
        t.source = "gptme output"
        t.notes.append(
            "conversation log not found" if conv is None else f"could not read {conv}"
        )
        s = _SESSION_COST.search(text)
        if s:
            t.cost_usd = float(s.group(1))
            t.turns = int(s.group(2))
        else:
            t.source = "none"
    if "Autonomous mode: Session completed" in text:
        t.verdict = True
    return t


def _read_log(t: Trajectory, path: Path) -> bool:
    calls: dict[str, Command] = {}
    order: list[str] = []
    usage = Usage()
    cost = 0.0
    got_cost = False
    turns = messages = 0
    edited: set[str] = set()
    found = False
    for msg in read_json_lines(path):
        found = True
        role = msg.get("role")
        content = msg.get("content") if isinstance(msg.get("content"), str) else ""
        meta = msg.get("metadata") if isinstance(msg.get("metadata"), dict) else {}
        if role == "assistant":
            turns += 1
            u = meta.get("usage") if isinstance(meta.get("usage"), dict) else {}
            usage.add(
                Usage(
                    input_tokens=integer(u.get("input_tokens")),
                    output_tokens=integer(u.get("output_tokens")),
                    cache_read_tokens=integer(u.get("cache_read_tokens")),
                    cache_write_tokens=integer(u.get("cache_creation_tokens")),
                )
            )
            c = number(meta.get("cost"))
            if c is not None:
                cost += c
                got_cost = True
            if isinstance(meta.get("model"), str):
                t.model = meta["model"]
            prose = _CALL.split(content)[0] if _CALL.search(content) else content
            prose = _FENCE.sub("", prose).strip()
            if prose:
                messages += 1
                t.set_final(prose)
            for tool, cid, args in _CALL.findall(content):
                cmd = Command(tool, _call_text(tool, args, content, cid))
                calls[cid] = cmd
                order.append(cid)
                path_arg = _path_arg(args)
                if tool in EDIT_TOOLS and path_arg:
                    edited.add(path_arg)
            if not _CALL.search(content):
                for lang, arg, body in _FENCE.findall(content):
                    if lang in FENCE_TOOLS:
                        cid = f"fence{len(order)}"
                        tool = "shell" if lang in ("bash", "sh") else lang
                        calls[cid] = Command(tool, body.strip() if tool == "shell" else "")
                        order.append(cid)
                        if tool in EDIT_TOOLS and arg:
                            edited.add(arg)
        elif role == "system" and (msg.get("call_id") or meta.get("tool")):
            cid = str(msg.get("call_id") or "")
            cmd = calls.get(cid)
            if cmd is None:  # a fenced call: answers come in order
                pending = [k for k in order if k.startswith("fence") and calls[k].ok is None]
                cmd = calls[pending[0]] if pending else None
            if cmd is None:
                continue
            rc = _RETURN_CODE.search(content)
            cmd.exit_code = int(rc.group(1)) if rc else 0
            cmd.ok = cmd.exit_code == 0 and not content.lstrip().startswith("Error")
            cmd.output = content
    if not found:
        return False
    for cid in order:
        cmd = calls[cid]
        if cmd.tool in CONTROL_TOOLS:
            continue
        t.tool(cmd.tool, cmd.ok)
        if cmd.tool in SHELL_TOOLS:
            t.command(cmd)
            note_command(t, cmd)
    if t.tool_calls is None:
        t.tool_calls, t.tool_errors = 0, 0
    t.turns, t.messages = turns, messages
    if usage.total:
        t.usage = usage
    if got_cost:
        t.cost_usd = round(cost, 6)
    t.files_edited = len(edited)
    return True


def _call_text(tool: str, args: str, content: str, cid: str) -> str:
    """The command of a shell call; its JSON args may span several lines."""
    start = content.find(f"@{tool}({cid}):")
    blob = content[start + len(tool) + len(cid) + 4 :].strip() if start >= 0 else args
    try:
        obj: Any = json.JSONDecoder().raw_decode(blob)[0]
    except ValueError:
        return args.strip()
    if isinstance(obj, dict):
        v = obj.get("command", obj.get("code", ""))
        return v if isinstance(v, str) else ""
    return ""


def _path_arg(args: str) -> str:
    try:
        obj = json.JSONDecoder().raw_decode(args.strip())[0]
    except ValueError:
        return ""
    v = obj.get("path") if isinstance(obj, dict) else None
    return v if isinstance(v, str) else ""


__all__ = ["SOURCE", "read"]
