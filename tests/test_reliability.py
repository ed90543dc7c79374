"""Issue 15's defects, each reproduced through the real CLI (a `python -m rota.cli` subprocess with
its own HOME, config and state, a real git workspace, the `scripted` stand-in harness).

1. a reset time too large to format; 2. NaN and infinities in the config; 3. the harness (or a
test or grader command) outliving a `kill -9` of rota; 4. store errors after the database is open;
5. nothing ever pruned; 6. a wrong clock; 7. umask 000 and API keys for other harnesses.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faultkit import (
    PROFILES_CONFIG,
    FaultEnv,
    faketime_env,
    kill_groups,
    live,
    no_traceback,
    threads_of,
    wait_until,
)

DAY = 86400.0


@pytest.fixture
def fenv(tmp_path: Path) -> FaultEnv:
    return FaultEnv(tmp_path)


def claude_limit(resets_at: str | None = None, text: str = "You've hit your limit") -> str:
    """A claude stream-json session that stopped on a rejected rate limit."""
    info = '{"status": "rejected", "rateLimitType": "five_hour"'
    info += f', "resetsAt": {resets_at}}}' if resets_at is not None else "}"
    return "\n".join(
        [
            '{"type": "system", "subtype": "init", "model": "claude-opus-4-7"}',
            '{"type": "rate_limit_event", "rate_limit_info": ' + info + "}",
            json.dumps({"type": "result", "subtype": "error", "is_error": True, "result": text}),
            "",
        ]
    )


# ---------------------------------------------------------------------------------------------
# 1. A reset time too large to format


OVERSIZED_RESETS = {
    "claude resetsAt 1e20": ("claude-code", claude_limit("1e20"), ""),
    "claude resetsAt Infinity": ("claude-code", claude_limit("Infinity"), ""),
    "claude resetsAt 1.7e308": ("claude-code", claude_limit("1.7e308"), ""),
    "claude text 999999999999 weeks": (
        "claude-code",
        claude_limit(None, "You've hit your limit · resets in 999999999999 weeks"),
        "",
    ),
    "codex text 99999999999999999999 days": (
        "codex",
        "",
        "ERROR: You've hit your usage limit. Try again in 99999999999999999999 days.\n",
    ),
}


@pytest.mark.parametrize("case", sorted(OVERSIZED_RESETS))
def test_defect1_an_oversized_reset_time_is_bounded_and_never_breaks_rota(
    fenv: FaultEnv, case: str
) -> None:
    harness, stdout, stderr = OVERSIZED_RESETS[case]
    fenv.configure(PROFILES_CONFIG)
    fenv.plan("harness", stdout=stdout, stderr=stderr, exit=1, commit=False)
    pin = "claude-code:opus" if harness == "claude-code" else "codex:gpt-5.4"
    fenv.config.write_text(
        fenv.config.read_text() + f'\n[rules.code]\npin = ["{pin}"]\n', encoding="utf-8"
    )
    first = fenv.run("run", "--json")
    assert no_traceback(first.stderr), first.stderr
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["session"]["status"] == "rate_limited"
    # Writing is bounded: no block outlives the longest window a vendor has (a month).
    untils = [u for (u,) in fenv.rows("SELECT until_ts FROM blocks")]
    assert untils and all(u <= time.time() + 32 * DAY for u in untils), untils
    # Reading never crashes: every later command works (76: everything pinned is blocked).
    fenv.plan("harness", commit=True)
    for args in (("select",), ("status",), ("status", "--json"), ("sessions",), ("run",)):
        p = fenv.run(*args)
        assert no_traceback(p.stderr), (args, p.stderr)
        assert p.returncode in (0, 76), (args, p.returncode, p.stderr)


def test_defect1_oversized_stored_times_are_read_without_crashing(fenv: FaultEnv) -> None:
    """Blocks, sessions and quota rows written with absurd times (by an older rota, or by hand)."""
    fenv.configure()
    fenv.run("run", check=True)
    conn = sqlite3.connect(fenv.db)
    with conn:
        for until in (1e20, float("inf"), -1e20, 1e300):
            conn.execute(
                "INSERT INTO blocks (scope_kind, scope, until_ts, reason, source, created_at, hits)"
                " VALUES ('arm', 'agent:m1', ?, 'hand-written', 'manual', ?, 1)",
                (until, until),
            )
        conn.execute("UPDATE sessions SET started_at = 1e20, ended_at = 1e21, graded_at = 1e20")
        conn.execute("UPDATE evidence SET t = 1e20")
    conn.close()
    for args in (("select",), ("status",), ("status", "--json"), ("sessions",), ("run",)):
        p = fenv.run(*args)
        assert no_traceback(p.stderr), (args, p.stderr)
        assert p.returncode in (0, 76), (args, p.returncode, p.stderr)


# ---------------------------------------------------------------------------------------------
# 2. NaN and infinities in the config

NON_FINITE = [
    ("bandit", "half_life_days = nan"),
    ("bandit", "observation_weight = nan"),
    ("bandit", "pooling_strength = nan"),
    ("bandit", "prior_strength = 1e308"),
    ("bandit", "exploration = inf"),
    ("bandit", "cost_weight = nan"),
    ("pacing", "bonus = nan"),
    ("run", "kill_grace_seconds = nan"),
    ("run", "loop_gap_seconds = inf"),
    ("health", "max_hours_without_success = nan"),
    ("quota", "cache_minutes = inf"),
]


@pytest.mark.parametrize(("section", "line"), NON_FINITE, ids=[x[1] for x in NON_FINITE])
def test_defect2_non_finite_and_absurd_numbers_are_config_errors(
    fenv: FaultEnv, section: str, line: str
) -> None:
    fenv.configure()
    fenv.run("run", check=True)  # some history, so that the learning settings are used
    name = line.split(" =")[0]
    lines = [x for x in fenv.config.read_text().splitlines() if not x.startswith(f"{name} =")]
    text = "\n".join(lines) + "\n"
    if f"[{section}]" in text:
        text = text.replace(f"[{section}]\n", f"[{section}]\n{line}\n", 1)
    else:
        text += f"\n[{section}]\n{line}\n"
    fenv.config.write_text(text, encoding="utf-8")
    p = fenv.run("select", timeout=60)  # a hang raises TimeoutExpired: the defect
    key = f"{section}.{line.split(' =')[0]}"
    assert p.returncode == 78, (p.returncode, p.stderr)
    assert key in p.stderr and "finite" in p.stderr, p.stderr


@pytest.mark.parametrize(
    "model", ['m1 = { tier = "medium", cost = nan }', 'm1 = { tier = "medium", cost = inf }']
)
def test_defect2_non_finite_arm_cost_is_a_config_error(fenv: FaultEnv, model: str) -> None:
    fenv.configure()
    fenv.config.write_text(
        fenv.config.read_text().replace('m1 = { tier = "medium" }', model), encoding="utf-8"
    )
    p = fenv.run("select", timeout=10)
    assert p.returncode == 78 and "harnesses.agent.models.m1.cost" in p.stderr, p.stderr


# ---------------------------------------------------------------------------------------------
# 3. What rota started dies with it


@pytest.mark.parametrize("role", ["harness", "test", "grader"])
def test_defect3_a_kill_9_of_rota_takes_the_command_it_runs_with_it(
    fenv: FaultEnv, role: str
) -> None:
    fenv.configure(
        run='test_command = ["scripted", "test"]\ngrader_command = ["scripted", "grader"]\n',
        grace=1,
    )
    fenv.plan(role, wait="stuck", children=2, commit=role == "harness")
    proc = fenv.popen("run")
    info: dict = {}
    try:
        info = fenv.wait_started("stuck", proc)
        # The heartbeat thread runs: the kill-on-parent-death must work with threads too.
        assert threads_of(proc.pid) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        members = [info["pid"], *info["children"]]
        gone = wait_until(lambda: not any(live(p) for p in members), timeout=15)
        assert gone, f"{role} left running after kill -9 of rota: {[p for p in members if live(p)]}"
    finally:
        kill_groups([info.get("pgid", 0)] if info else [])
        proc.kill()
        proc.communicate()


# ---------------------------------------------------------------------------------------------
# 4. Store errors after the database is open


def _root() -> bool:
    return os.geteuid() == 0


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MiB tmpfs (root), or nothing (then the test limits file sizes instead)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not _root():
        yield None
        return
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mnt)], check=True
    )
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_defect4_a_full_disk_mid_session_exits_69_and_the_session_survives(
    tmp_path: Path, small_disk: Path | None
) -> None:
    if small_disk is None:
        pytest.skip("needs root for a small tmpfs (the RLIMIT_FSIZE variant is in tests/faults)")
    fenv = FaultEnv(tmp_path / "env")
    fenv.state = small_disk / "state"
    fenv.env["ROTA_STATE_DIR"] = str(fenv.state)
    fenv.configure()
    filler = small_disk / "filler"
    fenv.plan("harness", fill=str(filler), commit=True)
    p = fenv.run("run")
    assert no_traceback(p.stderr), p.stderr
    assert p.returncode == 69, (p.returncode, p.stderr)
    filler.unlink()  # space again
    fenv.plan("harness", commit=True)
    p = fenv.run("run", "--json")
    assert p.returncode == 0, p.stderr
    sessions = fenv.sessions()
    assert [s["status"] for s in sessions] == ["completed", "completed"], sessions
    assert all(s["reward"] is not None for s in sessions)
    n = fenv.rows("SELECT n FROM evidence WHERE category = '*'")
    assert sum(x for (x,) in n) == 2


def test_defect4_corrupt_pages_mid_session_exit_69_without_a_traceback(fenv: FaultEnv) -> None:
    fenv.configure()
    for _ in range(3):
        fenv.run("run", check=True)  # a few pages of history
    fenv.plan("harness", wait="running", commit=True)
    proc = fenv.popen("run")
    try:
        fenv.wait_started("running", proc)
        size = fenv.db.stat().st_size
        with open(fenv.db, "r+b") as fh:  # every page but the header page: garbage
            fh.seek(4096)
            fh.write(os.urandom(max(0, size - 4096)))
        for extra in ("-wal", "-shm"):
            Path(f"{fenv.db}{extra}").unlink(missing_ok=True)
        fenv.release("running")
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert no_traceback(err), err
    assert proc.returncode == 69, (proc.returncode, err)
    assert str(fenv.db) in err


# ---------------------------------------------------------------------------------------------
# 5. Bounded growth


def _status_posteriors(fenv: FaultEnv, env: dict[str, str] | None = None) -> list:
    p = subprocess.run(
        [sys.executable, "-m", "rota.cli", "status", "--json"],
        env=env or fenv.env,
        capture_output=True,
        text=True,
        cwd=fenv.root,
        check=True,
    )
    return json.loads(p.stdout)["posteriors"]


def _choice(fenv: FaultEnv) -> list:
    """`rota select --seed 7` for every category: the arm, and each candidate's draw and score."""
    out = []
    for cat in ("code", "infrastructure", "strategic"):
        d = json.loads(fenv.run("select", "-c", cat, "--seed", "7", "--json", check=True).stdout)
        out.append((d["arm"], [(c["arm"], c["sample"], c["score"]) for c in d["candidates"]]))
    return out


