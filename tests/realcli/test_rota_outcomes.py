"""Every scenario through `rota run`, per real CLI: what rota recorded.

Each CLI's scenarios run once (a few side by side, tests/realcli/batch.py) through
`rota run --json` against the mock, inside the loopback-only namespace; each test then checks one
recorded session: the outcome, the arm credited, whether it was graded, the blocks it left (scope,
source, and the reset to the minute the CLI printed), and for an infrastructure failure its kind.
The same recordings, read by the profiles alone (fast, no CLI): tests/test_harness_recordings.py.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockapi.plan import OTHER_MODEL, scenarios_for
from realcli.batch import run_all
from realcli.clis import CLIS
from realcli.conftest import require_cli
from realcli.rota_run import CONFIG_MODEL, RotaRun
from rota.reward.score import commits_gain

pytestmark = [pytest.mark.realcli, pytest.mark.slow]

COMPLETED, RATE_LIMITED, TIMED_OUT, UNAVAILABLE = (
    "completed",
    "rate_limited",
    "timed_out",
    "unavailable",
)
ARM_SCOPED = ("gptme", "gemini", "aider", "opencode")  # limits block the arm, not the harness
SHOWS_MODEL = ("claude-code", "codex", "gemini", "gptme")  # the others show no served model
# Left out: minutes of a CLI's own retries that its other scenarios already cover here (and
# that tests/test_harness_recordings.py reads from the recordings).
SLOW = {
    "aider": ("insufficient-quota", "server-500"),
    "opencode": ("insufficient-quota", "server-500"),
    "copilot": ("insufficient-quota",),
}
PER_SCENARIO = {
    "hang": {"timeout_minutes": 0.3},
    "capacity-exhausted": {"timeout_minutes": 0.3},
    "limit-weekly-opus": {"model": "opus"},
}


def _scenarios(cli: str) -> list[str]:
    slow = SLOW.get(cli, ())
    return [s.name for s in scenarios_for(CLIS[cli].provider) if s.name not in slow]


_RESULTS: dict[tuple[str, str], RotaRun | BaseException] = {}


@pytest.fixture(scope="session")
def batch_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("realcli-rota")


def _run(cli: str, scenario: str, root: Path) -> RotaRun:
    require_cli(cli)
    if not _RESULTS:  # every installed CLI's scenarios, once, side by side
        jobs = [(c, s) for name, c in sorted(CLIS.items()) if c.installed() for s in _scenarios(name)]
        _RESULTS.update(run_all(jobs, root, PER_SCENARIO))
    out = _RESULTS[(cli, scenario)]
    if isinstance(out, BaseException):
        raise out
    assert out.session is not None, f"rota recorded no session:\n{out.proc.stderr[-3000:]}"
    return out


# ---------------------------------------------------------------------------------------------
# Checks beyond the table


def _new_commits(n: int) -> Callable[[RotaRun], None]:
    def check(run: RotaRun) -> None:
        count = subprocess.run(
            ["git", "rev-list", "--count", "HEAD"],
            cwd=run.workspace,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert int(count) == 1 + n, f"expected {n} new commit(s), HEAD has {count} in all"

    return check


def _graded(
    *, commits: int | None = None, files: bool | None = None, finished: bool | None = None
) -> Callable[[RotaRun], None]:
    """The grade (rota.reward.score, stored under signals["grade"]) and the workspace summary it
    was computed from say what the session did: exited 0 with no error of its own (finished),
    how many commits it made, whether it changed files."""

    def check(run: RotaRun) -> None:
        signals, detail = dict(run.session.signals), dict(run.session.detail)
        gains = signals.get("grade", {}).get("gains", {})
        ws = detail.get("workspace", {})
        if finished is not None:
            assert gains.get("finished", {}).get("value") == (1.0 if finished else 0.0), gains
        if commits is not None:
            assert ws.get("commits") == commits, ws
            assert gains.get("commits", {}).get("value") == round(commits_gain(commits), 4), gains
        if files is not None:
            assert bool(ws.get("files_touched")) == files, ws

    return check


def _all(*checks: Callable[[RotaRun], None]) -> Callable[[RotaRun], None]:
    def check(run: RotaRun) -> None:
        for c in checks:
            c(run)

    return check


def _answered(run: RotaRun) -> None:
    """The CLI took the prompt as a prompt: it exited 0 and reported no error of its own."""
    _graded(finished=True)(run)
    assert run.session.exit_code == 0, dict(run.session.detail)


def _credited(cli: str) -> Callable[[RotaRun], None]:
    def check(run: RotaRun) -> None:
        model = OTHER_MODEL if cli in SHOWS_MODEL else CONFIG_MODEL[cli]
        assert run.session.credited_arm == f"{cli}:{model}", dict(run.session.detail)

    return check


def _blocks_arm(arm: str) -> Callable[[RotaRun], None]:
    def check(run: RotaRun) -> None:
        assert [(b.scope_kind, b.scope) for b in run.blocks] == [("arm", arm)], run.blocks

    return check


def _short_block(minutes: float) -> Callable[[RotaRun], None]:
    def check(run: RotaRun) -> None:
        assert run.blocks and all(b.until - b.created_at <= minutes * 60 for b in run.blocks)

    return check


def _ordinal(day: int) -> str:
    return f"{day}{'th' if 11 <= day <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


# How each CLI prints a reset (UTC: the CLIs run with TZ=UTC): pattern, and the block's end in it.
def _claude_clock(t: time.struct_time) -> str:
    return time.strftime("%-I%p" if t.tm_min == 0 else "%-I:%M%p", t)  # "4am", "12:59am"


RESET_STYLES: dict[str, tuple[str, Callable[[time.struct_time], str]]] = {
    "claude": (r"resets (\d{1,2}(?::\d\d)?[ap]m) \(UTC\)", _claude_clock),
    "claude-dated": (
        r"resets (\w{3} \d{1,2}, \d{1,2}(?::\d\d)?[ap]m) \(UTC\)",
        lambda t: time.strftime("%b %-d, ", t) + _claude_clock(t),
    ),
    "codex": (r"try again at (\d{1,2}:\d\d [AP]M)", lambda t: time.strftime("%-I:%M %p", t)),
    "codex-dated": (
        r"try again at (\w{3} \d{1,2}\w\w, \d{4} \d{1,2}:\d\d [AP]M)",
        lambda t: time.strftime(f"%b {_ordinal(t.tm_mday)}, %Y %-I:%M %p", t),
    ),
}


def _reset_as_printed(style: str) -> Callable[[RotaRun], None]:
    """The block ends at the minute the CLI printed (in rota's own session log)."""
    pattern, show = RESET_STYLES[style]

    def check(run: RotaRun) -> None:
        m = re.search(pattern, run.log)
        assert m, f"no reset like {pattern!r} in the log:\n{run.log[-2000:]}"
        shown = {show(time.gmtime(b.until)).lower() for b in run.blocks}
        assert m.group(1).lower() in shown, (m.group(1), shown)

    return check


# ---------------------------------------------------------------------------------------------
# What rota must record


@dataclass(frozen=True)
class Expect:
    status: str
    graded: bool = False
    scope: str | None = None  # the kind of scope the session blocks ("harness" / "arm")
    # its block's source: rate_limit (a reset), backoff, infra; or several a CLI may give
    source: str | tuple[str, ...] | None = None
    infra: str | None = None  # an infrastructure failure's kind
    check: Callable[[RotaRun], None] | None = None


def expectations(cli: str) -> dict[str, Expect]:
    limit_scope = "arm" if cli in ARM_SCOPED else "harness"
    provider = Expect(UNAVAILABLE, scope="harness", source="infra", infra="provider")
    return {
        "text": Expect(
            COMPLETED,
            graded=True,
            # aider writes a .gitignore (".aider*") on its first run in a repository
            check=_all(_new_commits(0), _graded(finished=True, commits=0, files=cli == "aider")),
        ),
        "commit-several": Expect(
            COMPLETED,
            graded=True,
            check=_all(
                _new_commits(1 if cli == "aider" else 2),
                _graded(finished=True, commits=1 if cli == "aider" else 2, files=True),
            ),
        ),
        "commit-one": Expect(
            COMPLETED,
            graded=True,
            check=_all(_new_commits(1), _graded(finished=True, commits=1, files=True)),
        ),
        "change-only": Expect(  # aider commits every edit it applies
            COMPLETED,
            graded=True,
            check=_all(
                _new_commits(1 if cli == "aider" else 0),
                _graded(finished=True, files=True, commits=1 if cli == "aider" else 0),
            ),
        ),
        "failing-tools": Expect(COMPLETED, graded=True),
        "dash-prompt": Expect(COMPLETED, graded=True, check=_answered),
        "other-model": Expect(COMPLETED, graded=True, check=_credited(cli)),
        "hang": Expect(TIMED_OUT, graded=True),
        # an API key's rate limit: a backoff, or the provider's own "try again in 2.4s"
        "rate-limit": Expect(RATE_LIMITED, scope=limit_scope, source=("backoff", "rate_limit")),
        "insufficient-quota": Expect(
            RATE_LIMITED, scope=limit_scope, source=("backoff", "rate_limit")
        ),
        "auth": Expect(UNAVAILABLE, scope="harness", source="infra", infra="auth"),
        "unknown-model": Expect(UNAVAILABLE, scope="arm", source="infra", infra="model"),
        "server-500": provider,
        "unavailable-503": provider,
        "overloaded-529": provider,
        # claude-code: a subscription's limits, its throttle, and running as root
        "limit-session": Expect(
            RATE_LIMITED, scope="harness", source="rate_limit", check=_reset_as_printed("claude")
        ),
        "limit-weekly-opus": Expect(
            RATE_LIMITED,
            scope="arm",
            source="rate_limit",
            check=lambda r: (_blocks_arm("claude-code:opus")(r), _reset_as_printed("claude-dated")(r)),
        ),
        "throttled": Expect(
            UNAVAILABLE, scope="harness", source="infra", infra="throttled", check=_short_block(15)
        ),
        "root-without-sandbox": Expect(UNAVAILABLE, scope="harness", source="infra", infra="cli"),
        # codex: a ChatGPT plan's limit, reset later today or on another day
        "usage-limit-today": Expect(
            RATE_LIMITED, scope="harness", source="rate_limit", check=_reset_as_printed("codex")
        ),
        "usage-limit-days": Expect(
            RATE_LIMITED,
            scope="harness",
            source="rate_limit",
            check=_reset_as_printed("codex-dated"),
        ),
        # gemini: a daily quota (no reset), and a capacity limit it sleeps through
        "quota-exhausted": Expect(RATE_LIMITED, scope="arm", source="backoff"),
        "capacity-exhausted": Expect(RATE_LIMITED, scope="arm", source="rate_limit"),
    }


def _cases() -> list[tuple[str, str]]:
    return [(cli, s) for cli in sorted(CLIS) for s in _scenarios(cli)]


@pytest.mark.parametrize(("cli", "scenario"), _cases())
def test_rota_records_what_the_cli_did(cli: str, scenario: str, batch_root: Path) -> None:
    expect = expectations(cli)[scenario]
    run = _run(cli, scenario, batch_root)
    s = run.session
    detail = dict(s.detail)
    assert s.status == expect.status, (s.status, detail, run.log[-3000:])
    assert (s.reward is not None) == expect.graded, (s.reward, detail)
    if expect.scope is None:
        assert run.blocks == [], run.blocks
    else:
        sources = expect.source if isinstance(expect.source, tuple) else (expect.source,)
        got = {(b.scope_kind, b.source) for b in run.blocks}
        assert any((expect.scope, src) in got for src in sources), run.blocks
    if expect.infra:
        assert detail.get("infra", {}).get("kind") == expect.infra, detail
    else:
        assert "infra" not in detail, detail
    if expect.check:
        expect.check(run)
