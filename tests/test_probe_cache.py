"""rota.probes: every enabled harness's probe, cached in a real SQLite store, pools, laziness."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from probe_support import Route, fixture_home, usage_server
from rota import probes
from rota.config import parse_config
from rota.harnesses.base import ProbeContext
from rota.harnesses.common import last_outcome_states
from rota.quota.state import exhausting
from rota.store.base import SessionOutcome
from rota.store.sqlite import SQLiteStore


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


NOW = ts(2026, 11, 27, 19, 0)


def config(**extra: object) -> object:
    data: dict = {
        "harnesses": {
            "claude-code": {"models": {"opus": "high", "sonnet": "medium"}},
            "codex": {"models": {"gpt-5.4": "medium"}},
            "gptme": {
                "models": {"openai/gpt-5.4": "medium", "anthropic/claude-sonnet-4-6": "medium"}
            },
        },
        "pools": {"chatgpt": {"harnesses": ["codex"], "arms": ["gptme:openai/gpt-5.4"]}},
    }
    for k, v in extra.items():
        data[k] = v
    return parse_config(data)


@pytest.fixture
def home(tmp_path: Path, fixtures_dir: Path) -> Path:
    return fixture_home(fixtures_dir, tmp_path / "home")


@pytest.fixture
def store(tmp_path: Path):
    s = SQLiteStore(tmp_path / "state" / "rota.db")
    yield s
    s.close()


def env_for(home: Path, url: str) -> dict[str, str]:
    return {"HOME": str(home), "ROTA_CLAUDE_USAGE_URL": url}


def test_cached_within_ttl_then_probed_again(home: Path, store, fixtures_dir: Path) -> None:
    cfg = config()
    body = (fixtures_dir / "claude" / "oauth_usage.json").read_bytes()
    with usage_server() as srv:
        env = env_for(home, srv.route("/u", Route(200, body)))
        first = probes.quota_states(cfg, store, NOW, env=env, home=home)
        assert srv.hits("/u") == 1
        again = probes.quota_states(cfg, store, NOW + 60, env=env, home=home)
        assert srv.hits("/u") == 1  # served from the store's cache
        key = lambda s: (s.scope_kind, s.scope, s.window, s.source)  # noqa: E731
        assert sorted(map(key, again)) == sorted(map(key, first))
        assert sorted(s.to_dict()["utilization"] or 0 for s in again) == sorted(
            s.to_dict()["utilization"] or 0 for s in first
        )
        probes.quota_states(cfg, store, NOW + 60, env=env, home=home, refresh=True)
        assert srv.hits("/u") == 2
        probes.quota_states(cfg, store, NOW + 60 + 301, env=env, home=home)
        assert srv.hits("/u") == 3  # 5 minutes by default


def test_429_backs_off_longer(home: Path, store) -> None:
    cfg = config()
    with usage_server() as srv:
        env = env_for(home, srv.route("/u", Route(429, b"")))
        states = probes.quota_states(cfg, store, NOW, env=env, home=home)
        api = [s for s in states if s.source == "api"]
        assert api and api[0].available is None and "(429)" in api[0].reason
        probes.quota_states(cfg, store, NOW + 600, env=env, home=home)
        assert srv.hits("/u") == 1  # still backing off after 10 minutes
        probes.quota_states(cfg, store, NOW + 901, env=env, home=home)
        assert srv.hits("/u") == 2


def test_per_harness_cache_minutes(home: Path, store, fixtures_dir: Path) -> None:
    body = (fixtures_dir / "claude" / "oauth_usage.json").read_bytes()
    cfg = parse_config(
        {"harnesses": {"claude-code": {"quota": {"cache_minutes": 1}, "models": {"opus": "high"}}}}
    )
    with usage_server() as srv:
        env = env_for(home, srv.route("/u", Route(200, body)))
        probes.quota_states(cfg, store, NOW, env=env, home=home)
        probes.quota_states(cfg, store, NOW + 61, env=env, home=home)
        assert srv.hits("/u") == 2


def test_pool_carries_codex_exhaustion_to_gptme(tmp_path: Path, store) -> None:
    home = tmp_path / "h"
    day = home / ".codex" / "sessions" / "2026" / "11" / "27"
    day.mkdir(parents=True)
    line = {
        "timestamp": "2026-11-27T18:55:00Z",
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "rate_limits": {
                "primary": {"used_percent": 100.0, "window_minutes": 300, "resets_at": NOW + 3600}
            },
        },
    }
    (day / "rollout-x.jsonl").write_text(json.dumps(line) + "\n")
    cfg = config()
    states = probes.quota_states(cfg, store, NOW, env={"HOME": str(home)}, home=home)
    pool = [s for s in states if s.scope_kind == "pool"]
    assert [(s.scope, s.window, s.available) for s in pool] == [("chatgpt", "five_hour", False)]
    assert pool[0].reason.startswith("via codex")
    ex = exhausting(cfg.arm_scopes("gptme:openai/gpt-5.4"), states, NOW)
    assert ex is not None and ex.resets_at == NOW + 3600
    # gptme's anthropic model is in no pool: still usable.
    assert exhausting(cfg.arm_scopes("gptme:anthropic/claude-sonnet-4-6"), states, NOW) is None
    # Cached rows come back with the pool copy rebuilt, not stored twice.
    again = probes.quota_states(cfg, store, NOW + 10, env={"HOME": str(home)}, home=home)
    assert len([s for s in again if s.scope_kind == "pool"]) == 1


def test_a_failing_probe_is_unknown(home: Path, store, monkeypatch: pytest.MonkeyPatch) -> None:
    from rota.harnesses import codex

    def boom(self, ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(codex.CodexProfile, "probe", boom)
    cfg = config()
    states = probes.quota_states(
        cfg,
        store,
        NOW,
        env={"HOME": str(home), "ROTA_CLAUDE_USAGE_URL": "http://127.0.0.1:9/"},
        home=home,
        harnesses=["codex"],
    )
    assert [(s.scope, s.available, s.reason) for s in states] == [
        ("codex", None, "quota probe failed: RuntimeError")
    ]


def test_disabled_harness_and_disabled_probe(home: Path, store) -> None:
    cfg = parse_config(
        {
            "harnesses": {
                "claude-code": {"enabled": False, "models": {"opus": "high"}},
                "codex": {"quota": {"source": "none"}, "models": {"gpt-5.4": "medium"}},
            }
        }
    )
    assert probes.quota_states(cfg, store, NOW, env={"HOME": str(home)}, home=home) == []


def test_last_session_heuristic_through_the_store(home: Path, store) -> None:
    cfg = config()
    sid = store.start_session(
        category="code",
        arm="gptme:openai/gpt-5.4",
        started_at=NOW - 900,
        decision_id=None,
        pid=1,
        machine="m",
        workspace="w",
    )
    store.finish_session(
        sid,
        SessionOutcome(status="completed", ended_at=NOW - 600, exit_code=0, reward=0.8),
        half_life_s=14 * 86400,
    )
    states = probes.quota_states(
        cfg,
        store,
        NOW,
        env={"HOME": str(home), "ROTA_CLAUDE_USAGE_URL": "http://127.0.0.1:9/"},
        home=home,
        harnesses=["gptme"],
    )
    assert [(s.scope, s.window, s.available, s.source) for s in states] == [
        ("gptme", "last_session", True, "heuristic")
    ]
    assert "completed" in states[0].reason


def test_heuristic_states() -> None:
    ctx = ProbeContext(home=Path("/nonexistent"), env={}, now=NOW, harness="gptme")
    assert last_outcome_states(ctx, "gptme") == []
    ctx.last_outcome, ctx.last_outcome_at = "rate_limited", NOW - 60
    (s,) = last_outcome_states(ctx, "gptme")
    assert s.available is None and "rate_limited" in s.reason  # never "exhausted": blocks do that
    ctx.last_outcome = "completed"
    assert last_outcome_states(ctx, "gptme")[0].available is True


def test_cache_hit_imports_no_http_client_or_zstd(
    home: Path, tmp_path: Path, fixtures_dir: Path
) -> None:
    """`rota select` stays cheap: with a fresh cache nothing heavy is imported."""
    db = tmp_path / "state" / "rota.db"
    cfg_file = tmp_path / "rota.toml"
    cfg_file.write_text(
        '[harnesses.claude-code.models]\nopus = "high"\n[harnesses.codex.models]\n"gpt-5.4" = "medium"\n'
        '[pools.chatgpt]\nharnesses = ["codex"]\n'
    )
    body = (fixtures_dir / "claude" / "oauth_usage.json").read_bytes()
    from rota.config import load_config

    with usage_server() as srv:
        env = env_for(home, srv.route("/u", Route(200, body)))
        s = SQLiteStore(db)
        try:
            warm = probes.quota_states(load_config(cfg_file), s, NOW, env=env, home=home)
        finally:
            s.close()
    code = f"""