def test_defect5_store_prune_drops_old_sessions_and_keeps_every_posterior(
    fenv: FaultEnv,
) -> None:
    fenv.configure(extra="\n[retention]\nsessions_days = 365\n")
    old = dict(fenv.env, **faketime_env("-100d"))
    for _ in range(4):
        subprocess.run(
            [sys.executable, "-m", "rota.cli", "run"],
            env=old,
            cwd=fenv.root,
            check=True,
            capture_output=True,
        )
    for _ in range(2):
        fenv.run("run", check=True)
    assert len(fenv.sessions()) == 6  # nothing is a year old
    fenv.config.write_text(
        fenv.config.read_text().replace("sessions_days = 365", "sessions_days = 30"),
        encoding="utf-8",
    )
    before = _status_posteriors(fenv)
    choice = _choice(fenv)
    dry = json.loads(fenv.run("store", "prune", "--dry-run", "--json", check=True).stdout)
    assert len(fenv.sessions()) == 6  # a dry run changes nothing
    done = json.loads(fenv.run("store", "prune", "--json", check=True).stdout)
    assert dry["sessions"] == done["sessions"] == 4
    assert len(fenv.sessions()) == 2
    assert fenv.rows("SELECT COUNT(*) FROM decisions")[0][0] == 2
    assert _status_posteriors(fenv) == before
    assert _choice(fenv) == choice


