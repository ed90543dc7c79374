"""The mocks speak each provider's protocol well enough for the real CLI: every one of the seven
completes a text answer, and runs a tool call that writes a file (and commits it, where the CLI's
sandbox lets it) in its workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockapi.plan import SCENARIOS
from realcli.clis import CLIS
from realcli.session import Recording, run_scenario

pytestmark = [pytest.mark.realcli, pytest.mark.slow]

# Where each CLI puts the final answer: stdout lines, or one field of a JSON document.
PATHS = {"anthropic": "/v1/messages", "responses": "/v1/responses",
         "chat": "/v1/chat/completions", "gemini": ":streamGenerateContent"}


def _answer(rec: Recording) -> str:
    """The CLI's final answer as it printed it."""
    if rec.cli == "gemini":
        return str(json.loads(rec.stdout)["response"])
    if rec.cli in ("claude-code", "codex", "opencode"):
        texts = []
        for line in rec.stdout.splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            texts.append(ev.get("result") or (ev.get("item") or {}).get("text")
                         or (ev.get("part") or {}).get("text") or "")
        return "\n".join(t for t in texts if t)
    return rec.stdout


def _model_requests(rec: Recording, provider: str) -> list[dict]:
    return [r for r in rec.requests if PATHS[provider] in r["path"] and r["method"] == "POST"]


@pytest.mark.parametrize("name", sorted(CLIS))
def test_text_answer(name: str, real_cli, tmp_path: Path) -> None:
    cli = real_cli(name)
    rec = run_scenario(cli, SCENARIOS["text"], tmp_path)
    assert rec.exit_code == 0, rec.stderr[-2000:] or rec.stdout[-2000:]
    assert "2 + 2 = 4." in _answer(rec)
    reqs = _model_requests(rec, cli.provider)
    assert reqs, f"{name} sent the mock no model request: {rec.requests}"
    assert all(r.get("auth_headers") for r in reqs), "a model request without credentials"
    assert rec.commits == []


@pytest.mark.parametrize("name", sorted(CLIS))
def test_tool_call_writes_and_commits(name: str, real_cli, tmp_path: Path) -> None:
    cli = real_cli(name)
    rec = run_scenario(cli, SCENARIOS["commit-one"], tmp_path)
    assert rec.exit_code == 0, rec.stderr[-2000:] or rec.stdout[-2000:]
    assert rec.workspace_files.get("hello.txt") == "hello\n"
    if name == "codex":
        # workspace-write mounts .git read-only (openai/codex#7071): the commit fails unless
        # .git is added to the sandbox's writable roots
        assert "?? hello.txt" in rec.status
    else:
        assert [c["files"] for c in rec.commits] == [["hello.txt"]], rec.commits
    if name == "aider":  # aider applies the edit blocks of one answer and commits them itself
        assert "Applied edit to hello.txt" in rec.stdout
    else:
        assert "Created hello.txt and committed it." in _answer(rec)
    assert len(_model_requests(rec, cli.provider)) >= 2  # the tool call, then the answer
