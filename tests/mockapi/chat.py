"""OpenAI Chat Completions (`POST …/chat/completions`, streaming and not) and `GET …/models`,
as gptme, aider (through litellm), opencode (`@ai-sdk/openai-compatible`) and copilot (own-key
mode) speak it.

A CLI that offers function tools gets a `tool_calls` answer for each plan step. A CLI that gives
its model no tools acts on the text of the answer instead; the step is then written the way that
CLI reads it (see `text_mode`): a fenced shell block for gptme's markdown tools, file blocks for
aider's edit formats.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mockapi import openai_errors
from mockapi.plan import Scenario, Step
from mockapi.server import Reply, Request, sse_event
from mockapi.tools import pick_shell_tool, shell_args


def _tools(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for t in body.get("tools") or []:
        fn = t.get("function") if isinstance(t, dict) else None
        if isinstance(fn, dict) and "name" in fn:
            out.append((str(fn["name"]), fn.get("parameters") or {}))
    return out


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _system(body: dict[str, Any]) -> str:
    return "\n".join(
        _text(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "system"
    )


def text_mode(body: dict[str, Any]) -> str | None:
    """How a tool-less CLI reads actions from the answer: "aider-whole", "aider-diff",
    "markdown" (gptme), or None (a plain question, e.g. a commit-message request)."""
    system = _system(body)
    if "aider" in system.lower() or "SEARCH/REPLACE" in system:
        if "commit message" in system.lower() and "SEARCH/REPLACE" not in system:
            return None
        return "aider-diff" if "SEARCH/REPLACE" in system else "aider-whole"
    if "gptme" in system.lower() or "```shell" in system:
        return "markdown"
    return None


def _steps_done(body: dict[str, Any], mode: str | None) -> int:
    n = 0
    for m in body.get("messages") or []:
        if m.get("role") != "assistant":
            continue
        if m.get("tool_calls"):
            n += 1
        elif mode and "MOCKSTEP" in _text(m.get("content")):
            n += 1
    return n


def render_text_step(step: Step, mode: str, index: int) -> str:
    """A plan step as answer text for a tool-less CLI. `MOCKSTEP` marks it for counting."""
    head = f"MOCKSTEP {index}: I'll {step.describe()}.\n\n"
    if mode == "markdown":
        return head + f"```shell\n{step.shell()}\n```\n"
    if step.fail:  # an edit that cannot apply: its SEARCH text is not in the file
        path = step.fail.split()[-1]
        return head + (
            f"{path}\n```\n<<<<<<< SEARCH\nthis text is not in the file\n=======\n"
            f"replacement\n>>>>>>> REPLACE\n```\n"
        )
    blocks = []
    for path, text in step.files:
        if mode == "aider-diff":
            blocks.append(f"{path}\n```\n<<<<<<< SEARCH\n=======\n{text}\n>>>>>>> REPLACE\n```\n")
        else:
            blocks.append(f"{path}\n```\n{text}\n```\n")
    return head + "\n".join(blocks)


def error_reply(kind: str, model: str, now: float) -> Reply:
    return openai_errors.reply(kind, model, now)


def handle(req: Request, scn: Scenario, now: float) -> Reply | None:
    if req.method == "GET" and re.search(r"/models/?$", req.path):
        model = "mock-model"
        return Reply.json(
            {"object": "list",
             "data": [{"id": model, "object": "model", "created": 0, "owned_by": "mock"}]}
        )
    if not req.path.endswith("/chat/completions") or req.method != "POST":
        return None
    body = req.json if isinstance(req.json, dict) else {}
    asked = str(body.get("model") or "gpt-4o")
    if scn.hang:
        return Reply(hang=True)
    if scn.error:
        return error_reply(scn.error, asked, now)
    model = scn.served_model or asked
    tools = _tools(body)
    mode = None if tools else text_mode(body)
    done = _steps_done(body, mode)
    step = scn.next_step(done) if (tools or mode) else None
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish = "stop"
    shell = pick_shell_tool(tools) if step and tools else None
    if step and shell:
        args = shell_args(shell[1], step.shell(), step.describe())
        message["content"] = f"I'll {step.describe()}."
        message["tool_calls"] = [
            {"id": f"call_mock{done + 1:04d}", "type": "function",
             "function": {"name": shell[0], "arguments": json.dumps(args)}}
        ]
        finish = "tool_calls"
    elif step and mode:
        message["content"] = render_text_step(step, mode, done + 1)
    elif any(name == "complete" for name, _ in tools):
        # gptme's autonomous mode ends when the model calls its `complete` tool
        message["content"] = scn.text
        message["tool_calls"] = [
            {"id": f"call_mock{done + 1:04d}", "type": "function",
             "function": {"name": "complete", "arguments": "{}"}}
        ]
        finish = "tool_calls"
    elif mode is None and not tools and "commit message" in _system(body).lower():
        message["content"] = "Add files requested by the user"
    else:
        message["content"] = scn.text
    usage = {"prompt_tokens": 1500, "completion_tokens": 50, "total_tokens": 1550}
    cid = f"chatcmpl-mock{len(body.get('messages') or []):04d}"
    created = int(now)
    headers = openai_errors.rate_headers(29000)
    if not body.get("stream"):
        return Reply.json(
            {"id": cid, "object": "chat.completion", "created": created, "model": model,
             "choices": [{"index": 0, "message": message, "finish_reason": finish,
                          "logprobs": None}],
             "usage": usage, "system_fingerprint": "fp_mock"},
            200,
            headers,
        )
    want_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    return Reply.sse(_stream(cid, created, model, message, finish, usage, want_usage), headers)


def _stream(cid, created, model, message, finish, usage, want_usage):
    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
               "system_fingerprint": "fp_mock",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                            "logprobs": None}]}
        obj.update(extra)
        return sse_event(obj)

    yield chunk({"role": "assistant", "content": ""})
    if message.get("content"):
        yield chunk({"content": message["content"]})
    for i, call in enumerate(message.get("tool_calls") or []):
        yield chunk({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                     "function": {"name": call["function"]["name"],
                                                  "arguments": ""}}]})
        yield chunk({"tool_calls": [{"index": i,
                                     "function": {"arguments": call["function"]["arguments"]}}]})
    yield chunk({}, finish)
    if want_usage:
        yield sse_event({"id": cid, "object": "chat.completion.chunk", "created": created,
                         "model": model, "choices": [], "usage": usage})
    yield b"data: [DONE]\n\n"