def test_defect5_each_run_prunes_what_retention_lets_go(fenv: FaultEnv) -> None:
    fenv.configure(extra="\n[retention]\nsessions_days = 30\nlogs_days = 30\n")
    old = dict(fenv.env, **faketime_env("-100d"))
    for _ in range(3):
        subprocess.run(
            [sys.executable, "-m", "rota.cli", "run"],
            env=old,
            cwd=fenv.root,
            check=True,
            capture_output=True,
        )
    logs = sorted((fenv.state / "logs").iterdir())
    assert len(fenv.sessions()) == 3 and len(logs) == 6  # a log and a prompt file each
    for f in logs:  # written 100 days ago (the kernel stamps files with the real clock)
        os.utime(f, (time.time() - 100 * DAY, time.time() - 100 * DAY))
    p = fenv.run("run", check=True)
    assert "pruned sessions=3" in p.stderr
    assert [s["id"] for s in fenv.sessions()] == [4]
    assert not any(f.exists() for f in logs)  # their logs are past logs_days too
    # What the pruned sessions taught stays: the evidence still counts all four.
    assert sum(n for (n,) in fenv.rows("SELECT n FROM evidence WHERE category = '*'")) == 4


def test_defect5_a_session_log_is_capped_keeping_its_head_and_tail(fenv: FaultEnv) -> None:
    fenv.configure(extra="\n[retention]\nlog_max_kib = 256\n")
    body = "".join(f"line {i:07d} of the harness output\n" for i in range(200_000))  # ~6.4 MB
    fenv.plan("harness", stdout="FIRST LINE\n" + body + "LAST LINE\n", commit=True)
    out = json.loads(fenv.run("run", "--json", check=True).stdout)
    log = Path(out["session"]["log_path"])
    text = log.read_text(errors="replace")
    assert log.stat().st_size <= 300 * 1024
    assert "FIRST LINE" in text and "LAST LINE" in text


