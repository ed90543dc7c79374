"""The local provider mocks (tests/mockapi) on their own: real HTTP on 127.0.0.1, each provider's
wire format, its error bodies and headers. The real CLIs against them: tests/realcli/."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from mockapi import OTHER_MODEL, SCENARIOS, serve
from mockapi.responses import later_today

NOW = 1_796_000_000.0  # 2026-11-29 07:33:20 UTC


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None):
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def _sse(text: str) -> list[dict[str, Any]]:
    out = []
    for block in text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: ") and line[6:] != "[DONE]":
                out.append(json.loads(line[6:]))
    return out


@pytest.fixture
def api_for() -> Iterator:
    servers = []

    def start(name: str, clock=lambda: NOW):
        s = serve(SCENARIOS[name], clock).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


BASH = {"name": "Bash", "input_schema": {"type": "object", "required": ["command"],
                                          "properties": {"command": {"type": "string"},
                                                         "description": {"type": "string"}}}}


def test_anthropic_stream_runs_the_plan_then_answers(api_for) -> None:
    api = api_for("commit-one")
    url = api.url + "/v1/messages?beta=true"
    body = {"model": "claude-sonnet-5", "stream": True, "tools": [BASH],
            "messages": [{"role": "user", "content": "go"}]}
    status, headers, text = _post(url, body, {"x-api-key": "k"})
    events = _sse(text)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert [e["type"] for e in events][0] == "message_start"
    assert events[0]["message"]["model"] == "claude-sonnet-5"
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts[-1]["type"] == "tool_use" and starts[-1]["name"] == "Bash"
    args = json.loads(next(e["delta"]["partial_json"] for e in events
                           if e.get("delta", {}).get("type") == "input_json_delta"))
    assert "git commit -q -m 'Add hello.txt'" in args["command"]
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    # after the tool result, the closing answer
    body["messages"] += [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash",
                                           "input": args}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1"}]},
    ]
    _, _, text = _post(url, body, {"x-api-key": "k"})
    deltas = [e["delta"].get("text") for e in _sse(text) if e["type"] == "content_block_delta"]
    assert deltas == ["Created hello.txt and committed it."]
    assert _post(api.url + "/v1/messages", {**body, "stream": False})[2].startswith("{")


def test_anthropic_errors_carry_real_bodies_and_headers(api_for) -> None:
    body = {"model": "claude-opus-4-6", "messages": [{"role": "user", "content": "x"}]}
    status, headers, text = _post(api_for("rate-limit").url + "/v1/messages", body,
                                  {"x-api-key": "k"})
    assert status == 429 and headers["retry-after"] == "2"
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert json.loads(text)["error"]["type"] == "rate_limit_error"
    status, headers, text = _post(api_for("limit-weekly-opus").url + "/v1/messages", body,
                                  {"authorization": "Bearer t"})
    assert status == 429 and json.loads(text)["error"]["message"] == "Error"
    assert headers["anthropic-ratelimit-unified-status"] == "rejected"
    assert headers["anthropic-ratelimit-unified-representative-claim"] == "seven_day_opus"
    assert int(headers["anthropic-ratelimit-unified-reset"]) == int(NOW + 3 * 86400 + 4 * 3600)
    status, headers, _ = _post(api_for("throttled").url + "/v1/messages", body,
                               {"authorization": "Bearer t"})
    assert status == 429 and not any(h.startswith("anthropic-ratelimit") for h in headers)
    for name, code, etype in [("auth", 401, "authentication_error"),
                              ("unknown-model", 404, "not_found_error"),
                              ("overloaded-529", 529, "overloaded_error")]:
        status, _, text = _post(api_for(name).url + "/v1/messages", body, {"x-api-key": "k"})
        assert (status, json.loads(text)["error"]["type"]) == (code, etype)


def test_responses_stream_and_codex_limit_headers(api_for) -> None:
    api = api_for("other-model")
    status, headers, text = _post(api.url + "/v1/responses",
                                  {"model": "gpt-5.5", "stream": True, "input": []})
    events = _sse(text)
    assert status == 200 and headers["openai-model"] == OTHER_MODEL
    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["model"] == OTHER_MODEL
    assert headers["x-codex-primary-window-minutes"] == "300"
    assert headers["x-codex-secondary-window-minutes"] == "10080"
    status, headers, text = _post(api_for("usage-limit-days").url + "/v1/responses",
                                  {"model": "gpt-5.5", "input": []})
    err = json.loads(text)["error"]
    assert status == 429 and err["type"] == "usage_limit_reached"
    assert err["resets_at"] == int(NOW + 3 * 86400)
    assert headers["x-codex-secondary-used-percent"] == "100"
    _, _, text = _post(api_for("usage-limit-today").url + "/v1/responses", {"input": []})
    resets = json.loads(text)["error"]["resets_at"]
    assert time.gmtime(resets).tm_yday == time.gmtime(NOW).tm_yday and resets > NOW


@pytest.mark.parametrize("now", [NOW, 1_796_083_170.0])  # morning, and 23:59:30 UTC
def test_later_today_stays_on_the_same_day(now: float) -> None:
    t = later_today(now)
    assert t >= now + 30 and t - now <= 2 * 3600 + 17 * 60
    if now == NOW:
        assert time.gmtime(t).tm_yday == time.gmtime(now).tm_yday


def test_chat_tool_calls_and_text_mode(api_for) -> None:
    api = api_for("commit-several")
    shell = {"type": "function", "function": {"name": "bash", "parameters": {
        "type": "object", "required": ["command", "description"],
        "properties": {"command": {"type": "string"}, "description": {"type": "string"}}}}}
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True},
            "tools": [shell], "messages": [{"role": "user", "content": "go"}]}
    chunks = _sse(_post(api.url + "/v1/chat/completions", body)[2])
    calls = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks
             if c["choices"] and "tool_calls" in c["choices"][0]["delta"]]
    assert calls[0]["function"]["name"] == "bash"
    assert chunks[-1]["usage"]["total_tokens"] == 1550
    # aider gives no tools: the step comes back as file blocks in its diff format
    aider = {"model": "m", "messages": [
        {"role": "system", "content": "Act as an expert. Use SEARCH/REPLACE blocks."},
        {"role": "user", "content": "go"}]}
    _, _, text = _post(api.url + "/v1/chat/completions", aider)
    content = json.loads(text)["choices"][0]["message"]["content"]
    assert "notes/a.txt\n```\n<<<<<<< SEARCH\n=======\nalpha\n>>>>>>> REPLACE" in content
    for name, code, ecode in [("insufficient-quota", 429, "insufficient_quota"),
                              ("rate-limit", 429, "rate_limit_exceeded"),
                              ("auth", 401, "invalid_api_key"),
                              ("unknown-model", 404, "model_not_found")]:
        status, headers, text = _post(api_for(name).url + "/v1/chat/completions", body)
        assert (status, json.loads(text)["error"]["code"]) == (code, ecode)


def test_gemini_function_call_and_resource_exhausted(api_for) -> None:
    api = api_for("commit-one")
    tools = [{"functionDeclarations": [{"name": "run_shell_command", "parametersJsonSchema": {
        "type": "object", "required": ["command"],
        "properties": {"command": {"type": "string"}}}}]}]
    url = api.url + "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    answer = _sse(_post(url, {"contents": [{"role": "user", "parts": [{"text": "go"}]}],
                              "tools": tools})[2])[0]
    parts = answer["candidates"][0]["content"]["parts"]
    assert parts[1]["functionCall"]["name"] == "run_shell_command"
    assert answer["modelVersion"] == "gemini-2.5-pro"
    status, _, text = _post(api_for("quota-exhausted").url + url.split(api.url)[1], {})
    err = json.loads(text)["error"]
    assert status == 429 and err["status"] == "RESOURCE_EXHAUSTED"
    retry = [d for d in err["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                      "retryDelay": "25923.5s"}]


def test_hang_answers_nothing_until_the_server_stops(api_for) -> None:
    api = api_for("hang")
    req = urllib.request.Request(api.url + "/v1/chat/completions", data=b"{}", method="POST")
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(req, timeout=0.5)
    assert len(api.requests) == 1


def test_listens_on_loopback_only() -> None:
    from mockapi.server import MockAPI

    with pytest.raises(ValueError):
        MockAPI(lambda r: None, host="0.0.0.0")
