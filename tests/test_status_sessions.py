"""`rota status`, `rota select --explain` and `rota sessions` as a person reads them; `--json` of
every command with a `schema_version`, and one time format for people."""

from __future__ import annotations

import json
import time

import pytest

from conftest import BASIC_CONFIG, RotaEnv
from rota.store.base import SessionOutcome
from rota.timefmt import when

H = 3600.0


def _session(
    rota_env: RotaEnv,
    *,
    arm: str,
    category: str = "code",
    ago_h: float,
    status: str = "completed",
    reward: float | None = 0.8,
    machine: str = "box",
    detail: dict | None = None,
) -> int:
    with rota_env.store() as s:
        started = time.time() - ago_h * H
        sid = s.start_session(
            category=category,
            arm=arm,
            started_at=started,
            decision_id=None,
            pid=4242,
            machine=machine,
            workspace="box:/ws",
            log_path=f"/logs/{arm}.log",
        )
        s.finish_session(
            sid,
            SessionOutcome(
                status=status,
                ended_at=started + 600,
                exit_code=0 if status == "completed" else 1,
                reward=reward if status == "completed" else None,
                signals={"exit": 1.0, "commits": 1.0, "weights": {"exit": 0.25, "commits": 0.3}}
                if status == "completed"
                else {},
                detail=detail or {},
            ),
            half_life_s=14 * 86400,
        )
    return sid


# -- status ------------------------------------------------------------------------------------


def test_status_on_one_machine_has_no_fleet_section(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    _session(rota_env, arm="codex:gpt-5.4", ago_h=2)
    out = rota_env.run("status", check=True).stdout
    assert "fleet" not in out
    assert "observation weight" in out and "one graded session counts as" in out
    _session(rota_env, arm="codex:gpt-5.4", ago_h=1, machine="other-box")
    out = rota_env.run("status", check=True).stdout
    assert "fleet (sessions in the last 7 days)" in out and "other-box" in out
    d = json.loads(rota_env.run("status", "--json", check=True).stdout)
    assert d["schema_version"] == 1 and d["weight_auto"] is True and d["now_iso"].endswith("Z")
    assert {m["machine"] for m in d["fleet"]["machines"]} == {"box", "other-box"}


def test_status_times_are_local_with_zone_and_relative(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    rota_env.env["TZ"] = "UTC"
    _session(rota_env, arm="codex:gpt-5.4", ago_h=2)
    rota_env.run("block", "gptme", "--for", "3h", check=True)
    out = rota_env.run("status", check=True).stdout
    assert " UTC (2h ago)" in out
    assert " UTC (in 3h)" in out or " UTC (in 2h 59m)" in out


# -- select --explain --------------------------------------------------------------------------


def test_explain_draws_no_disabled_arm_and_says_why_draw_and_score_differ(
    rota_env: RotaEnv,
) -> None:
    rota_env.write_config(
        BASIC_CONFIG.replace(
            'glm-5 = {{ tier = "low", cost = 0.3 }}',
            'glm-5 = {{ tier = "low", cost = 0.3, enabled = false }}',
        )
    )
    out = rota_env.run("select", "--explain", "--seed", "2", check=True).stdout
    row = next(line for line in out.splitlines() if line.startswith("gptme:glm-5"))
    cells = row.split()
    at = cells.index("disabled")  # then mean, interval (two cells), n, draw, score
    assert cells[at + 5] == "-" and cells[at + 6] == "-"
    flat = " ".join(out.split())
    assert "score: the draw less the cost penalty" in flat
    assert "observation weight" in flat and "observations of a coin flip" in flat
    # Disabled arms come last.
    arms = [line.split()[0] for line in out.splitlines()[2:6]]
    assert arms[-1] == "gptme:glm-5"
    d = json.loads(rota_env.run("select", "--json", "--seed", "2", check=True).stdout)
    glm = next(c for c in d["candidates"] if c["arm"] == "gptme:glm-5")
    assert d["schema_version"] == 1 and glm["sample"] is None and not glm["eligible"]


# -- sessions ----------------------------------------------------------------------------------


@pytest.fixture
def history(rota_env: RotaEnv) -> dict[str, int]:
    rota_env.write_config()
    return {
        "old": _session(rota_env, arm="claude-code:opus", category="strategic", ago_h=72),
        "codex": _session(rota_env, arm="codex:gpt-5.4", ago_h=30),
        "sonnet": _session(rota_env, arm="claude-code:sonnet", ago_h=5),
        "limited": _session(
            rota_env,
            arm="claude-code:opus",
            ago_h=2,
            status="rate_limited",
            detail={
                "limit": {
                    "message": "usage limit reached|1796167268",
                    "resets_at": time.time() + 2 * H + 30,  # "in 2h" for the next 30 s
                    "window": "",
                    "scopes": ["harness:claude-code"],
                }
            },
        ),
        "glm": _session(rota_env, arm="gptme:glm-5", category="triage", ago_h=1),
    }


def _ids(rota_env: RotaEnv, *args: str) -> list[int]:
    d = json.loads(rota_env.run("sessions", "--json", *args, check=True).stdout)
    assert d["schema_version"] == 1 and d["count"] == len(d["sessions"])
    return [s["id"] for s in d["sessions"]]


def test_sessions_filters(rota_env: RotaEnv, history: dict[str, int]) -> None:
    h = history
    assert _ids(rota_env) == [h["glm"], h["limited"], h["sonnet"], h["codex"], h["old"]]
    assert _ids(rota_env, "-n", "2") == [h["glm"], h["limited"]]
    assert _ids(rota_env, "--limit", "1") == [h["glm"]]
    assert _ids(rota_env, "--arm", "claude-code:opus") == [h["limited"], h["old"]]
    assert _ids(rota_env, "--arm", "claude-code") == [h["limited"], h["sonnet"], h["old"]]
    assert _ids(rota_env, "--category", "triage") == [h["glm"]]
    assert _ids(rota_env, "--since", "1d") == [h["glm"], h["limited"], h["sonnet"]]
    assert _ids(rota_env, "--since", "3h", "--arm", "claude-code") == [h["limited"]]
    assert _ids(rota_env, "--status", "rate_limited") == [h["limited"]]
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 40 * H))
    assert _ids(rota_env, "--since", iso) == [h["glm"], h["limited"], h["sonnet"], h["codex"]]
    proc = rota_env.run("sessions", "--since", "last tuesday")
    assert proc.returncode == 2 and "--since" in proc.stderr
    proc = rota_env.run("sessions", "--category", "cooking")
    assert proc.returncode == 2 and "unknown category" in proc.stderr
    out = rota_env.run("sessions", "--arm", "aider:x", check=True).stdout
    assert out.strip() == "no session matches"


