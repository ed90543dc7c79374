"""Anthropic Messages API: `POST /v1/messages` (streaming SSE and not), `count_tokens`, `HEAD /`.

Errors carry Anthropic's real envelope `{"type": "error", "error": {"type", "message"}}` and the
headers a client reads: `retry-after` and `anthropic-ratelimit-*` for an API key, and the
`anthropic-ratelimit-unified-*` headers for a subscription (an OAuth token, `Authorization:
Bearer`), whose `representative-claim` names the exhausted window.
"""

from __future__ import annotations

import json
import time
from typing import Any

from mockapi.plan import Scenario
from mockapi.server import Reply, Request, sse_event
from mockapi.tools import pick_shell_tool, shell_args

ORG = "00000000-0000-4000-8000-000000000000"


def _rfc3339(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def is_oauth(req: Request) -> bool:
    return "authorization" in req.headers and "x-api-key" not in req.headers


def _error(status: int, etype: str, message: str, headers: list[tuple[str, str]]) -> Reply:
    body = {
        "type": "error",
        "error": {"type": etype, "message": message},
        "request_id": "req_011CMockRequest0000000000",
    }
    return Reply.json(body, status, headers)


def _key_limits(now: float, remaining: int = 49) -> list[tuple[str, str]]:
    """The API-key rate-limit headers of every response."""
    reset = _rfc3339(now + 1)
    return [
        ("anthropic-ratelimit-requests-limit", "50"),
        ("anthropic-ratelimit-requests-remaining", str(remaining)),
        ("anthropic-ratelimit-requests-reset", reset),
        ("anthropic-ratelimit-input-tokens-limit", "30000"),
        ("anthropic-ratelimit-input-tokens-remaining", "30000" if remaining else "0"),
        ("anthropic-ratelimit-input-tokens-reset", reset),
        ("anthropic-ratelimit-output-tokens-limit", "8000"),
        ("anthropic-ratelimit-output-tokens-remaining", "8000"),
        ("anthropic-ratelimit-output-tokens-reset", reset),
        ("anthropic-ratelimit-tokens-limit", "38000"),
        ("anthropic-ratelimit-tokens-remaining", "38000" if remaining else "8000"),
        ("anthropic-ratelimit-tokens-reset", reset),
    ]


def unified_headers(
    now: float, status: str = "allowed", claim: str | None = "five_hour"
) -> list[tuple[str, str]]:
    """Subscription headers. Windows: 5h resets in 2 h 17 min, 7d in 3 days 4 h."""
    five = int(now + 2 * 3600 + 17 * 60)
    seven = int(now + 3 * 86400 + 4 * 3600)
    five_used = "1.0" if claim == "five_hour" and status == "rejected" else "0.23"
    seven_used = "1.0" if claim and claim.startswith("seven_day") and status == "rejected" else "0.41"
    reset = five if claim in (None, "five_hour") else seven
    out = [
        ("anthropic-ratelimit-unified-status", status),
        ("anthropic-ratelimit-unified-reset", str(reset)),
        ("anthropic-ratelimit-unified-5h-status", "rejected" if five_used == "1.0" else "allowed"),
        ("anthropic-ratelimit-unified-5h-reset", str(five)),
        ("anthropic-ratelimit-unified-5h-utilization", five_used),
        ("anthropic-ratelimit-unified-7d-status", "rejected" if seven_used == "1.0" else "allowed"),
        ("anthropic-ratelimit-unified-7d-reset", str(seven)),
        ("anthropic-ratelimit-unified-7d-utilization", seven_used),
        ("anthropic-ratelimit-unified-fallback-percentage", "0.5"),
        ("anthropic-ratelimit-unified-overage-status", "rejected"),
        ("anthropic-ratelimit-unified-overage-disabled-reason", "org_level_disabled"),
    ]
    if claim:
        out.append(("anthropic-ratelimit-unified-representative-claim", claim))
    return out


def error_reply(kind: str, req: Request, model: str, now: float) -> Reply:
    if kind == "rate-limit":
        msg = (
            f"This request would exceed the rate limit for your organization ({ORG}) of 50 "
            "requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits."
            " You can see the response headers for current usage. Please reduce the prompt length"
            " or the maximum tokens requested, or try again later. You may also contact sales at"
            " https://www.anthropic.com/contact-sales to discuss your options for a rate limit"
            " increase."
        )
        headers = [("retry-after", "2"), ("x-should-retry", "true"), *_key_limits(now, 0)]
        return _error(429, "rate_limit_error", msg, headers)
    if kind in ("limit-session", "limit-weekly-opus"):
        claim = {"limit-session": "five_hour", "limit-weekly-opus": "seven_day_opus"}[kind]
        headers = [("x-should-retry", "false"), *unified_headers(now, "rejected", claim)]
        return _error(429, "rate_limit_error", "Error", headers)
    if kind == "throttled":  # a subscriber's 429 that no window explains: no unified headers
        return _error(429, "rate_limit_error", "Error", [("x-should-retry", "true")])
    if kind == "auth":
        msg = "OAuth token has expired." if is_oauth(req) else "invalid x-api-key"
        return _error(401, "authentication_error", msg, [])
    if kind == "unknown-model":
        return _error(404, "not_found_error", f"model: {model}", [])
    if kind == "server-500":
        return _error(500, "api_error", "Internal server error", [("x-should-retry", "true")])
    if kind == "unavailable-503":
        return _error(503, "api_error", "Service Unavailable", [("x-should-retry", "true")])
    if kind == "overloaded-529":
        return _error(529, "overloaded_error", "Overloaded", [("x-should-retry", "true")])
    raise ValueError(f"anthropic has no error kind {kind!r}")


def _tools(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for t in body.get("tools") or []:
        if isinstance(t, dict) and "name" in t:
            out.append((str(t["name"]), t.get("input_schema") or {}))
    return out


def _steps_done(body: dict[str, Any]) -> int:
    n = 0
    for m in body.get("messages") or []:
        if m.get("role") == "assistant" and isinstance(m.get("content"), list):
            if any(isinstance(b, dict) and b.get("type") == "tool_use" for b in m["content"]):
                n += 1
    return n


def handle(req: Request, scn: Scenario, now: float) -> Reply | None:
    if req.method == "HEAD" and req.path in ("/", ""):
        return Reply(status=200)
    if req.path.endswith("/v1/messages/count_tokens"):
        return Reply.json({"input_tokens": 1200})
    if not req.path.endswith("/v1/messages") or req.method != "POST":
        return None
    body = req.json if isinstance(req.json, dict) else {}
    asked = str(body.get("model") or "claude-sonnet-4-5")
    if scn.hang:
        return Reply(hang=True)
    if scn.error:
        return error_reply(scn.error, req, asked, now)
    model = scn.served_model or asked
    content: list[dict[str, Any]] = []
    tools = _tools(body)
    step = scn.next_step(_steps_done(body)) if tools else None
    shell = pick_shell_tool(tools) if step else None
    if step and shell:
        n = _steps_done(body) + 1
        content.append({"type": "text", "text": f"I'll {step.describe()}."})
        content.append(
            {
                "type": "tool_use",
                "id": f"toolu_mock{n:04d}",
                "name": shell[0],
                "input": shell_args(shell[1], step.shell(), step.describe()),
            }
        )
        stop = "tool_use"
    else:
        content.append({"type": "text", "text": scn.text if tools or not scn.steps else "OK."})
        stop = "end_turn"
    headers = unified_headers(now) if is_oauth(req) else _key_limits(now)
    usage = {
        "input_tokens": 1200,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 40,
        "service_tier": "standard",
    }
    msg_id = f"msg_mock{len(body.get('messages') or []):04d}"
    if not body.get("stream"):
        message = {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }
        return Reply.json(message, 200, headers)
    return Reply.sse(_stream(msg_id, model, content, stop, usage), headers)


def _stream(msg_id: str, model: str, content: list[dict[str, Any]], stop: str, usage: dict):
    start = {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    yield sse_event({"type": "message_start", "message": start}, "message_start")
    yield sse_event({"type": "ping"}, "ping")
    for i, block in enumerate(content):
        if block["type"] == "text":
            yield sse_event(
                {"type": "content_block_start", "index": i,
                 "content_block": {"type": "text", "text": ""}},
                "content_block_start",
            )
            yield sse_event(
                {"type": "content_block_delta", "index": i,
                 "delta": {"type": "text_delta", "text": block["text"]}},
                "content_block_delta",
            )
        else:
            head = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            yield sse_event(
                {"type": "content_block_start", "index": i, "content_block": head},
                "content_block_start",
            )
            yield sse_event(
                {"type": "content_block_delta", "index": i,
                 "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}},
                "content_block_delta",
            )
        yield sse_event({"type": "content_block_stop", "index": i}, "content_block_stop")
    yield sse_event(
        {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
         "usage": {"output_tokens": usage["output_tokens"]}},
        "message_delta",
    )
    yield sse_event({"type": "message_stop"}, "message_stop")