# ---------------------------------------------------------------------------------------------
# 6. The clock


def test_defect6_a_session_recorded_a_year_ahead_does_not_freeze_learning(
    fenv: FaultEnv,
) -> None:
    fenv.configure(extra='\n[rules.code]\npin = ["agent:m1"]\n')
    ahead = dict(fenv.env, **faketime_env("+365d"))
    fenv.plan("harness", exit=1, commit=False)  # a poor grade, recorded a year ahead
    subprocess.run(
        [sys.executable, "-m", "rota.cli", "run"], env=ahead, cwd=fenv.root, capture_output=True
    )
    fenv.plan("harness", commit=True)
    mean = [
        p["mean"]
        for p in _status_posteriors(fenv)
        if p["arm"] == "agent:m1" and p["category"] == "code"
    ]
    for _ in range(10):
        fenv.run("run", check=True)
    after = [
        p["mean"]
        for p in _status_posteriors(fenv)
        if p["arm"] == "agent:m1" and p["category"] == "code"
    ]
    # Frozen, ten good grades moved the mean by 1e-8; learning, they move it by several points.
    assert after[0] > mean[0] + 0.03, (mean, after)


def test_defect6_a_limit_hit_with_the_clock_30_days_ahead_blocks_for_its_window_only(
    fenv: FaultEnv,
) -> None:
    fenv.configure(PROFILES_CONFIG, extra='\n[rules.code]\npin = ["claude-code:opus"]\n')
    ahead = dict(fenv.env, **faketime_env("+30d"))
    fenv.plan(
        "harness", stdout=claude_limit(None, "You've hit your limit · resets in 3 hours"), exit=1
    )
    p = subprocess.run(
        [sys.executable, "-m", "rota.cli", "run", "--json"],
        env=ahead,
        cwd=fenv.root,
        capture_output=True,
        text=True,
    )
    assert json.loads(p.stdout)["session"]["status"] == "rate_limited", p.stderr
    # Back on the right clock, the timer's next run finds the block stamped 30 days ahead and
    # takes it as made now (with a warning); five hours later (the window) claude is usable.
    fixed = fenv.run("run")
    assert fixed.returncode == 76 and "30 days ahead" in fixed.stderr, fixed.stderr
    later = dict(fenv.env, **faketime_env("+5h"))
    sel = subprocess.run(
        [sys.executable, "-m", "rota.cli", "select", "--json"],
        env=later,
        cwd=fenv.root,
        capture_output=True,
        text=True,
    )
    assert sel.returncode == 0 and json.loads(sel.stdout)["arm"] == "claude-code:opus", sel.stdout