def test_sessions_json_has_iso_next_to_every_epoch(rota_env: RotaEnv, history) -> None:
    d = json.loads(rota_env.run("sessions", "--json", "-n", "2", check=True).stdout)
    for s in d["sessions"]:
        for key in ("started_at", "ended_at", "graded_at"):
            assert (s[key] is None) == (s[key + "_iso"] is None)
    limited = d["sessions"][1]
    assert limited["detail"]["limit"]["resets_at_iso"].endswith("Z")


def test_one_session_for_a_person(rota_env: RotaEnv, history: dict[str, int]) -> None:
    rota_env.env["TZ"] = "UTC"
    out = rota_env.run("sessions", str(history["sonnet"]), check=True).stdout
    lines = out.splitlines()
    assert lines[0] == f"session {history['sonnet']}  completed  grade 0.80"
    text = "\n".join(lines)
    assert "claude-code:sonnet" in text and "UTC (5h ago)" in text and "after 10m" in text
    assert "commits 1.00 x0.3, exit 1.00 x0.25 (value x weight" in text and "/logs/claude-code:sonnet.log" in text
    out = rota_env.run("sessions", str(history["limited"]), check=True).stdout
    assert "rate limit" in out and "blocked until" in out and "UTC (in 2h)" in out
    assert "covers harness:claude-code" in out and "1796167268" not in out
    d = json.loads(rota_env.run("sessions", str(history["limited"]), "--json", check=True).stdout)
    assert d["schema_version"] == 1 and d["session"]["status"] == "rate_limited"
    proc = rota_env.run("sessions", "999")
    assert proc.returncode == 1 and "no session 999" in proc.stderr


# -- one time format; JSON everywhere -----------------------------------------------------------


def test_when_is_local_time_with_zone_and_relative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        now = 1796160308.0  # 2026-12-01 21:25:08 UTC
        assert when(now + 7000, now) == "2026-12-01 23:21 UTC (in 1h 56m)"
        assert when(now - 90000, now) == "2026-11-30 20:25 UTC (1d 1h ago)"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("sessions",),
        ("select",),
        ("quota",),
        ("doctor",),
        ("config", "check"),
        ("completion", "bash"),
        ("man",),
        ("init", "--force", "--workspace", "."),
        ("run", "--dry-run"),
        ("health",),
        ("store", "info"),
        ("block", "codex", "--for", "1h"),
        ("grade", "1", "0.5"),
    ],
)
def test_every_json_is_an_object_with_a_schema_version(rota_env: RotaEnv, args) -> None:
    rota_env.write_config()
    rota_env.git_init()
    _session(rota_env, arm="codex:gpt-5.4", ago_h=1)
    rota_env.run("block", "gptme", "--for", "1h", check=True)
    proc = rota_env.run(*args, "--json", cwd=rota_env.workspace)
    d = json.loads(proc.stdout)
    assert isinstance(d, dict) and d["schema_version"] == 1, (args, proc.stdout[:200])
    assert list(d)[0] == "schema_version"
    # ISO-8601 next to every epoch.
    missing: list[str] = []

    def walk(o: object, path: str) -> None:
        if isinstance(o, dict):
            for k, v in o.items():
                epoch = isinstance(v, float | int) and not isinstance(v, bool) and v > 1e9
                if epoch and f"{k}_iso" not in o and not (k == "until_ts" and "until" in o):
                    missing.append(f"{path}.{k}")
                walk(v, f"{path}.{k}")
        elif isinstance(o, list):
            for x in o:
                walk(x, path + "[]")

    walk(d, "")
    assert not missing, missing
