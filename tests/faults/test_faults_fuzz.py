"""Hypothesis fuzzing of what rota reads: the config, the rows it stored, what harnesses print,
and the reset times in limit messages. Bad input is a clear error with its exit code (78 for the
config), never a traceback, a hang or an unbounded value."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from faultkit import FaultEnv, bounded, figure, no_traceback  # noqa: F401 - bounded

pytestmark = [pytest.mark.faults, pytest.mark.usefixtures("bounded")]

FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays reproducible
    database=None,  # nothing written into the clone
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def fuzz(n: int) -> settings:
    return settings(FUZZ, max_examples=n)


DAY = 86400.0
MAX_RESET_S = 400 * DAY  # rota.resettime.HARD_CAP_S: no reset lies further away
BLOCK_CAP_S = MAX_RESET_S  # what a profile reports; blocks are capped by their window later
COUNTS: dict[str, int] = {}


def _count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


# ---------------------------------------------------------------------------------------------
# The config

BASE_CONFIG: dict[str, Any] = {
    "categories": ["code", "triage"],
    "default_category": "code",
    "tiers": ["low", "medium", "high"],
    "workspace": {"path": "/tmp"},
    "harnesses": {
        "agent": {
            "command": ["scripted", "harness", "{model}", "{prompt}"],
            "timeout_minutes": 5,
            "env": {"A": "1"},
            "models": {"m1": {"tier": "medium", "cost": 1.0}, "m2": {"tier": "high"}},
        }
    },
    "pools": {"p": {"harnesses": ["agent"], "concurrency": 1}},
    "rules": {"triage": {"max_tier": "medium", "prefer_cheapest": True}},
    "bandit": {
        "half_life_days": 14,
        "pooling_strength": 1,
        "observation_weight": "auto",
        "cost_weight": 0.02,
        "prior_strength": 1,
        "explore_min_trials": 3,
        "near_tie": 0.02,
        "exploration": 0.5,
    },
    "pacing": {
        "enabled": True,
        "use_it_horizon_hours": 6,
        "use_it_min_headroom": 0.4,
        "bonus": 0.02,
        "ahead_penalty": 0.15,
    },
    "run": {
        "prompt": "work",
        "loop_gap_seconds": 60,
        "kill_grace_seconds": 10,
        "retry_interval_minutes": 10,
    },
    "grading": {"weights": {"exit": 0.25, "commits": 0.3}},
    "schedule": {"randomized_delay_sec": 120, "persistent": True, "retry_interval_minutes": 10},
    "health": {"max_hours_without_success": 24, "blocked_all_hours": 6, "crash_streak": 3},
    "quota": {"cache_minutes": 5},
}


def _paths(d: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for k, v in d.items():
        out.append((*prefix, k))
        if isinstance(v, dict):
            out.extend(_paths(v, (*prefix, k)))
    return out


PATHS = _paths(BASE_CONFIG)
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 1e-320, 0.0]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
SCALARS = st.one_of(
    NUMBERS,
    st.text(max_size=12),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 1, 1)),
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
MUTATIONS = st.lists(
    st.tuples(st.sampled_from(PATHS), st.one_of(st.none(), NUMBERS, TOML_VALUES)),
    min_size=1,
    max_size=3,
)


def mutate(mutations: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """BASE_CONFIG with each (path, value) applied; None deletes the key."""
    data = copy.deepcopy(BASE_CONFIG)
    for path, value in mutations:
        node = data
        for k in path[:-1]:
            if not isinstance(node.get(k), dict):
                break
            node = node[k]
        else:
            if value is None:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
    return data


def _finite_numbers(obj: Any, where: str = "") -> list[str]:
    """Every non-finite float reachable from a parsed Config (records and mappings)."""
    bad = []
    if isinstance(obj, float):
        return [] if math.isfinite(obj) else [where]
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            bad += _finite_numbers(v, f"{where}.{k}")
    elif isinstance(getattr(obj, "_fields", None), tuple) or hasattr(type(obj), "__slots__"):
        names = obj._fields if isinstance(getattr(obj, "_fields", None), tuple) else obj.__slots__
        for k in names:
            bad += _finite_numbers(getattr(obj, k), f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            bad += _finite_numbers(v, f"{where}[{i}]")
    return bad


@fuzz(400)
@given(MUTATIONS)
def test_config_mutations_give_a_config_or_a_config_error(mutations: list) -> None:
    from rota.config import parse_config
    from rota.errors import ConfigError

    _count("config mutations")
    try:
        parse_config(mutate(mutations), path="fuzz.toml")
    except ConfigError as exc:
        assert "fuzz.toml: [" in str(exc)  # names the file and the key


@fuzz(300)
@given(MUTATIONS)
@example([(("bandit", "pooling_strength"), float("nan"))])
def test_a_config_that_validates_holds_only_finite_numbers(mutations: list) -> None:
    from rota.config import parse_config
    from rota.errors import ConfigError

    try:
        cfg = parse_config(mutate(mutations), path="fuzz.toml")
    except ConfigError:
        return
    assert _finite_numbers(cfg) == []


def to_toml(data: dict[str, Any]) -> str:
    """A small TOML writer for the fuzzed documents (tables, arrays, scalars, datetimes)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return (
                "nan"
                if math.isnan(v)
                else ("inf" if v > 0 else "-inf")
                if math.isinf(v)
                else repr(v)
            )
        if isinstance(v, (int, str)):
            return json.dumps(v)
        if isinstance(v, dt.datetime):
            return v.isoformat()
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((json.dumps(k), v))
        else:
            lines.append(f"{json.dumps(k)} = {value(v)}")
    for name, body in tables:
        lines.append(f"\n[{name}]")
        for k, v in body.items():
            lines.append(f"{json.dumps(k)} = {value(v)}")
    return "\n".join(lines) + "\n"


