"""Claude Code quota: the usage endpoint against a real local HTTP server, and the local logs."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from probe_support import FAKE_TOKEN, Route, cache_seconds, fixture_home, usage_server
from rota.harnesses import get_profile
from rota.harnesses.base import ProbeContext
from rota.harnesses.claude_logs import scan_logs
from rota.harnesses.claude_usage import Secret, read_token, states_from_usage
from rota.quota.state import QuotaState


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


NOW = ts(2026, 11, 27, 19, 0)  # within the fixture log's 18:00-23:00 block, before every reset


def ctx(home: Path, url: str | None = None, *, now: float = NOW, **kw: object) -> ProbeContext:
    env = {"HOME": str(home)}
    if url:
        env["ROTA_CLAUDE_USAGE_URL"] = url
    env.update(kw.pop("env", {}))  # type: ignore[arg-type]
    return ProbeContext(
        home=home,
        env=env,
        now=now,
        timeout=float(kw.pop("timeout", 3.0)),  # type: ignore[arg-type]
        harness="claude-code",
        models=tuple(kw.pop("models", ("opus", "sonnet"))),  # type: ignore[arg-type]
        options=dict(kw.pop("options", {})),  # type: ignore[arg-type]
    )


def by(
    states: list[QuotaState], source: str, window: str, scope: str = "claude-code"
) -> QuotaState:
    found = [s for s in states if s.source == source and s.window == window and s.scope == scope]
    assert len(found) == 1, (source, window, scope, states)
    return found[0]


@pytest.fixture
def home(tmp_path: Path, fixtures_dir: Path) -> Path:
    h = fixture_home(fixtures_dir, tmp_path / "home")
    for f in (h / ".claude" / "projects").rglob("*.jsonl"):
        os.utime(f, (NOW - 60, NOW - 60))
    return h


# ---------------------------------------------------------------------------------------------
# usage endpoint


def test_endpoint_200_maps_the_fixture(home: Path, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "claude" / "oauth_usage.json").read_bytes()
    with usage_server() as srv:
        url = srv.route("/usage", Route(200, body))
        states = get_profile("claude-code").probe(ctx(home, url))
        ((path, headers),) = srv.requests
    # The request carries the documented headers.
    assert headers["authorization"] == f"Bearer {FAKE_TOKEN}"
    assert headers["anthropic-beta"] == "oauth-2025-04-20"
    five = by(states, "api", "five_hour")
    assert (five.available, five.utilization, five.window_minutes) == (True, 0.37, 300.0)
    assert five.resets_at == pytest.approx(ts(2026, 11, 27, 23, 59, 59) + 0.615641)
    week = by(states, "api", "seven_day")
    assert week.utilization == 0.81 and week.resets_at == pytest.approx(
        ts(2026, 12, 1, 8) + 0.615661
    )
    opus = by(states, "api", "seven_day_opus", "claude-code:opus")
    assert opus.scope_kind == "arm" and opus.utilization == 0.93 and opus.available is True
    # seven_day_sonnet and seven_day_oauth_apps are null: no state.
    assert not [s for s in states if s.window in ("seven_day_sonnet", "seven_day_oauth_apps")]
    # The endpoint answered: the log rows only inform, they never decide.
    assert all(s.available is None for s in states if s.source == "logs")


def test_endpoint_exhausted_fixture(home: Path, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "claude" / "oauth_usage_exhausted.json").read_bytes()
    with usage_server() as srv:
        states = get_profile("claude-code").probe(ctx(home, srv.route("/u", Route(200, body))))
    five = by(states, "api", "five_hour")
    assert (
        five.available is False
        and five.utilization == 1.0
        and five.resets_at == ts(2026, 11, 27, 23)
    )
    assert by(states, "api", "seven_day").available is True


def test_per_model_pool_covers_every_configured_model_of_that_family(
    home: Path, fixtures_dir: Path
) -> None:
    body = (fixtures_dir / "claude" / "oauth_usage.json").read_bytes()
    with usage_server() as srv:
        url = srv.route("/u", Route(200, body))
        states = get_profile("claude-code").probe(
            ctx(home, url, models=("opus", "claude-opus-4-7", "sonnet"))
        )
        none = get_profile("claude-code").probe(ctx(home, url, models=()))
    arms = sorted(s.scope for s in states if s.window == "seven_day_opus")
    assert arms == ["claude-code:claude-opus-4-7", "claude-code:opus"]
    assert [s.scope for s in none if s.window == "seven_day_opus"] == ["claude-code:opus"]


def test_limits_list_only_and_unknown_keys() -> None:
    data = {
        "limits": [
            {"kind": "session", "percent": 100, "resets_at": "2026-11-27T23:00:00Z", "scope": None},
            {"kind": "weekly", "percent": 40, "resets_at": "2026-12-01T08:00:00Z", "scope": None},
            {
                "kind": "weekly",
                "percent": 90,
                "resets_at": "2026-12-01T08:00:00Z",
                "scope": "sonnet",
            },
            {"kind": "monthly_credits", "percent": 5},
            "junk",
        ],
        "something_new": {"utilization": 5},
        "seven_day_oauth_apps": {"utilization": 99, "resets_at": None},
    }
    states = states_from_usage(data, "claude-code", ("sonnet",), NOW)
    got = {(s.scope, s.window): (s.available, s.utilization) for s in states}
    assert got == {
        ("claude-code", "five_hour"): (False, 1.0),
        ("claude-code", "seven_day"): (True, 0.4),
        ("claude-code:sonnet", "seven_day_sonnet"): (True, 0.9),
    }
    # Garbage values make a window unknown, never exhausted.
    bad = states_from_usage(
        {"five_hour": {"utilization": "lots", "resets_at": 7}}, "claude-code", (), NOW
    )
    assert bad[0].available is None and bad[0].resets_at is None


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(401, b'{"error":"expired"}'), "401"),
        (Route(403, b'{"error":"scope"}'), "user:profile"),
        (Route(429, b"slow down", {"Retry-After": "1200"}), "(429)"),
        (Route(500, b"oops"), "HTTP 500"),
        (Route(200, b"<html>garbage</html>"), "not JSON"),
        (Route(200, b'["a list"]'), "unexpected shape"),
        (Route(200, b"{}"), "without any known window"),
        (Route(200, b"\xff\xfe\x00garbage"), "not JSON"),
        (Route(302, b"", {"Location": "http://127.0.0.1:9/steal"}), "HTTP 302"),
        (Route(hang=True), "did not answer"),
    ],
)
def test_endpoint_failures_are_unknown_never_exhausted(
    home: Path,
    route: Route,
    reason: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    with usage_server() as srv:
        url = srv.route("/u", route)
        states = get_profile("claude-code").probe(ctx(home, url, timeout=0.5))
        assert srv.hits("/u") == 1 and len(srv.requests) == 1  # the redirect was not followed
    api = [s for s in states if s.source == "api"]
    assert len(api) == 1 and api[0].available is None and reason in api[0].reason
    # The logs step in: the fixture's usage-limit line (reset 2026-11-28 00:00) now decides.
    limit = by(states, "logs", "usage_limit")
    assert limit.available is False and limit.resets_at == 1795824000.0
    # The token is nowhere: not in states, reasons, logs or printed output.
    dump = json.dumps([s.to_dict() for s in states]) + repr(states)
    printed = capsys.readouterr()
    for text in (dump, caplog.text, printed.out, printed.err):
        assert FAKE_TOKEN not in text and "FIXTURE-NOT-A-REAL" not in text


def test_unreachable_endpoint(home: Path) -> None:
    states = get_profile("claude-code").probe(ctx(home, "http://127.0.0.1:9/usage", timeout=0.5))
    api = by(states, "api", "api")
    assert api.available is None and "unreachable" in api.reason
    assert FAKE_TOKEN not in repr(states)


def test_bad_urls_are_refused_before_sending_the_token(home: Path) -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/x", "not a url"):
        states = get_profile("claude-code").probe(ctx(home, url))
        assert "http(s)" in by(states, "api", "api").reason


def test_429_keeps_the_answer_longer() -> None:
    ok = [QuotaState("harness", "claude-code", "five_hour", True, 0.1, source="api")]
    limited = [
        QuotaState(
            "harness",
            "claude-code",
            "api",
            None,
            source="api",
            reason="usage endpoint said (429) (asked too often): backing off (retry after 3600s)",
        )
    ]
    assert cache_seconds(ok, {}, 300.0) == 300.0
    assert cache_seconds(limited, {}, 300.0) == 3600.0  # the server's Retry-After
    short = [limited[0]._replace(reason="usage endpoint said (429)")]
    assert cache_seconds(short, {"backoff_minutes": 30}, 300.0) == 1800.0


def test_secret_never_shows_itself() -> None:
    s = Secret(FAKE_TOKEN)
    for text in (
        repr(s),
        str(s),
        f"{s}",
        f"{s!r}",
        "%s" % (s,),  # noqa: UP031
        json.dumps({"t": str(s)}),
    ):
        assert FAKE_TOKEN not in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(s)


# ---------------------------------------------------------------------------------------------
# credentials


def test_credentials_sources(tmp_path: Path, fixtures_dir: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    tok, why = read_token(ctx(home))
    assert tok is None and "no OAuth login" in why
    # $CLAUDE_CONFIG_DIR (a comma-separated list) is searched first.
    alt = tmp_path / "alt"
    alt.mkdir()
    shutil.copy(fixtures_dir / "claude" / "credentials.json", alt / ".credentials.json")
    tok, why = read_token(ctx(home, env={"CLAUDE_CONFIG_DIR": f"{tmp_path / 'missing'},{alt}"}))
    assert tok is not None and tok.reveal() == FAKE_TOKEN and why == ""
    # Malformed, unreadable (a directory in its place) and tokenless files say why.
    (home / ".claude").mkdir()
    (home / ".claude" / ".credentials.json").write_text("{not json")
    assert "not valid JSON" in read_token(ctx(home))[1]
    (home / ".claude" / ".credentials.json").write_text('{"claudeAiOauth": {"refreshToken": "x"}}')
    assert "no claudeAiOauth.accessToken" in read_token(ctx(home))[1]
    (home / ".claude" / ".credentials.json").unlink()
    (home / ".claude" / ".credentials.json").mkdir()
    assert "cannot read" in read_token(ctx(home))[1]


def test_no_credentials_falls_back_to_logs(home: Path) -> None:
    (home / ".claude" / ".credentials.json").unlink()
    states = get_profile("claude-code").probe(ctx(home, "http://127.0.0.1:9/never-called"))
    assert "no OAuth login" in by(states, "api", "api").reason
    assert by(states, "logs", "usage_limit").available is False


def test_source_logs_skips_the_endpoint(home: Path) -> None:
    with usage_server() as srv:
        url = srv.route("/u", Route(200, b"{}"))
        states = get_profile("claude-code").probe(ctx(home, url, options={"source": "logs"}))
        assert srv.requests == []
    assert {s.source for s in states} == {"logs"}


# ---------------------------------------------------------------------------------------------
# local logs


def test_logs_fixture_block_dedup_sidechain_synthetic(home: Path) -> None:
    s = scan_logs(ctx(home), NOW)
    # msg_01A counted once (12 + 18230 + 410), msg_01B (9 + 1200 + 18230 + 2210); the sidechain
    # line (a subagent, on sonnet) counts as ccusage counts it; the <synthetic> line has no tokens.
    assert s.tokens_by_model == {"claude-opus-4-7": 18652 + 21649, "claude-sonnet-4-6": 5340}
    assert (s.block_start, s.block_end) == (ts(2026, 11, 27, 18), ts(2026, 11, 27, 23))
    assert s.limit_resets_at == 1795824000.0 and s.limit_at == ts(2026, 11, 27, 18, 31)
    states = get_profile("claude-code").probe(ctx(home, options={"source": "logs"}))
    block = by(states, "logs", "five_hour")
    assert block.resets_at == ts(2026, 11, 27, 23) and "45,641 tokens" in block.reason
    assert block.available is None and block.utilization is None  # no known limit in tokens


def test_logs_token_limit_option_gives_utilization(home: Path) -> None:
    states = get_profile("claude-code").probe(
        ctx(home, options={"source": "logs", "block_token_limit": 91282})
    )
    block = by(states, "logs", "five_hour")
    assert block.utilization == pytest.approx(0.5) and block.available is True


def test_logs_limit_expires_and_is_lifted_by_later_usage(home: Path) -> None:
    after = 1795824000.0 + 60
    states = get_profile("claude-code").probe(ctx(home, now=after, options={"source": "logs"}))
    assert not [s for s in states if s.window == "usage_limit"]
    log = next((home / ".claude" / "projects").rglob("*.jsonl"))
    with log.open("a") as f:
        f.write(
            json.dumps(
                {
                    "type": "assistant",
                    "timestamp": "2026-11-27T18:45:00Z",
                    "requestId": "req_new",
                    "message": {
                        "id": "msg_new",
                        "model": "claude-opus-4-7",
                        "usage": {"input_tokens": 5},
                    },
                }
            )
            + "\n"
        )
    states = get_profile("claude-code").probe(ctx(home, options={"source": "logs"}))
    assert not [s for s in states if s.window == "usage_limit"]


def test_logs_new_block_after_a_gap(tmp_path: Path) -> None:
    home = tmp_path / "h"
    proj = home / ".claude" / "projects" / "p"
    proj.mkdir(parents=True)

    def line(t: str, mid: str, n: int) -> str:
        return json.dumps(
            {
                "type": "assistant",
                "timestamp": t,
                "requestId": mid,
                "message": {"id": mid, "model": "m", "usage": {"output_tokens": n}},
            }
        )

    (proj / "s.jsonl").write_text(
        "\n".join(
            [
                line("2026-11-27T06:10:00Z", "a", 1),
                line("2026-11-27T09:00:00Z", "b", 2),
                line("2026-11-27T15:30:00Z", "c", 4),
            ]
        )
    )
    s = scan_logs(ctx(home), ts(2026, 11, 27, 16))
    assert s.block_start == ts(2026, 11, 27, 15) and s.tokens == 4
    s = scan_logs(ctx(home), ts(2026, 11, 27, 10))  # the first block (06:00-11:00)
    assert s.block_start == ts(2026, 11, 27, 6) and s.tokens == 3
    s = scan_logs(ctx(home), ts(2026, 11, 27, 12))  # between blocks
    assert s.block_start is None and s.tokens == 0


def test_logs_variants_never_crash(tmp_path: Path, fixtures_dir: Path) -> None:
    home = tmp_path / "h"
    assert scan_logs(ctx(home), NOW).files == 0  # no dirs at all
    proj = home / ".claude" / "projects"
    (proj / "empty").mkdir(parents=True)
    assert scan_logs(ctx(home), NOW).tokens == 0  # empty project dir
    good = (fixtures_dir / "claude" / "projects" / "-home-agent-workspace").glob("*.jsonl")
    text = next(good).read_text()
    (proj / "p").mkdir()
    # Truncated mid-line, malformed lines, unknown keys, wrong types.
    (proj / "p" / "a.jsonl").write_text(
        text[: len(text) - 40]
        + "\n{nope\n[]\n"
        + json.dumps(
            {
                "type": "assistant",
                "timestamp": "2026-11-27T18:50:00Z",
                "weird": 1,
                "message": {"usage": {"input_tokens": "9", "output_tokens": True}},
            }
        )
        + "\n"
        + json.dumps({"type": "assistant", "timestamp": 12, "message": {}})
        + "\n"
    )
    (proj / "p" / "unreadable.jsonl").mkdir()  # a directory where a file should be
    (proj / "p" / "binary.jsonl").write_bytes(b"\xff\xfe\x00\x01" * 100)
    s = scan_logs(ctx(home), NOW)
    assert s.tokens == 18652 + 21649 + 5340  # the good lines still count
    # Logs older than the lookback (14 days) are not read at all.
    old = NOW - 15 * 86400
    for f in (proj / "p").glob("*.jsonl"):
        os.utime(f, (old, old))
    assert scan_logs(ctx(home), NOW).files == 0


def test_xdg_config_dir_is_searched(tmp_path: Path, fixtures_dir: Path) -> None:
    home = tmp_path / "h"
    xdg = tmp_path / "xdg"
    shutil.copytree(fixtures_dir / "claude" / "projects", xdg / "claude" / "projects")
    s = scan_logs(ctx(home, env={"XDG_CONFIG_HOME": str(xdg)}), NOW)
    assert s.tokens == 18652 + 21649 + 5340
