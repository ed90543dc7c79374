"""Authentication failures read from a harness's error channel (for the auth_failed event)."""

from __future__ import annotations

import json

from rota.config import HarnessConfig
from rota.harnesses.auth import auth_problem
from rota.harnesses.base import SessionOutput
from rota.harnesses.registry import profile_for


def out(code, stdout="", stderr=""):
    return SessionOutput(exit_code=code, stdout=stdout, stderr=stderr, ended_at=0.0)


def profile(name):
    return profile_for(name, HarnessConfig(name=name))


def test_each_cli_s_own_words_are_an_auth_failure():
    claude = profile("claude-code")
    result = {"type": "result", "is_error": True, "result": "Invalid API key · Please run /login"}
    assert "Invalid API key" in auth_problem(claude, out(1, json.dumps(result) + "\n"))
    assert auth_problem(
        claude, out(1, stderr="Error: OAuth token has expired. Please obtain a new token.")
    )
    codex = profile("codex")
    msg = "■ Failed to refresh token: 401 Unauthorized: Your refresh token has already been used"
    assert "refresh token" in auth_problem(codex, out(1, stderr=msg))
    assert auth_problem(codex, out(1, stderr="exceeded retry limit, last status: 401 Unauthorized"))
    gptme = profile("gptme")
    assert "authentication failed" in auth_problem(gptme, out(76))  # its documented exit code


def test_other_failures_and_agent_text_are_not():
    claude = profile("claude-code")
    assert auth_problem(claude, out(1, stderr="Error: connect ECONNREFUSED 127.0.0.1:443")) is None
    # what the agent wrote (a JSON line that is not an error) is not the CLI's error channel
    line = json.dumps({"type": "assistant", "text": "fix the 401 Unauthorized handler"})
    assert auth_problem(claude, out(0, line)) is None
    assert auth_problem(claude, out(0, stderr="invalid api key")) is None  # it succeeded
    assert auth_problem(profile("gptme"), out(77)) is None  # model unavailable: not a login
