"""OpenAI Responses API (`POST /v1/responses`, server-sent events), as codex speaks it.

Every answer carries the ChatGPT-plan rate-limit headers codex records in its rollout file:
`x-codex-primary-*` (the 5-hour window) and `x-codex-secondary-*` (the weekly one), each with
`used-percent`, `window-minutes` and `reset-at` (unix seconds). A 429 `usage_limit_reached` body
carries `plan_type`, `resets_at` and `resets_in_seconds`. The `openai-model` header names the model
that served the request (codex prints "model rerouted" when it differs from the one asked for).
"""

from __future__ import annotations

import json
from typing import Any

from mockapi import openai_errors
from mockapi.plan import Scenario
from mockapi.server import Reply, Request, sse_event
from mockapi.tools import pick_shell_tool, shell_args

USAGE = {
    "input_tokens": 2100,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 60,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 2160,
}


def later_today(now: float) -> int:
    """A reset later on the same UTC day (at least a minute ahead), as "try again at 11:23 PM"."""
    midnight = (int(now) // 86400 + 1) * 86400
    return int(now + max(60.0, min(2 * 3600 + 17 * 60, (midnight - now) / 2)))


def codex_limits(
    now: float, primary_used: float = 12.0, secondary_used: float = 31.0,
    primary_reset: int | None = None, secondary_reset: int | None = None,
) -> list[tuple[str, str]]:
    p_reset = primary_reset or int(now + 3 * 3600 + 40 * 60)
    s_reset = secondary_reset or int(now + 4 * 86400 + 6 * 3600)
    return [
        ("x-codex-primary-used-percent", f"{primary_used:g}"),
        ("x-codex-primary-window-minutes", "300"),
        ("x-codex-primary-reset-at", str(p_reset)),
        ("x-codex-secondary-used-percent", f"{secondary_used:g}"),
        ("x-codex-secondary-window-minutes", "10080"),
        ("x-codex-secondary-reset-at", str(s_reset)),
        ("x-codex-primary-over-secondary-limit-percent", "0"),
    ]


def error_reply(kind: str, model: str, now: float) -> Reply:
    if kind in ("usage-limit-today", "usage-limit-days"):
        today = kind == "usage-limit-today"
        resets = later_today(now) if today else int(now + 3 * 86400)
        body = {
            "error": {
                "type": "usage_limit_reached",
                "message": "The usage limit has been reached",
                "plan_type": "plus",
                "resets_at": resets,
                "resets_in_seconds": int(resets - now),
            }
        }
        headers = (
            codex_limits(now, 100, 64, primary_reset=resets)
            if today
            else codex_limits(now, 37, 100, secondary_reset=resets)
        )
        return Reply.json(body, 429, headers)
    if kind == "unknown-model":
        return openai_errors.unknown_model(model, status=400, responses=True)
    return openai_errors.reply(kind, model, now)


def _tools(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for t in body.get("tools") or []:
        if not isinstance(t, dict):
            continue
        if t.get("type") == "function" and "name" in t:
            out.append((str(t["name"]), t.get("parameters") or {}))
    return out


def _steps_done(body: dict[str, Any]) -> int:
    items = body.get("input") or []
    return sum(
        1
        for it in items
        if isinstance(it, dict) and it.get("type") in ("function_call", "local_shell_call")
    )


def handle(req: Request, scn: Scenario, now: float) -> Reply | None:
    if req.method == "GET" and req.path.endswith("/models"):
        return Reply.json({"models": []})
    if not req.path.endswith("/responses") or req.method != "POST":
        return None
    body = req.json if isinstance(req.json, dict) else {}
    asked = str(body.get("model") or "gpt-5")
    if scn.hang:
        return Reply(hang=True)
    if scn.error:
        return error_reply(scn.error, asked, now)
    model = scn.served_model or asked
    tools = _tools(body)
    done = _steps_done(body)
    step = scn.next_step(done) if tools else None
    shell = pick_shell_tool(tools) if step else None
    rid = f"resp_mock{len(body.get('input') or []):04d}"
    if step and shell:
        item = {
            "type": "function_call",
            "id": f"fc_mock{done + 1:04d}",
            "call_id": f"call_mock{done + 1:04d}",
            "name": shell[0],
            "arguments": json.dumps(shell_args(shell[1], step.shell(), step.describe())),
            "status": "completed",
        }
    else:
        item = {
            "type": "message",
            "id": f"msg_mock{done:04d}",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": scn.text, "annotations": []}],
        }
    headers = [("openai-model", model), *codex_limits(now)]
    if not body.get("stream"):
        return Reply.json(
            {"id": rid, "object": "response", "created_at": int(now), "model": model,
             "status": "completed", "output": [item], "usage": USAGE},
            200,
            headers,
        )
    return Reply.sse(_stream(rid, model, item, now), headers)


def _stream(rid: str, model: str, item: dict[str, Any], now: float):
    base = {"id": rid, "object": "response", "created_at": int(now), "model": model}
    yield sse_event(
        {"type": "response.created", "response": {**base, "status": "in_progress", "output": []}},
        "response.created",
    )
    started = {**item, "status": "in_progress"}
    if item["type"] == "message":
        started["content"] = []
    else:
        started["arguments"] = ""
    yield sse_event(
        {"type": "response.output_item.added", "output_index": 0, "item": started},
        "response.output_item.added",
    )
    if item["type"] == "message":
        text = item["content"][0]["text"]
        yield sse_event(
            {"type": "response.content_part.added", "item_id": item["id"], "output_index": 0,
             "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}},
            "response.content_part.added",
        )
        yield sse_event(
            {"type": "response.output_text.delta", "item_id": item["id"], "output_index": 0,
             "content_index": 0, "delta": text},
            "response.output_text.delta",
        )
        yield sse_event(
            {"type": "response.output_text.done", "item_id": item["id"], "output_index": 0,
             "content_index": 0, "text": text},
            "response.output_text.done",
        )
    else:
        yield sse_event(
            {"type": "response.function_call_arguments.delta", "item_id": item["id"],
             "output_index": 0, "delta": item["arguments"]},
            "response.function_call_arguments.delta",
        )
    yield sse_event(
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        "response.output_item.done",
    )
    usage = USAGE
    yield sse_event(
        {"type": "response.completed",
         "response": {**base, "status": "completed", "output": [item], "usage": usage}},
        "response.completed",
    )