# ---------------------------------------------------------------------------------------------
# 7. umask 000, and keys meant for other harnesses


def _umask0() -> None:
    os.umask(0)


def test_defect7_state_and_config_folders_are_owner_only_under_umask_000(tmp_path: Path) -> None:
    fenv = FaultEnv(tmp_path)
    home = tmp_path / "home"
    for k in ("ROTA_CONFIG", "ROTA_STATE_DIR"):
        fenv.env.pop(k)
    fenv.env.update(XDG_CONFIG_HOME=str(home / "cfg"), XDG_STATE_HOME=str(home / "st" / "ate"))
    before = {p for p in home.rglob("*")}
    init = fenv.run("init", "--enable-all", "--workspace", str(fenv.workspace), preexec_fn=_umask0)
    assert init.returncode == 0, init.stderr
    fenv.config = home / "cfg" / "rota" / "rota.toml"
    fenv.env["ROTA_CONFIG"] = str(fenv.config)
    fenv.configure()  # the scripted harness instead of the starter's real CLIs
    p = fenv.run("run", "--category", "code", preexec_fn=_umask0)
    assert no_traceback(p.stderr), p.stderr
    created = sorted(p for p in home.rglob("*") if p not in before and p.is_dir())
    assert created, "nothing was created"
    loose = [f"{p} {stat.filemode(p.stat().st_mode)}" for p in created if p.stat().st_mode & 0o077]
    assert not loose, loose


def test_defect7_a_harness_gets_its_own_keys_not_those_of_other_harnesses(
    fenv: FaultEnv,
) -> None:
    fenv.configure(
        PROFILES_CONFIG,
        extra='\n[rules.code]\npin = ["claude-code:opus"]\n',
    )
    fenv.config.write_text(
        fenv.config.read_text().replace(
            "[harnesses.claude-code]\n", '[harnesses.claude-code]\nenv = { FROM_CONFIG = "1" }\n', 1
        ),
        encoding="utf-8",
    )
    fenv.env.update(
        ANTHROPIC_API_KEY="sk-ant-fake-own",
        OPENAI_API_KEY="sk-fake-other",
        GEMINI_API_KEY="fake-other",
        GH_TOKEN="ghp_fakeother",
        AWS_SECRET_ACCESS_KEY="fake-aws",
    )
    fenv.run("run", check=True)
    seen = set(fenv.calls("harness")[-1]["env"])
    assert {"ANTHROPIC_API_KEY", "FROM_CONFIG", "PATH", "HOME"} <= seen
    leaked = seen & {"OPENAI_API_KEY", "GEMINI_API_KEY", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY"}
    assert not leaked, leaked
