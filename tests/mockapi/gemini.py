"""Gemini API: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`, `:generateContent`,
`:countTokens`, and `GET /v1beta/models`.

Errors carry Google's envelope `{"error": {"code", "message", "status", "details"}}`. A 429 is
`RESOURCE_EXHAUSTED` with `google.rpc.QuotaFailure` (which quota) and `google.rpc.RetryInfo`
(`retryDelay`, a protobuf duration such as "26s"); gemini-cli retries a short delay and gives up
at once on a long one. A bad key is a 400 `INVALID_ARGUMENT` with `API_KEY_INVALID` (Gemini does
not answer 401 for an unknown key).
"""

from __future__ import annotations

import re
from typing import Any

from mockapi.plan import Scenario
from mockapi.server import Reply, Request, sse_event
from mockapi.tools import pick_shell_tool, shell_args

_HELP = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [
        {"description": "Learn more about Gemini API quotas",
         "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}
    ],
}


def _error(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None):
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        err["details"] = details
    return Reply.json({"error": err}, code)


def _quota(model: str, quota_id: str, metric: str, value: str, delay: str) -> list[dict]:
    return [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaMetric": f"generativelanguage.googleapis.com/{metric}",
                         "quotaId": quota_id,
                         "quotaDimensions": {"location": "global", "model": model},
                         "quotaValue": value}]},
        _HELP,
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
    ]


def error_reply(kind: str, model: str) -> Reply:
    quota_msg = (
        "You exceeded your current quota, please check your plan and billing details. For more"
        " information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
        " To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n"
        "* Quota exceeded for metric: generativelanguage.googleapis.com/"
    )
    if kind == "rate-limit":  # per minute: gemini-cli retries after the RetryInfo delay
        details = _quota(model, "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                         "generate_content_free_tier_requests", "10", "2s")
        msg = quota_msg + f"generate_content_free_tier_requests, limit: 10, model: {model}\n" \
            "Please retry in 2.061s."
        return _error(429, "RESOURCE_EXHAUSTED", msg, details)
    if kind == "capacity-exhausted":  # the Code Assist backend a Google login talks to
        msg = "You have exhausted your capacity on this model. Your quota will reset after 7h12m3.5s."
        details = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
             "reason": "MODEL_CAPACITY_EXHAUSTED", "domain": "cloudcode-pa.googleapis.com",
             "metadata": {"model": model}},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "25923.5s"},
        ]
        return _error(429, "RESOURCE_EXHAUSTED", msg, details)
    if kind == "quota-exhausted":  # a per-day quota: gemini-cli gives up at once, no reset
        details = _quota(model, "GenerateContentInputTokensPerModelPerDay-Tier1",
                         "generate_content_paid_tier_input_token_count", "5000000", "25923.5s")
        msg = quota_msg + f"generate_content_paid_tier_input_token_count, limit: 5000000, " \
            f"model: {model}\nPlease retry in 25923.5s."
        return _error(429, "RESOURCE_EXHAUSTED", msg, details)
    if kind == "auth":
        msg = "API key not valid. Please pass a valid API key."
        details = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com",
             "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
             "message": msg},
        ]
        return _error(400, "INVALID_ARGUMENT", msg, details)
    if kind == "unknown-model":
        msg = (
            f"models/{model} is not found for API version v1beta, or is not supported for"
            " generateContent. Call ListModels to see the list of available models and their"
            " supported methods."
        )
        return _error(404, "NOT_FOUND", msg)
    if kind == "server-500":
        msg = (
            "An internal error has occurred. Please retry or report in"
            " https://developers.generativeai.google/guide/troubleshooting"
        )
        return _error(500, "INTERNAL", msg)
    if kind == "unavailable-503":
        return _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    raise ValueError(f"gemini has no error kind {kind!r}")


def _tools(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for t in body.get("tools") or []:
        for d in t.get("functionDeclarations") or [] if isinstance(t, dict) else []:
            schema = d.get("parametersJsonSchema") or d.get("parameters") or {}
            out.append((str(d.get("name")), _lower_types(schema)))
    return out


def _lower_types(schema: Any) -> Any:
    """Gemini's OpenAPI-style schemas spell types in capitals ("STRING")."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def _steps_done(body: dict[str, Any]) -> int:
    n = 0
    for c in body.get("contents") or []:
        if c.get("role") == "model" and any("functionCall" in p for p in c.get("parts") or []):
            n += 1
    return n


_PATH = re.compile(r"/models/([^/:]+):(streamGenerateContent|generateContent|countTokens)$")


def handle(req: Request, scn: Scenario, now: float) -> Reply | None:
    if req.method == "GET" and re.search(r"/v1(beta)?/models/?$", req.path):
        return Reply.json({"models": []})
    m = _PATH.search(req.path)
    if not m or req.method != "POST":
        return None
    asked, method = m.group(1), m.group(2)
    if method == "countTokens":
        return Reply.json({"totalTokens": 1200})
    body = req.json if isinstance(req.json, dict) else {}
    if scn.hang:
        return Reply(hang=True)
    if scn.error:
        return error_reply(scn.error, asked)
    model = scn.served_model or asked
    tools = _tools(body)
    done = _steps_done(body)
    step = scn.next_step(done) if tools else None
    shell = pick_shell_tool(tools) if step else None
    if step and shell:
        parts: list[dict[str, Any]] = [
            {"text": f"I'll {step.describe()}."},
            {"functionCall": {"name": shell[0],
                              "args": shell_args(shell[1], step.shell(), step.describe())}},
        ]
    else:
        parts = [{"text": scn.text if tools or not scn.steps else "OK."}]
    answer = {
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP",
                        "index": 0}],
        "usageMetadata": {"promptTokenCount": 1800, "candidatesTokenCount": 45,
                          "totalTokenCount": 1845},
        "modelVersion": model,
        "responseId": f"mock-{len(body.get('contents') or [])}",
    }
    if method == "generateContent":
        return Reply.json(answer)
    return Reply.sse([sse_event(answer)])
