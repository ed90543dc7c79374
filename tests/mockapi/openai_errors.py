"""OpenAI's error envelope `{"error": {"message", "type", "param", "code"}}` and its headers,
shared by the Responses and Chat Completions mocks."""

from __future__ import annotations

from mockapi.server import Reply


def _error(
    status: int, message: str, etype: str, code: str | None, headers=(), param: str | None = None
) -> Reply:
    body = {"error": {"message": message, "type": etype, "param": param, "code": code}}
    return Reply.json(body, status, list(headers))


def rate_headers(remaining_tokens: int = 0) -> list[tuple[str, str]]:
    return [
        ("x-ratelimit-limit-requests", "500"),
        ("x-ratelimit-remaining-requests", "499"),
        ("x-ratelimit-reset-requests", "120ms"),
        ("x-ratelimit-limit-tokens", "30000"),
        ("x-ratelimit-remaining-tokens", str(remaining_tokens)),
        ("x-ratelimit-reset-tokens", "2.4s"),
    ]


def unknown_model(model: str, status: int = 404, responses: bool = False) -> Reply:
    if responses:
        msg = f"The requested model '{model}' does not exist."
        return _error(status, msg, "invalid_request_error", "model_not_found", param="model")
    msg = f"The model `{model}` does not exist or you do not have access to it."
    return _error(status, msg, "invalid_request_error", "model_not_found")


def reply(kind: str, model: str, now: float) -> Reply:
    if kind == "rate-limit":
        msg = (
            f"Rate limit reached for {model} in organization org-mock0000000000000000 on tokens"
            " per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in 2.4s."
            " Visit https://platform.openai.com/account/rate-limits to learn more."
        )
        return _error(429, msg, "tokens", "rate_limit_exceeded", [("retry-after", "3"), *rate_headers()])
    if kind == "insufficient-quota":
        msg = (
            "You exceeded your current quota, please check your plan and billing details. For"
            " more information on this error, read the docs:"
            " https://platform.openai.com/docs/guides/error-codes/api-errors."
        )
        return _error(429, msg, "insufficient_quota", "insufficient_quota")
    if kind == "auth":
        msg = (
            "Incorrect API key provided: sk-mock-***********************0000. You can find your"
            " API key at https://platform.openai.com/account/api-keys."
        )
        return _error(401, msg, "invalid_request_error", "invalid_api_key")
    if kind == "unknown-model":
        return unknown_model(model)
    if kind == "server-500":
        msg = "The server had an error while processing your request. Sorry about that!"
        return _error(500, msg, "server_error", None)
    if kind == "unavailable-503":
        return _error(503, "The server is overloaded or not ready yet.", "server_error", None)
    raise ValueError(f"openai has no error kind {kind!r}")
