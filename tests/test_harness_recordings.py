"""Each built-in harness profile reads the recorded sessions of its real CLI right.

tests/fixtures/realcli/<cli>/<scenario>/ holds what the real CLI printed, its exit code and the
files it wrote (recorded against tests/mockapi; see its README). Here each recording goes through
the profile rota uses for that CLI: a limit is a limit (with the reset the CLI printed), an
infrastructure failure has its kind, a good session is neither, and the model credited is the one
that answered. Files only: no CLI, no network, so these run everywhere. The same scenarios through
`rota run` with the real CLIs: tests/realcli/test_rota_outcomes.py.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from rota.harnesses.base import SessionOutput
from rota.harnesses.registry import builtin_profile

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "realcli"
CLIS = ("aider", "claude-code", "codex", "copilot", "gemini", "gptme", "opencode")
GOOD = ("text", "commit-several", "commit-one", "change-only", "failing-tools", "dash-prompt",
        "other-model")
LIMITS = ("rate-limit", "insufficient-quota", "limit-session", "limit-weekly-opus",
          "usage-limit-today", "usage-limit-days", "quota-exhausted", "capacity-exhausted")
INFRA = {"auth": "auth", "unknown-model": "model", "server-500": "provider",
         "unavailable-503": "provider", "overloaded-529": "provider", "throttled": "throttled",
         "root-without-sandbox": "cli"}
# The served model each CLI shows (for the other-model scenario); None: it shows none.
SERVED = {"claude-code": "mock-other-model-2", "codex": "mock-other-model-2",
          "gemini": "mock-other-model-2", "gptme": "mock-other-model-2"}


def _recordings() -> list[tuple[str, str]]:
    return [
        (cli, d.name)
        for cli in CLIS
        for d in sorted((FIXTURES / cli).iterdir())
        if (d / "recording.json").is_file()
    ]


def _output(cli: str, scenario: str) -> SessionOutput:
    folder = FIXTURES / cli / scenario
    rec = json.loads((folder / "recording.json").read_text(encoding="utf-8"))
    home = folder / "artifacts"
    ended = rec.get("ended_at") or time.time()
    return SessionOutput(
        exit_code=rec["exit_code"],
        stdout=(folder / "stdout.txt").read_text(encoding="utf-8"),
        stderr=(folder / "stderr.txt").read_text(encoding="utf-8"),
        ended_at=ended,
        started_at=rec.get("started_at") or ended - rec["seconds"],
        timed_out=rec["timed_out"],
        env={"HOME": str(home), "CODEX_HOME": str(home / ".codex")},
    )


@pytest.mark.parametrize(("cli", "scenario"), _recordings())
def test_profile_reads_the_recorded_session(cli: str, scenario: str) -> None:
    profile = builtin_profile(cli)
    assert profile is not None
    out = _output(cli, scenario)
    hit = profile.detect_limit(out)
    infra = None if hit else profile.detect_infra(out)
    if scenario in LIMITS:
        assert hit is not None, f"{cli} {scenario}: no limit seen in\n{out.stdout[-800:]}\n{out.stderr[-800:]}"
    elif scenario in INFRA:
        assert hit is None, hit
        assert infra is not None and infra.kind == INFRA[scenario], (infra, out.stderr[-500:])
    else:
        assert hit is None, hit
        assert infra is None, infra


@pytest.mark.parametrize("cli", CLIS)
def test_the_model_credited_is_the_one_that_answered(cli: str) -> None:
    profile = builtin_profile(cli)
    assert profile is not None
    served = profile.model_ran(_output(cli, "other-model"))
    if cli in SERVED:
        assert served == SERVED[cli], served
    else:  # the CLI shows no served model: at most the one asked for
        assert served != "mock-other-model-2"
    if cli in SERVED:  # and a normal session names the model asked for
        assert profile.model_ran(_output(cli, "text")) not in (None, SERVED[cli])


def _printed(pattern: str, out: SessionOutput) -> str:
    m = re.search(pattern, out.stdout + out.stderr)
    assert m, pattern
    return m.group(1)


@pytest.mark.parametrize(
    ("cli", "scenario", "pattern", "fmt"),
    [
        ("claude-code", "limit-session", r"resets (\d{1,2}(?::\d\d)?[ap]m) \(UTC\)", "claude"),
        ("claude-code", "limit-weekly-opus", r"resets (\w+ \d+, \d{1,2}(?::\d\d)?[ap]m)",
         "%b %-d, claude"),
        ("codex", "usage-limit-today", r"try again at (\d{1,2}:\d\d [AP]M)", "%-I:%M %p"),
        ("codex", "usage-limit-days", r"try again at (\w+ \d+\w\w, \d{4} \d{1,2}:\d\d [AP]M)", None),
    ],
)
def test_the_block_ends_at_the_minute_the_cli_printed(
    cli: str, scenario: str, pattern: str, fmt: str | None
) -> None:
    out = _output(cli, scenario)
    hit = builtin_profile(cli).detect_limit(out)
    assert hit is not None and hit.resets_at is not None, hit
    printed = _printed(pattern, out)
    t = time.gmtime(hit.resets_at)
    if fmt is None:  # "Dec 4th, 2026 10:42 PM"
        day = t.tm_mday
        suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
        shown = time.strftime(f"%b {day}{suffix}, %Y %-I:%M %p", t)
    else:  # claude drops ":00" ("resets 4am")
        clock = time.strftime("%-I%p" if t.tm_min == 0 else "%-I:%M%p", t)
        shown = time.strftime(fmt.replace("claude", clock), t) if "claude" in fmt else time.strftime(fmt, t)
    assert shown.lower() == printed.lower(), (shown, printed)


def test_a_quota_reset_printed_as_a_duration_counts_from_when_it_was_printed() -> None:
    out = _output("gemini", "capacity-exhausted")  # gemini sleeps until the reset: rota's timeout
    hit = builtin_profile("gemini").detect_limit(out)
    assert hit is not None and hit.resets_at is not None
    assert abs(hit.resets_at - (out.started_at + 7 * 3600 + 12 * 60 + 3.5)) < 120
    assert hit.scope_kind == "arm"


def test_gptme_own_retry_pacing_is_not_a_reset() -> None:
    """gptme prints "retrying in 3.0s" before it gives up with exit 75: that is its own pacing.
    The reset, if any, is the provider's ("Please try again in 2.4s" in its `· ERROR` lines)."""
    out = _output("gptme", "rate-limit")
    pacing = float(_printed(r"retrying in ([\d.]+)s", out))  # 3.0 here: the mock's retry-after
    hit = builtin_profile("gptme").detect_limit(out)
    assert hit is not None
    assert hit.resets_at is None or abs(hit.resets_at - out.ended_at - pacing) > 0.5
