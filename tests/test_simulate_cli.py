"""`rota simulate` end to end: table, JSON keyed by policy, determinism, parallel = serial, plot."""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCENARIO = """
name = "tiny"
sessions = 120
interval_minutes = 30
replicates = 4
seed = 5
[categories]
code = 0.7
triage = 0.3
[[arms]]
arm = "claude-code:opus"
tier = "high"
cost = 5
units = 2
[arms.reward]
default = 0.65
[[arms]]
arm = "codex:gpt-5.4"
tier = "medium"
[arms.reward]
default = 0.55
triage = 0.4
[[arms]]
arm = "gptme:glm-5"
tier = "low"
cost = 0.3
from = 40
[arms.reward]
default = 0.5
triage = 0.6
[[quotas]]
pool = "claude"
harnesses = ["claude-code"]
window_minutes = 300
capacity = 6
visible = false
[[events]]
at = 60
harness = "codex"
unavailable_for_minutes = 600
[static]
default = ["claude-code:opus", "codex:gpt-5.4"]
"""


def rota(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rota.cli", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(SCENARIO, encoding="utf-8")
    return p


def strip(d: dict) -> dict:
    d = dict(d)
    d.pop("seconds", None)
    return d


def test_json_is_keyed_by_policy_and_deterministic(scenario: Path) -> None:
    a = rota(str(scenario), "--json", "--jobs", "1")
    assert a.returncode == 0, a.stderr
    data = json.loads(a.stdout)
    assert set(data["policies"]) == {
        "oracle",
        "static",
        "random",
        "epsilon-greedy",
        "ucb1",
        "ts",
        "rota",
    }
    assert data["replicates"] == 4 and data["seed"] == 5
    o = data["policies"]["oracle"]
    assert o["pct_of_oracle"] == 100.0 and o["wasted"] == 0
    r = data["policies"]["rota"]
    for key in ("reward_per_slot", "pct_of_oracle", "wasted", "cost_per_reward"):
        lo, hi = r[f"{key}_ci95"]
        assert lo <= r[key] <= hi
    assert [e["slot"] for e in r["after_events"]] == [40, 60]
    assert "gptme:glm-5" in r["new_arms"]
    b = rota(str(scenario), "--json", "--jobs", "2")  # parallel gives the same figures
    assert strip(json.loads(b.stdout)) == strip(data)
    c = rota(str(scenario), "--json", "--jobs", "1", "--seed", "6")
    assert strip(json.loads(c.stdout))["policies"] != data["policies"]


def test_table_policies_and_replicates(scenario: Path) -> None:
    p = rota(str(scenario), "--policies", "static,ts", "--replicates", "2")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "2 replicates" in lines[0]
    names = [ln.split()[0] for ln in lines[3:6]]
    assert names == ["oracle", "static", "ts"]  # the oracle always runs, for % of oracle
    assert "reward in the 100 slots after each event" in p.stdout
    bad = rota(str(scenario), "--policies", "static,greedy")
    assert bad.returncode == 2 and "greedy" in bad.stderr


def test_several_scenarios_in_json(scenario: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(SCENARIO.replace('"tiny"', '"other"'), encoding="utf-8")
    p = rota(str(scenario), str(other), "--json", "--replicates", "1", "--policies", "ts")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert [s["scenario"] for s in data["scenarios"]] == ["tiny", "other"]


def test_plot(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "cum.png"
    p = rota(str(scenario), "--replicates", "3", "--policies", "ts", "--plot", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot written to {out}" in p.stderr


def test_plot_without_matplotlib_fails_before_the_run(scenario: Path, tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from rota.cli import main\n"
        f"sys.exit(main(['simulate', {str(scenario)!r}, '--plot', {str(tmp_path / 'x.png')!r}]))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "rota[plot]" in p.stderr
    assert not p.stdout  # it fails before the run, not after


def test_plot_has_a_default_file_name(scenario: Path, tmp_path: Path) -> None:
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=120)
    base = [sys.executable, "-m", "rota", "simulate", "--replicates", "2", "--policies", "ts"]
    p = run([*base, "--plot", str(scenario)], cwd=tmp_path)  # `--plot SCENARIO`: no file given
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "simulate-tiny.png").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "simulate-tiny.png").unlink()
    p = run([*base, str(scenario), "--plot"], cwd=tmp_path)
    assert p.returncode == 0 and (tmp_path / "simulate-tiny.png").exists(), p.stderr


def test_plot_figures_regret_and_rolling_share_of_the_oracle(scenario: Path) -> None:
    from rota.simulate.plot import curves
    from rota.simulate.runner import run_scenario
    from rota.simulate.scenario import load_scenario

    sc = load_scenario(scenario)
    runs = run_scenario(sc, ["oracle", "random", "rota"], 4, 5, workers=1)
    figs = curves(sc, runs, ["oracle", "random", "rota"], window=20)
    oracle = figs.policies["oracle"]
    assert all(x == 0 for x in oracle.regret.mean)
    assert all(abs(x - 100) < 1e-9 for x in oracle.rolling_pct.mean if not math.isnan(x))
    for name in ("random", "rota"):
        c = figs.policies[name]
        assert len(c.regret.mean) == sc.sessions
        for lo, m, hi in zip(c.regret.lo, c.regret.mean, c.regret.hi, strict=True):
            assert lo <= m + 1e-9 and m <= hi + 1e-9
        # The regret of a replicate is the oracle's cumulative reward less the policy's.
        first = sum(r["oracle"].rewards[0] - r[name].rewards[0] for r in runs) / len(runs)
        assert c.regret.mean[0] == pytest.approx(first)
    assert figs.policies["rota"].regret.mean[-1] < figs.policies["random"].regret.mean[-1]
    assert [label for _, label in figs.events] == [label for _, label in sc.milestones()]


def test_help_shows_single_percent_signs() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "rota", "simulate", "--help"], capture_output=True, text=True
    )
    assert p.returncode == 0 and "%%" not in p.stdout
    assert "95% interval" in p.stdout and "% of oracle" in p.stdout