@fuzz(25)
@given(MUTATIONS)
@example([(("bandit", "observation_weight"), float("nan"))])
def test_config_mutations_through_the_cli_exit_0_76_or_78(tmp_path: Path, mutations: list) -> None:
    fenv = FaultEnv(tmp_path / f"c{time.monotonic_ns()}")
    data = mutate(mutations)
    if isinstance(data.get("workspace"), dict) and "path" in data["workspace"]:
        data["workspace"]["path"] = str(fenv.workspace)
    fenv.config.write_text(to_toml(data), encoding="utf-8")
    _count("config mutations through the CLI")
    p = fenv.run("select", timeout=60)  # a hang is a failure (generous: CI machines are loaded)
    assert no_traceback(p.stderr), p.stderr
    assert p.returncode in (0, 76, 78), (p.returncode, p.stderr)


# ---------------------------------------------------------------------------------------------
# Stored rows

ROW_VALUES = st.one_of(
    st.none(),
    NUMBERS.filter(lambda x: not (isinstance(x, float) and math.isnan(x))),  # NaN is NULL there
    st.sampled_from([1e20, -1e20, 1e300, 253402300800.0, -62135596800.0, 2**62]),
    st.text(max_size=20),
    st.sampled_from(["{", "[]", "null", '{"errors": 3}', '{"levels": [[1]]}', "\x00", "{}"]),
    st.binary(max_size=8),
)
TABLE_COLUMNS = {
    "sessions": (
        "category",
        "arm",
        "arm_ran",
        "status",
        "started_at",
        "ended_at",
        "exit_code",
        "reward",
        "graded_at",
        "signals",
        "detail",
        "decision_id",
        "pid",
        "machine",
        "workspace",
        "log_path",
    ),
    "evidence": ("s", "f", "t", "n", "sum_r", "sum_r2", "arm", "category"),
    "blocks": ("scope_kind", "scope", "until_ts", "reason", "source", "created_at", "hits"),
    "quota_cache": ("scope_kind", "scope", "window", "observed_at", "state"),
    "decisions": ("at", "category", "arm", "explanation"),
}
ROW_MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(sorted(TABLE_COLUMNS)).flatmap(
            lambda t: st.tuples(st.just(t), st.sampled_from(TABLE_COLUMNS[t]))
        ),
        ROW_VALUES,
    ),
    min_size=1,
    max_size=4,
)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> FaultEnv:
    """A store with real history: graded sessions, a block, cached quota, decisions."""
    fenv = FaultEnv(tmp_path_factory.mktemp("stored"))
    fenv.configure()
    for _ in range(4):
        fenv.run("run", check=True)
    fenv.run("block", "agent:m2", "--for", "2h", check=True)
    return fenv