import json, sys
from pathlib import Path
from rota.config import load_config
from rota.store.sqlite import SQLiteStore
from rota import probes
s = SQLiteStore(Path({str(db)!r}))
states = probes.quota_states(load_config({str(cfg_file)!r}), s, {NOW + 30!r}, env={{"HOME": {str(home)!r}}})
print(json.dumps({{"n": len(states), "heavy": sorted(m for m in ("urllib.request", "http.client", "zstandard", "rota.harnesses.claude_usage") if m in sys.modules)}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    got = json.loads(out.stdout)
    assert got == {"n": len(warm), "heavy": []}


def test_own_probes_are_the_profiles_that_have_one() -> None:
    """probes.OWN_PROBES names exactly the built-in profiles whose probe is their own; the others
    get the last-outcome heuristic without their profile being imported."""
    from rota import probes
    from rota.harnesses.common import BuiltinProfile
    from rota.harnesses.registry import BUILTIN, builtin_profile

    own = set()
    for name in BUILTIN:
        prof = builtin_profile(name)
        assert prof is not None
        if type(prof).probe is not BuiltinProfile.probe:
            own.add(name)
    assert own == set(probes.OWN_PROBES)


def test_a_harness_without_a_probe_answers_without_its_profile(tmp_path: Path) -> None:
    """The heuristic answer, worked out in rota.probes, is the one its profile gives; and in a
    fresh process, no harness module is imported for it."""
    from rota.harnesses.registry import profile_for

    cfg = parse_config(
        {"harnesses": {"gptme": {"models": {"glm-5": {}}}, "aider": {"models": {"x": {}}}}}
    )
    store = SQLiteStore(tmp_path / "rota.db")
    sid = store.start_session(
        category="code", arm="gptme:glm-5", started_at=NOW - 600, decision_id=None,
        pid=1, machine="m", workspace="w",
    )  # fmt: skip
    store.finish_session(
        sid, SessionOutcome(status="completed", ended_at=NOW - 300), half_life_s=86400.0
    )
    states = probes.quota_states(cfg, store, NOW, refresh=True)
    gptme = [s for s in states if s.scope == "gptme"]
    ctx = ProbeContext(
        home=tmp_path, env={}, now=NOW, harness="gptme",
        last_outcome="completed", last_outcome_at=NOW - 300,
    )  # fmt: skip
    by_profile = profile_for("gptme", cfg.harnesses["gptme"]).probe(ctx)
    assert [s._replace(ttl=None) for s in gptme] == by_profile
    assert gptme[0].ttl == 300.0  # [quota] cache_minutes, as the profile's cache_seconds says
    aider = [s for s in states if s.scope == "aider"]
    assert [(s.window, s.reason) for s in aider] == [("probe", "no quota source for this harness")]
    code = f"""
import sys
from rota.config import parse_config
from rota.probes import quota_states
from rota.store.sqlite import SQLiteStore
cfg = parse_config({{"harnesses": {{"gptme": {{"models": {{"glm-5": {{}}}}}}}}}})
quota_states(cfg, SQLiteStore({str(tmp_path / "rota.db")!r}), {NOW}, refresh=True)
print(sorted(m for m in sys.modules if m.startswith("rota.harnesses")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