LONG = SCENARIO.replace("sessions = 120", "sessions = 4000").replace(
    "replicates = 4", "replicates = 400"
)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _simulate_with_two_workers(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """A long `rota simulate --jobs 2` in its own session, once both workers are busy."""
    sc = tmp_path / "long.toml"
    sc.write_text(LONG, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rota", "simulate", str(sc), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(proc.pid)
    if len(workers) < 2:
        os.killpg(proc.pid, signal.SIGKILL)
    assert len(workers) >= 2
    time.sleep(0.5)  # the workers are busy
    return proc, workers


def _gone(workers: list[int]) -> bool:
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(Path(f"/proc/{w}").exists() for w in workers)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_and_its_workers_without_tracebacks(tmp_path: Path, sig) -> None:
    proc, workers = _simulate_with_two_workers(tmp_path)
    try:
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # Ctrl-C: the whole foreground process group
        else:
            proc.send_signal(sig)  # systemd's stop, or `kill PID`: the parent only
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + sig, err
    assert "Traceback" not in err, err
    assert f"stopped by {signal.Signals(sig).name}" in err
    assert _gone(workers)


def test_a_worker_killed_from_outside_ends_the_run_with_a_message(tmp_path: Path) -> None:
    # The OOM killer or a stray kill -9 takes one worker: multiprocessing.Pool waited forever
    # for its replicate; the run must end, say what happened and how to go on, and leave nothing.
    proc, workers = _simulate_with_two_workers(tmp_path)
    try:
        os.kill(workers[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=120)  # a hang guard, not a timing check
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err
    assert "a worker process died" in err and "--jobs 1" in err, err
    assert out == ""  # no table for a void run
    assert _gone(workers)


def test_select_does_not_import_the_simulator_or_matplotlib() -> None:
    code = (
        "import sys, rota.learning.policy, rota.cli; "
        "print(any(m.startswith(('rota.simulate', 'matplotlib')) for m in sys.modules))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip() == "False", p.stderr
