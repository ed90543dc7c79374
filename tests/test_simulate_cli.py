"""`rota simulate` end to end: table, JSON keyed by policy, determinism, parallel = serial, plot."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
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
    p = rota(str(scenario), "--replicates", "1", "--policies", "ts", "--plot", str(out))
    if importlib.util.find_spec("matplotlib") is None:
        assert p.returncode == 1 and "rota[plot]" in p.stderr
        assert not p.stdout  # it fails before the run, not after
    else:
        assert p.returncode == 0, p.stderr
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_select_does_not_import_the_simulator_or_matplotlib() -> None:
    code = (
        "import sys, rota.learning.policy, rota.cli; "
        "print(any(m.startswith(('rota.simulate', 'matplotlib')) for m in sys.modules))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip() == "False", p.stderr
