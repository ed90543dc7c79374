"""Built-in harness profiles: argv, limit detection on the error channel, model seen, signals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rota.config import parse_config
from rota.harnesses import KNOWN_HARNESSES, canonical_model, get_profile, limit_scopes
from rota.harnesses.base import LimitHit, SessionOutput
from rota.harnesses.registry import config_problems


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


ENDED = ts(2026, 11, 27, 18, 31)


def out(stdout: str = "", stderr: str = "", code: int | None = 1) -> SessionOutput:
    return SessionOutput(exit_code=code, stdout=stdout, stderr=stderr, ended_at=ENDED)


def read(fixtures: Path, *parts: str) -> str:
    return fixtures.joinpath(*parts).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# argv and static facts


def test_every_known_harness_has_a_headless_argv() -> None:
    for name in KNOWN_HARNESSES:
        p = get_profile(name)
        assert p.name == name
        joined = " ".join(p.argv)
        assert ("{prompt}" in joined or "{prompt_file}" in joined) and "{model}" in joined, name
        assert p.argv[0] == p.executable
        assert p.default_models, name
        for spec in p.default_models.values():
            assert spec["tier"] in ("low", "medium", "high")
            assert float(spec["cost"]) > 0  # type: ignore[arg-type]


def test_argv_follows_harnesses_md() -> None:
    assert get_profile("claude-code").argv == [
        "claude", "-p", "--model", "{model}", "--output-format", "stream-json",
        "--verbose", "--permission-mode", "bypassPermissions", "--", "{prompt}",
    ]  # fmt: skip
    codex = get_profile("codex").argv
    assert "--ephemeral" not in codex and "--full-auto" not in codex
    assert codex[:2] == ["codex", "exec"] and "--json" in codex
    dirs = [codex[i + 1] for i, a in enumerate(codex) if a == "--add-dir"]
    assert dirs == ["{git_dir}", "{git_common_dir}"]  # so that it can commit
    assert get_profile("gptme").argv == [
        "gptme", "-n", "-m", "{model}", "-w", "{workspace}", "--", "{prompt}",
    ]  # fmt: skip
    assert get_profile("gptme").rate_limit_exit_codes == (75,)


def test_a_prompt_that_looks_like_an_option_stays_the_prompt() -> None:
    """`--` before the prompt where the CLI takes it, `--prompt=` where `--` is refused, a file
    for aider: a Markdown list ("- fix the tests") is never read as options
    (tests/fixtures/realcli/*/dash-prompt; what the other forms do: its README)."""
    for name in KNOWN_HARNESSES:
        argv = get_profile(name).argv
        if "{prompt}" in argv:
            assert argv[argv.index("{prompt}") - 1] == "--", name
        elif any(a.startswith("--prompt=") for a in argv):
            assert "--prompt={prompt}" in argv, name
        else:
            assert "{prompt_file}" in argv, name


def test_a_prompt_too_long_for_an_argument_goes_on_stdin_where_the_cli_reads_it() -> None:
    for name in KNOWN_HARNESSES:
        p = get_profile(name)
        if p.stdin_argv is None:
            assert "{prompt_file}" in p.argv, name
            continue
        assert not any("{prompt}" in a for a in p.stdin_argv), name
        assert p.stdin_argv[0] == p.executable


def test_unknown_harness_gets_a_generic_profile() -> None:
    p = get_profile("mytool")
    assert p.executable == "mytool" and p.argv == ["mytool", "{prompt}"]
    assert p.detect_limit(out(stderr="You've hit your limit")) is None


# ---------------------------------------------------------------------------------------------
# limit detection on the fixtures


@pytest.mark.parametrize(
    ("harness", "fixture", "resets_at", "scope_kind", "scope"),
    [
        ("claude-code", "claude-code-limit-old.txt", 1795824000.0, "harness", "claude-code"),
        (
            "claude-code",
            "claude-code-limit-new.txt",
            ts(2026, 11, 27, 23),
            "harness",
            "claude-code",
        ),
        (
            "claude-code",
            "claude-code-limit-session.txt",
            ts(2026, 11, 28, 3, 40),
            "harness",
            "claude-code",
        ),
        (
            "claude-code",
            "claude-code-limit-old-text.txt",
            ts(2026, 11, 27, 20),
            "harness",
            "claude-code",
        ),
        (
            "codex",
            "codex-limit-duration.txt",
            ENDED + (2 * 24 + 17) * 3600 + 240,
            "harness",
            "codex",
        ),
        ("copilot", "copilot-rate-limited.txt", ENDED + 7200, "harness", "copilot"),
        ("copilot", "copilot-no-quota.txt", ts(2026, 12, 1), "harness", "copilot"),
        ("gemini", "gemini-quota.txt", ts(2026, 11, 28), "arm", ""),
    ],
)
def test_limit_messages_on_stderr(
    fixtures_dir: Path, harness: str, fixture: str, resets_at: float, scope_kind: str, scope: str
) -> None:
    text = read(fixtures_dir, "outputs", fixture)
    hit = get_profile(harness).detect_limit(out(stderr=text))
    assert hit is not None
    assert hit.resets_at == pytest.approx(resets_at)
    assert (hit.scope_kind, hit.scope) == (scope_kind, scope)
    assert hit.message in text


def test_codex_wall_time_uses_the_local_zone(fixtures_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    text = read(fixtures_dir, "outputs", "codex-limit-time.txt")
    hit = get_profile("codex").detect_limit(out(stderr=text))
    assert hit is not None and hit.resets_at == ts(2026, 11, 28, 13, 57)


def test_limit_text_as_the_last_stdout_line_of_a_failed_text_mode_run(fixtures_dir: Path) -> None:
    text = read(fixtures_dir, "outputs", "claude-code-limit-old.txt")
    p = get_profile("claude-code")
    hit = p.detect_limit(out(stdout="working...\n" + text, code=1))
    assert hit is not None and hit.resets_at == 1795824000.0
    # The same line from a run that exited 0 is something the agent printed: not a limit.
    assert p.detect_limit(out(stdout="working...\n" + text, code=0)) is None


@pytest.mark.parametrize("harness", KNOWN_HARNESSES)
def test_a_text_that_mentions_limits_is_not_a_limit(fixtures_dir: Path, harness: str) -> None:
    text = read(fixtures_dir, "outputs", "not-a-limit.txt")
    p = get_profile(harness)
    for code in (0, 1, None):
        assert p.detect_limit(out(stdout=text, code=code)) is None
        assert p.detect_limit(out(stderr=text, code=code)) is None
    # As claude's final result too, whether or not the harness called it an error.
    for is_error in (False, True):
        line = json.dumps({"type": "result", "is_error": is_error, "result": text})
        assert p.detect_limit(out(stdout=line, code=1 if is_error else 0)) is None


def test_limit_phrases_inside_agent_output_are_ignored() -> None:
    p = get_profile("claude-code")
    stream = "\n".join(
        json.dumps(x)
        for x in [
            {
                "type": "assistant",
                "message": {
                    "content": [
                        {"type": "text", "text": "Claude AI usage limit reached|1795824000"}
                    ]
                },
            },
            {
                "type": "result",
                "is_error": False,
                "result": "You've hit your limit · resets 11pm (UTC)",
            },
        ]
    )
    assert p.detect_limit(out(stdout=stream, code=0)) is None


# ---------------------------------------------------------------------------------------------
# claude-code stream-json


def test_claude_rate_limited_stream(fixtures_dir: Path) -> None:
    stream = read(fixtures_dir, "claude", "stream", "session-rate-limited.jsonl")
    p = get_profile("claude-code")
    hit = p.detect_limit(out(stdout=stream, code=1))
    assert hit is not None
    # The structured rate_limit_event wins over the text: its reset (ms) and its pool.
    assert hit.resets_at == 1795824000.0
    assert (hit.scope_kind, hit.window, hit.model_match) == ("arm", "seven_day_opus", "opus")
    assert hit.message == "You've hit your limit · resets 11pm (UTC)"
    assert p.model_seen(stream) == "claude-opus-4-7"
    assert p.result_signals(stream) == {"harness": 0.0}


def test_claude_ok_stream(fixtures_dir: Path) -> None:
    stream = read(fixtures_dir, "claude", "stream", "session-ok.jsonl")
    p = get_profile("claude-code")
    assert p.detect_limit(out(stdout=stream, code=0)) is None
    assert p.model_seen(stream) == "claude-sonnet-4-6"
    assert p.result_signals(stream) == {"harness": 1.0}


def _event(kind: str, status: str = "rejected", resets: object = 1795824000000) -> str:
    return json.dumps(
        {
            "type": "rate_limit_event",
            "rate_limit_info": {"status": status, "resetsAt": resets, "rateLimitType": kind},
        }
    )


def test_claude_rejected_five_hour_blocks_the_harness() -> None:
    p = get_profile("claude-code")
    stream = (
        _event("five_hour") + "\n" + json.dumps({"type": "result", "is_error": True, "result": "x"})
    )
    hit = p.detect_limit(out(stdout=stream))
    assert hit == LimitHit("x", 1795824000.0, "harness", "claude-code", "five_hour")


def test_claude_rejected_without_result_line_and_seconds_reset() -> None:
    p = get_profile("claude-code")
    hit = p.detect_limit(out(stdout=_event("seven_day_sonnet", resets=1795824000), code=1))
    assert hit is not None and hit.resets_at == 1795824000.0 and hit.model_match == "sonnet"


def test_claude_rejected_but_session_succeeded_is_not_a_limit() -> None:
    # e.g. a fallback model finished the work: no limit for this session.
    p = get_profile("claude-code")
    stream = (
        _event("seven_day_opus")
        + "\n"
        + json.dumps({"type": "result", "is_error": False, "result": "done"})
    )
    assert p.detect_limit(out(stdout=stream, code=0)) is None


def test_claude_warning_events_are_not_limits() -> None:
    p = get_profile("claude-code")
    stream = _event("five_hour", status="allowed_warning")
    assert p.detect_limit(out(stdout=stream, code=0)) is None


def test_claude_weekly_opus_text_scopes_to_opus_arms() -> None:
    p = get_profile("claude-code")
    hit = p.detect_limit(out(stderr="Opus weekly limit reached ∙ resets Dec 1, 8am (UTC)"))
    assert hit is not None and hit.model_match == "opus" and hit.resets_at == ts(2026, 12, 1, 8)
    hit = p.detect_limit(
        out(stderr='API Error: 429 {"type":"error","error":{"type":"rate_limit_error"}}')
    )
    assert hit is not None and hit.resets_at is None and hit.scope_kind == "harness"


def test_claude_truncated_and_malformed_streams_never_crash(fixtures_dir: Path) -> None:
    stream = read(fixtures_dir, "claude", "stream", "session-rate-limited.jsonl")
    p = get_profile("claude-code")
    for cut in range(0, len(stream), 37):
        part = stream[:cut]
        p.detect_limit(out(stdout=part))
        p.model_seen(part)
        p.result_signals(part)
    junk = '{"type": "result", "is_error": tru\n{"type":"system","subtype":"init","model":42}\n[1,2]\nnull\n'
    assert p.model_seen(junk) is None
    assert p.result_signals(junk) == {}
    assert p.detect_limit(out(stdout=junk, code=0)) is None


def test_claude_model_seen_prefers_main_thread_assistant() -> None:
    p = get_profile("claude-code")
    lines = [
        {"type": "system", "subtype": "init", "model": "claude-opus-4-7"},
        {"type": "assistant", "message": {"model": "claude-sonnet-4-6"}},  # silent fallback
        {
            "type": "assistant",
            "parent_tool_use_id": "toolu_1",
            "message": {"model": "claude-haiku-4-5"},
        },
        {"type": "assistant", "message": {"model": "<synthetic>"}},
    ]
    assert p.model_seen("\n".join(json.dumps(x) for x in lines)) == "claude-sonnet-4-6"


# ---------------------------------------------------------------------------------------------
# codex


def test_codex_json_error_events_and_429_body(fixtures_dir: Path) -> None:
    p = get_profile("codex")
    ev = json.dumps(
        {"type": "error", "message": "You've hit your usage limit. Try again in 2 hours."}
    )
    hit = p.detect_limit(out(stdout=ev))
    assert hit is not None and hit.resets_at == ENDED + 7200 and hit.scope == "codex"
    failed = json.dumps(
        {"type": "turn.failed", "error": {"message": "You've hit your usage limit."}}
    )
    assert p.detect_limit(out(stdout=failed)) is not None
    body = read(fixtures_dir, "codex", "usage_limit_429.json").strip()
    hit = p.detect_limit(out(stderr=body))
    assert hit is not None and hit.resets_at == 1795831200.0  # the body's resets_at, structured
    assert (
        p.detect_limit(
            out(stderr="stream error: exceeded retry limit, last status: 429 Too Many Requests")
        )
        is not None
    )
    assert (
        p.detect_limit(
            out(
                stdout=json.dumps({"type": "agent_message", "message": "usage limit reached"}),
                code=0,
            )
        )
        is None
    )


def test_codex_model_seen_and_signals(fixtures_dir: Path) -> None:
    p = get_profile("codex")
    rollout = read(
        fixtures_dir, "codex", "sessions", "2026", "11", "27",
        "rollout-2026-11-27T17-40-02-0199a1f2-6c3e-7d10-b2a4-5e8f9c0d1a2b.jsonl",
    )  # fmt: skip
    assert p.model_seen(rollout) == "gpt-5.4"
    assert (
        p.model_seen(
            json.dumps({"id": "0", "msg": {"type": "session_configured", "model": "gpt-5.3-codex"}})
        )
        == "gpt-5.3-codex"
    )
    assert p.model_seen("not json") is None
    assert p.result_signals(json.dumps({"type": "turn.completed"})) == {"harness": 1.0}
    assert p.result_signals(json.dumps({"type": "turn.failed"})) == {"harness": 0.0}
    assert p.result_signals("") == {}


# ---------------------------------------------------------------------------------------------
# gptme, copilot, gemini, aider, opencode


def test_gptme_exit_codes(fixtures_dir: Path) -> None:
    p = get_profile("gptme")
    hit = p.detect_limit(out(code=75))
    assert hit is not None and hit.scope_kind == "arm" and hit.resets_at is None
    hit = p.detect_limit(out(code=75, stderr="openai.RateLimitError: try again in 20 minutes"))
    assert hit is not None and hit.resets_at == ENDED + 1200
    assert p.detect_limit(out(code=76)) is None
    assert p.detect_limit(out(code=1)) is None
    assert p.detect_infra(out(code=76)).kind == "auth"  # type: ignore[union-attr]
    assert p.detect_infra(out(code=77)).kind == "model"  # type: ignore[union-attr]
    assert p.detect_infra(out(code=0)) is None
    # gptme exits 77 on a 503 too: its `· ERROR` line says which
    err = "· ERROR    Error code: 503 - {'error': {'message': 'The server is overloaded'"
    assert p.detect_infra(out(code=77, stderr=err)).kind == "provider"  # type: ignore[union-attr]
    assert "75 rate limited" in read(fixtures_dir, "gptme", "exit-codes.md")


def test_copilot_model_seen() -> None:
    p = get_profile("copilot")
    assert p.model_seen("Falling back to model: gpt-5-mini\nDone.") == "gpt-5-mini"
    assert p.model_seen(json.dumps({"model": "claude-sonnet-4.6"})) == "claude-sonnet-4.6"
    assert p.model_seen("I used the best model for this.") is None


def test_copilot_no_quota_in_december_resets_in_january() -> None:
    p = get_profile("copilot")
    o = SessionOutput(
        1,
        "",
        'Error: 402 {"message":"You have no quota","code":"quota_exceeded"}',
        ts(2026, 12, 20),
    )
    hit = p.detect_limit(o)
    assert hit is not None and hit.resets_at == ts(2027, 1, 1) and hit.window == "monthly"


def test_gemini_json_output() -> None:
    p = get_profile("gemini")
    doc = {
        "response": None,
        "stats": {
            "models": {
                "gemini-2.5-flash": {"api": {"totalRequests": 1}},
                "gemini-2.5-pro": {"api": {"totalRequests": 7}},
            }
        },
        "error": {
            "type": "TerminalQuotaError",
            "message": "You have exhausted your daily quota on this model. Please retry after 2026-11-28T00:00:00Z.",
            "code": 1,
        },
    }
    text = json.dumps(doc, indent=2)
    hit = p.detect_limit(out(stdout=text))
    assert hit is not None and hit.resets_at == ts(2026, 11, 28) and hit.scope_kind == "arm"
    assert p.model_seen(text) == "gemini-2.5-pro"
    assert p.result_signals(text) == {"harness": 0.0}
    ok = json.dumps({"response": "done", "stats": {"models": {"gemini-2.5-pro": {}}}})
    assert p.result_signals(ok) == {"harness": 1.0}
    assert p.detect_limit(out(stdout=ok, code=0)) is None
    assert p.model_seen("{broken") is None


def test_aider_limits_and_banner() -> None:
    p = get_profile("aider")
    hit = p.detect_limit(out(stderr="litellm.RateLimitError: AnthropicException - rate limited"))
    assert hit is not None and hit.scope_kind == "arm"
    assert (
        p.model_seen("Aider v0.86\nMain model: anthropic/claude-sonnet-4-6 with diff edit format\n")
        == "anthropic/claude-sonnet-4-6"
    )


def test_opencode_error_events_and_model() -> None:
    p = get_profile("opencode")
    ev = {
        "type": "error",
        "error": {
            "name": "APIError",
            "data": {"message": "Rate limit exceeded", "statusCode": 429},
        },
    }
    hit = p.detect_limit(out(stdout=json.dumps(ev)))
    assert hit is not None and hit.scope_kind == "arm"
    step = {
        "type": "step_finish",
        "part": {"providerID": "anthropic", "modelID": "claude-sonnet-4-6"},
    }
    assert p.model_seen(json.dumps(step)) == "anthropic/claude-sonnet-4-6"
    text = {"type": "text", "part": {"text": "429 rate limit errors are now retried"}}
    assert p.detect_limit(out(stdout=json.dumps(text), code=0)) is None


# ---------------------------------------------------------------------------------------------
# config overrides, canonical model names, limit scopes

CONFIG = {
    "harnesses": {
        "claude-code": {"models": {"opus": "high", "sonnet": "medium", "claude-opus-4-7": "high"}},
        "codex": {"models": {"gpt-5.4": "medium"}},
        "gptme": {"models": {"openai/gpt-5.4": "medium", "anthropic/claude-sonnet-4-6": "medium"}},
        "mytool": {
            "command": ["/opt/mytool", "--m", "{model}", "{prompt}"],
            "quota": {"rate_limit_exit_codes": [9], "limit_patterns": ["^QUOTA GONE"]},
            "models": {"m1": "low"},
        },
        "claude-work": {
            "env": {"CLAUDE_CONFIG_DIR": "~/.claude-work"},
            "quota": {"profile": "claude-code"},
            "models": {"sonnet": "medium"},
        },
    },
    "pools": {
        "chatgpt": {"harnesses": ["codex"], "arms": ["gptme:openai/gpt-5.4"]},
        "claude-max": {"harnesses": ["claude-code"]},
    },
}


def test_config_overrides_and_custom_harness() -> None:
    cfg = parse_config(CONFIG)
    p = get_profile("mytool", cfg.harnesses["mytool"])
    assert p.argv == ["/opt/mytool", "--m", "{model}", "{prompt}"] and p.executable == "/opt/mytool"
    assert p.detect_limit(out(code=9)) is not None
    hit = p.detect_limit(out(stderr="QUOTA GONE, try again in 5 minutes"))
    assert hit is not None and hit.resets_at == ENDED + 300
    assert p.detect_limit(out(stderr="all fine")) is None
    work = get_profile("claude-work", cfg.harnesses["claude-work"])
    assert work.name == "claude-work" and work.executable == "claude"
    hit = work.detect_limit(out(stderr="You've hit your limit · resets 11pm (UTC)"))
    assert hit is not None and hit.scope == "claude-work"
    assert config_problems(cfg.harnesses["mytool"]) == []


def test_config_problems_name_the_fix() -> None:
    cfg = parse_config(
        {
            "harnesses": {
                "x": {"models": {"a": "low", "b": "low"}},
                "y": {
                    "command": ["y", "--go", "{modle}"],
                    "quota": {"limit_patterns": ["(unclosed"]},
                },
            }
        }
    )
    px = [p for p, _ in config_problems(cfg.harnesses["x"])]
    assert any("no command" in p for p in px)
    py = config_problems(cfg.harnesses["y"])
    text = " ".join(p + " " + f for p, f in py)
    assert "never passes the prompt" in text and "{modle}" in text and "not a valid regex" in text
    assert "no models" in text
    odd = parse_config(
        {
            "harnesses": {
                "codex": {"quota": {"source": "web", "scope": "pool"}, "models": {"m": "low"}}
            }
        }
    )
    text = " ".join(p for p, _ in config_problems(odd.harnesses["codex"]))
    assert "quota.source = 'web'" in text and "quota.scope = 'pool'" in text


@pytest.mark.parametrize(
    ("harness", "seen", "configured", "expected"),
    [
        ("claude-code", "claude-sonnet-4-6", ["opus", "sonnet"], "sonnet"),
        ("claude-code", "claude-opus-4-7", ["opus", "sonnet"], "opus"),
        ("claude-code", "claude-opus-4-7", ["opus", "claude-opus-4-7"], "claude-opus-4-7"),
        ("claude-code", "claude-opus-4-6[1m]", ["claude-opus-4-6"], "claude-opus-4-6"),
        ("claude-code", "claude-sonnet-4-5-20250929", ["claude-sonnet-4-5"], "claude-sonnet-4-5"),
        (
            "claude-code",
            "claude-haiku-4-5",
            ["opus", "sonnet"],
            "claude-haiku-4-5",
        ),  # not configured
        ("copilot", "claude-sonnet-4-6", ["claude-sonnet-4.6", "gpt-5.4"], "claude-sonnet-4.6"),
        ("gptme", "gpt-5.4", ["openai/gpt-5.4"], "openai/gpt-5.4"),
        ("opencode", "anthropic/claude-sonnet-4-6", ["claude-sonnet-4-6"], "claude-sonnet-4-6"),
        ("codex", "gpt-5.4-mini", ["gpt-5.4"], "gpt-5.4-mini"),  # never credit the bigger model
        ("codex", None, ["gpt-5.4"], None),
    ],
)
def test_canonical_model(
    harness: str, seen: str | None, configured: list[str], expected: str | None
) -> None:
    assert canonical_model(harness, seen, configured) == expected


def test_limit_scopes_harness_hit_blocks_harness_and_pools() -> None:
    cfg = parse_config(CONFIG)
    hit = LimitHit("You've hit your usage limit", 1.0, "harness", "codex")
    assert limit_scopes(hit, "codex:gpt-5.4", cfg) == [("harness", "codex"), ("pool", "chatgpt")]


def test_limit_scopes_arm_hit_on_a_pooled_arm_blocks_the_pool() -> None:
    cfg = parse_config(CONFIG)
    hit = get_profile("gptme").detect_limit(out(code=75))
    assert hit is not None
    assert limit_scopes(hit, "gptme:openai/gpt-5.4", cfg) == [
        ("arm", "gptme:openai/gpt-5.4"),
        ("pool", "chatgpt"),
    ]
    # The anthropic model through gptme is in no pool: only itself.
    assert limit_scopes(hit, "gptme:anthropic/claude-sonnet-4-6", cfg) == [
        ("arm", "gptme:anthropic/claude-sonnet-4-6")
    ]


def test_limit_scopes_weekly_opus_blocks_opus_arms_not_the_claude_pool(fixtures_dir: Path) -> None:
    cfg = parse_config(CONFIG)
    stream = read(fixtures_dir, "claude", "stream", "session-rate-limited.jsonl")
    hit = get_profile("claude-code").detect_limit(out(stdout=stream))
    assert hit is not None
    assert limit_scopes(hit, "claude-code:opus", cfg) == [
        ("arm", "claude-code:opus"),
        ("arm", "claude-code:claude-opus-4-7"),
    ]
    # A five-hour hit on sonnet blocks the whole harness and the claude-max pool.
    five = LimitHit("x", None, "harness", "claude-code", "five_hour")
    assert limit_scopes(five, "claude-code:sonnet", cfg) == [
        ("harness", "claude-code"),
        ("pool", "claude-max"),
    ]