@fuzz(40)
@given(ROW_MUTATIONS)
@example([(("blocks", "until_ts"), 1e20)])
def test_damaged_stored_rows_never_crash_a_reading_command(
    stored: FaultEnv, tmp_path: Path, mutations: list
) -> None:
    state = tmp_path / f"s{time.monotonic_ns()}"
    shutil.copytree(stored.state, state)
    conn = sqlite3.connect(state / "rota.db")
    for (table, column), v in mutations:
        try:
            with conn:
                conn.execute(f'UPDATE {table} SET "{column}" = ?', (v,))
        except sqlite3.IntegrityError:
            pass  # NOT NULL and the like: the schema itself refuses it
    conn.close()
    env = dict(stored.env, ROTA_STATE_DIR=str(state))
    _count("stored-row mutations")
    for args in (("select", "--json"), ("status", "--json"), ("sessions", "--json")):
        p = subprocess.run(
            [sys.executable, "-m", "rota.cli", *args],
            env=env,
            cwd=stored.root,
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert no_traceback(p.stderr), (args, p.stderr)
        assert p.returncode in (0, 69, 76), (args, p.returncode, p.stderr)


# ---------------------------------------------------------------------------------------------
# Harness output

VENDOR_KEYS = [
    "type",
    "subtype",
    "rate_limit_info",
    "status",
    "resetsAt",
    "rateLimitType",
    "result",
    "is_error",
    "model",
    "message",
    "error",
    "msg",
    "resets_at",
    "resets_in_seconds",
    "parent_tool_use_id",
    "content",
    "usage",
    "stats",
]
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    NUMBERS,
    st.integers(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "rejected",
            "rate_limit_event",
            "result",
            "system",
            "init",
            "assistant",
            "error",
            "turn.failed",
            "usage_limit_reached",
            "five_hour",
            "seven_day_opus",
            "claude-opus-4-7",
            "gpt-5.4",
            "Infinity",
            "1e400",
        ]
    ),
)
JSON_OBJECTS = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(VENDOR_KEYS), inner, max_size=5),
    ),
    max_leaves=12,
).filter(lambda x: isinstance(x, dict))
LIMIT_LINES = st.sampled_from(
    [
        "You've hit your limit · resets 11pm (UTC)",
        "You've hit your usage limit. Try again in 99999999999999999999 days.",
        "Claude AI usage limit reached|99999999999999",
        "Claude AI usage limit reached|1795824000",
        "ERROR: You've hit your usage limit. Try again at 2:57 PM.",
        "usage_limit_reached",
        "429 Too Many Requests",
        "Quota exceeded; resets Feb 30, 8am (Mars/Olympus)",
        "Error: Rate limit reached, retry after 1e308 seconds",
    ]
)
OUTPUT_LINES = st.lists(
    st.one_of(
        JSON_OBJECTS.map(lambda o: json.dumps(o, allow_nan=True)),
        LIMIT_LINES,
        st.text(max_size=80),
    ),
    max_size=8,
).map("\n".join)


def _profiles() -> list[Any]:
    from rota.harnesses.registry import BUILTIN, builtin_profile, generic_profile

    return [builtin_profile(n) for n in sorted(BUILTIN)] + [generic_profile("custom")]


@fuzz(300)
@given(OUTPUT_LINES, OUTPUT_LINES, st.sampled_from([0, 1, 2, 75, None]))
@example(
    '{"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "resetsAt": 1e20}}\n'
    '{"type": "result", "is_error": true, "result": "limit"}',
    "",
    1,
)
def test_harness_output_is_read_without_errors_and_resets_are_bounded(
    stdout: str, stderr: str, code: int | None
) -> None:
    from rota.harnesses.base import SessionOutput

    now = time.time()
    out = SessionOutput(exit_code=code, stdout=stdout, stderr=stderr, ended_at=now)
    _count("harness outputs (x8 profiles)")
    for prof in _profiles():
        hit = prof.detect_limit(out)
        prof.model_seen(stdout)
        for v in prof.result_signals(stdout).values():
            assert 0.0 <= v <= 1.0
        if hit is not None and hit.resets_at is not None:
            assert math.isfinite(hit.resets_at)
            assert now - 60 <= hit.resets_at <= now + BLOCK_CAP_S, (prof.name, hit)


# ---------------------------------------------------------------------------------------------
# The reset parser

RESET_TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(
        "{} {} {}{}".format,
        st.sampled_from(["try again in", "resets in", "retry after", "available in", "in"]),
        st.one_of(
            st.integers(min_value=0, max_value=10**25), st.floats(min_value=0, max_value=1e30)
        ),
        st.sampled_from(["days", "d", "hours", "h", "minutes", "m", "seconds", "s", "weeks"]),
        st.sampled_from(["", ".", " and 3 minutes", " 17 hours"]),
    ),
    st.builds(
        "resets {} {}, {}:{:02d}{} ({})".format,
        st.sampled_from(["Jan", "Feb", "Dec", "Foo"]),
        st.integers(min_value=0, max_value=40),
        st.integers(min_value=0, max_value=30),
        st.integers(min_value=0, max_value=70),
        st.sampled_from(["am", "pm", "", " PM"]),
        st.sampled_from(["UTC", "Europe/Lisbon", "+14:00", "-12:00", "Nowhere/City", "PST"]),
    ),
    st.builds("usage limit reached|{}".format, st.integers(min_value=0, max_value=10**20)),
    st.builds(
        "reset at {}".format,
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)).map(
            lambda d: d.isoformat()
        ),
    ),
)


@fuzz(1000)
@given(RESET_TEXT, st.floats(min_value=0, max_value=4e9))
@example("try again in 99999999999999999999 days", 1.8e9)
def test_the_reset_parser_never_raises_and_stays_within_its_cap(text: str, ref: float) -> None:
    from rota.resettime import parse_reset

    _count("reset texts")
    got = parse_reset(text, ref)
    if got is not None:
        assert math.isfinite(got)
        assert ref - 60 < got <= ref + MAX_RESET_S, (text, got - ref)
        time.gmtime(got)  # it can be shown


def test_fuzz_figures() -> None:
    if not COUNTS:
        pytest.skip("no fuzz case ran")
    figure("hypothesis: " + ", ".join(f"{n} {k}" for k, n in sorted(COUNTS.items())))
