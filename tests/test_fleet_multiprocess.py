"""A fleet on one box: 8 processes ("machines", each with its own ROTA_MACHINE and state dir, so
no local flock is shared) run 200 sessions through the real `rota run` path against one
PostgreSQL store, with 4 workspaces (two machines per workspace id) and 2 pools with concurrency
limits. A fake harness checks mutual exclusion itself with atomic mkdir markers (no clocks), and
the session records are checked too. Then a `rota run` is SIGKILLed mid-session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rota.learning import bandit, step
from rota.store.base import LEASE_SECONDS

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
MACHINES, WORKSPACES, SESSIONS = 8, 4, 200
POOLS = {"pa": 1, "pb": 2}

# mkdir is atomic: a marker that already exists means another session holds the same thing now.
HARNESS = r"""#!/bin/sh
# usage: harness.sh MODEL POOL:N ...   (run by rota in the workspace)
v="$FLEET_DIR/violations"; p="$FLEET_DIR/held"
ws="$p/ws-$(basename "$PWD")"
mkdir "$ws" 2>/dev/null || : > "$v/workspace-$(basename "$PWD")-$$"
shift
held=""
for spec in "$@"; do
  pool=${spec%%:*}; n=${spec##*:}; got=""; i=0
  while [ "$i" -lt "$n" ]; do
    if mkdir "$p/$pool.$i" 2>/dev/null; then got="$p/$pool.$i"; break; fi
    i=$((i + 1))
  done
  if [ -z "$got" ]; then : > "$v/pool-$pool-$$"; else held="$held $got"; fi
done
if [ -n "$FLEET_HANG" ] && [ -e "$FLEET_HANG" ]; then
  : > "$FLEET_DIR/hanging"
  # Until the test removes the file (bounded), so no orphan outlives the test for long.
  i=0; while [ -e "$FLEET_HANG" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
fi
sleep 0.04
for d in $held; do rmdir "$d"; done
rmdir "$ws" 2>/dev/null
echo "done"
"""

CONFIG = """
categories = ["code", "triage"]
default_category = "code"
[workspace]
path = "{ws}"
id = "{ws_id}"
[run]
prompt = "fleet test"
[harnesses.alpha]
command = ["{harness}", "{{model}}", "pa:1"]
env = {{ FLEET_DIR = "{fleet}", FLEET_HANG = "{hang}" }}
[harnesses.alpha.models]
a1 = {{ tier = "high", cost = 1.0 }}
[harnesses.beta]
command = ["{harness}", "{{model}}", "pb:2"]
env = {{ FLEET_DIR = "{fleet}", FLEET_HANG = "{hang}" }}
[harnesses.beta.models]
b1 = {{ tier = "medium", cost = 1.0 }}
[harnesses.gamma]
command = ["{harness}", "{{model}}", "pa:1", "pb:2"]
env = {{ FLEET_DIR = "{fleet}", FLEET_HANG = "{hang}" }}
[harnesses.gamma.models]
g1 = {{ tier = "low", cost = 1.0 }}
[pools.pa]
harnesses = ["alpha"]
arms = ["gamma:g1"]
concurrency = 1
[pools.pb]
harnesses = ["beta"]
arms = ["gamma:g1"]
concurrency = 2
"""


def _setup(tmp_path: Path, hang: str = "") -> tuple[Path, list[Path]]:
    fleet = tmp_path / "fleet"
    for d in ("violations", "held"):
        (fleet / d).mkdir(parents=True)
    harness = tmp_path / "harness.sh"
    harness.write_text(HARNESS)
    harness.chmod(0o755)
    configs = []
    for k in range(WORKSPACES):
        ws = tmp_path / f"ws{k}"
        ws.mkdir()
        cfg = tmp_path / f"rota-ws{k}.toml"
        cfg.write_text(
            CONFIG.format(ws=ws, ws_id=f"team/ws{k}", harness=harness, fleet=fleet, hang=hang)
        )
        configs.append(cfg)
    return fleet, configs


def _env(pg_url: str, tmp_path: Path, machine: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTA_")}
    env.update(
        {
            "ROTA_MACHINE": machine,
            "ROTA_STATE_DIR": str(tmp_path / "state" / machine),
            "ROTA_STORE_URL": pg_url,
            "HOME": str(tmp_path),
            "NO_COLOR": "1",
        }
    )
    return env


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    # At equal times an end sorts before a start (-1 < 1): touching intervals do not overlap.
    best = cur = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


def test_eight_machines_two_hundred_sessions(pg_url: str, tmp_path: Path) -> None:
    from rota.store.postgres import PostgresStore

    PostgresStore(pg_url).close()  # create the schema once, before the crowd arrives
    fleet, configs = _setup(tmp_path)
    per = SESSIONS // MACHINES
    procs = []
    for i in range(MACHINES):
        machine = f"box{i}"
        out = tmp_path / f"{machine}.json"
        procs.append(
            (
                out,
                subprocess.Popen(
                    [
                        sys.executable,
                        str(HERE / "fleet_worker.py"),
                        str(configs[i % WORKSPACES]),
                        str(per),
                        str(out),
                    ],
                    env=_env(pg_url, tmp_path, machine),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    results = []
    for out, p in procs:
        log, _ = p.communicate(timeout=180)
        assert p.returncode == 0, log[-3000:]
        results.append(json.loads(out.read_text()))

    # The harness saw no workspace twice and no pool over its limit.
    assert sorted(os.listdir(fleet / "violations")) == []
    assert sorted(os.listdir(fleet / "held")) == []  # every marker was cleaned up

    store = PostgresStore(pg_url)
    sessions = store.recent_sessions(10_000)
    # Every session was recorded, once, completed and graded.
    ids = sorted(i for r in results for i in r["sessions"])
    assert len(ids) == SESSIONS == len(set(ids))
    assert sorted(s.id for s in sessions) == ids
    assert all(s.status == "completed" and s.reward is not None for s in sessions)
    assert store.running_sessions() == []
    assert {s.machine for s in sessions} == {f"box{i}" for i in range(MACHINES)}

    # The records agree: no workspace overlaps itself, no pool exceeds its concurrency.
    from rota.config import load_config

    config = load_config(configs[0])
    by_ws: dict[str, list[tuple[float, float]]] = {}
    by_pool: dict[str, list[tuple[float, float]]] = {p: [] for p in POOLS}
    for s in sessions:
        assert s.ended_at is not None
        by_ws.setdefault(s.workspace, []).append((s.started_at, s.ended_at))
        for pool in config.arm_scopes(s.arm).pools:
            by_pool[pool].append((s.started_at, s.ended_at))
    assert set(by_ws) == {f"team/ws{k}" for k in range(WORKSPACES)}
    assert all(_max_overlap(v) == 1 for v in by_ws.values())
    for pool, limit in POOLS.items():
        assert 1 <= _max_overlap(by_pool[pool]) <= limit, pool
    # The pools really were contended: some runs found every arm's pool full and backed off.
    assert (
        sum(r["outcomes"].get("exhausted", 0) + r["outcomes"].get("busy", 0) for r in results) > 0
    )

    # The posteriors equal those rebuilt from the session records.
    half_life_s = config.bandit.half_life_s
    live = store.evidence()
    # (Decayed masses where no change was found: a sequential test follows the order in which
    # grades were learnt, which concurrent machines do not fix.)
    rebuilt, drifts = step.rebuild(store.graded_observations(), half_life_s)
    live_drifts = store.drifts()
    assert set(live) == set(rebuilt)
    assert sum(ev.n for (cat, _), ev in live.items() if cat == bandit.OVERALL) == SESSIONS
    # A change in one category also takes mass out of the arm's overall row: any change on an
    # arm's rows, in either order, sets that arm's masses apart.
    changed_arms = {k[1] for d in (drifts, live_drifts) for k, x in d.items() if x.changed_at}
    for key, r in rebuilt.items():
        ev = live[key]
        assert ev.n == r.n and ev.sum_r == pytest.approx(r.sum_r, abs=1e-9)
        if key[1] in changed_arms:
            continue
        assert ev.s == pytest.approx(r.s, rel=1e-6) and ev.f == pytest.approx(r.f, rel=1e-6)
    assert store.leases(time.time()) == []  # nothing left locked
    store.close()


def test_sigkill_mid_session_frees_workspace_and_pool_slot(pg_url: str, tmp_path: Path) -> None:
    from rota.session.fleet import FleetSession
    from rota.store.postgres import PostgresStore

    hang = tmp_path / "hang"
    hang.touch()
    fleet, configs = _setup(tmp_path, hang=str(hang))
    env = _env(pg_url, tmp_path, "doomed")
    env["ROTA_CONFIG"] = str(configs[0])
    proc = subprocess.Popen(
        [sys.executable, "-m", "rota.cli", "run", "--seed", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (fleet / "hanging").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert (fleet / "hanging").exists(), proc.communicate(timeout=10)[0][-2000:]
    store = PostgresStore(pg_url)
    held = {(x.kind, x.name) for x in store.leases(time.time()) if x.machine == "doomed"}
    assert ("workspace", "team/ws0") in held
    pools = {name for kind, name in held if kind == "pool"}
    assert pools, held
    other = FleetSession(store, workspace="team/ws0", machine="survivor", warn=False)
    with pytest.raises(Exception, match="busy"):
        other.lock_workspace()

    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    # Free again within the lease time (the server drops a dead connection's locks at once).
    deadline = time.monotonic() + LEASE_SECONDS
    while time.monotonic() < deadline:
        if not [x for x in store.leases(time.time()) if x.machine == "doomed"]:
            break
        time.sleep(0.05)
    assert [x for x in store.leases(time.time()) if x.machine == "doomed"] == []
    assert store.pool_busy(time.time()) == {}
    other.lock_workspace()
    from rota.config import load_config

    config = load_config(configs[0])
    arm = store.running_sessions()[0].arm
    assert other.claim_pools(config, arm) is None  # the killed session's slots are free
    other.release()

    # The killed machine's next run recovers its session as abandoned and runs normally.
    hang.unlink()
    again = subprocess.run(
        [sys.executable, "-m", "rota.cli", "run", "--seed", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    statuses = sorted(s.status for s in store.recent_sessions(10))
    assert statuses == ["abandoned", "completed"]
    store.close()
