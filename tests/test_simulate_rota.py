"""The `rota` policy in the simulator is the product's own selection with the product defaults."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
import tomllib

from rota.config import BanditSettings, PacingSettings
from rota.learning import bandit, policy
from rota.quota.state import QuotaState
from rota.simulate.rota_policy import RotaPolicy, build_config, tier_order
from rota.simulate.runner import run_policy
from rota.simulate.scenario import parse_scenario
from rota.simulate.world import Outcome, Replicate, World

SC = """
sessions = 200
[categories]
code = 1
triage = 1
[[arms]]
arm = "claude-code:opus"
tier = "high"
cost = 5
[arms.reward]
default = 0.7
[[arms]]
arm = "claude-code:sonnet"
tier = "medium"
cost = 1.5
[arms.reward]
default = 0.55
[[arms]]
arm = "gptme:glm-5"
tier = "low"
cost = 0.3
[arms.reward]
default = 0.45
[[quotas]]
pool = "claude-5h"
harnesses = ["claude-code"]
window_minutes = 300
capacity = 4
visible = true
[[quotas]]
pool = "hidden"
arms = ["gptme:glm-5"]
window_minutes = 300
capacity = 3
visible = false
"""


def scenario():
    return parse_scenario(tomllib.loads(SC), path="sc.toml")


def test_config_is_what_a_user_would_declare_with_product_defaults() -> None:
    cfg = build_config(scenario())
    assert cfg.bandit == BanditSettings() and cfg.pacing == PacingSettings()
    assert cfg.tiers == ("low", "medium", "high")
    assert cfg.arms["claude-code:opus"].tier == "high" and cfg.arms["claude-code:opus"].cost == 5
    assert set(cfg.pools) == {"claude-5h", "hidden"}
    assert cfg.pools["hidden"].arms == ("gptme:glm-5",)
    assert cfg.pools["claude-5h"].concurrency == 0  # no capacity anywhere in the config


def test_unknown_tier_labels_are_ordered_by_cost() -> None:
    text = SC.replace('tier = "high"', 'tier = "gold"').replace('tier = "low"', 'tier = "bronze"')
    text = text.replace('tier = "medium"', 'tier = "silver"')
    assert tier_order(parse_scenario(tomllib.loads(text))) == ["bronze", "silver", "gold"]


def test_adapter_decides_with_rota_policy_select() -> None:
    sc = scenario()
    rep = Replicate.build(sc, 0, 1)
    world = World(sc, rep)
    pol = RotaPolicy(sc, random.Random(3))
    for slot in range(30):
        obs = world.observe(slot)
        rng_before = copy.deepcopy(pol.rng)
        inputs = policy.SelectionInput(
            config=pol.config,
            category=obs.category,
            now=obs.now,
            evidence=dict(pol.evidence),
            quota_states=pol.quota_states(obs),
            blocks=list(pol.blocks),
            arms=obs.arms,
            history=list(pol.history),
        )
        arm = pol.choose(obs)
        assert isinstance(pol.last_decision, policy.Decision)
        assert policy.select(inputs, rng_before).arm == arm  # the same pure function, same answer
        if arm is not None:
            pol.learn(obs, world.play(slot, arm))
    # Rewards went through bandit.update into the (category, arm) and overall rows, as in the store.
    n_cat = sum(ev.n for (c, _), ev in pol.evidence.items() if c != bandit.OVERALL)
    n_all = sum(ev.n for (c, _), ev in pol.evidence.items() if c == bandit.OVERALL)
    assert n_cat == n_all > 0


def test_visible_pools_become_quota_states_and_hits_become_blocks() -> None:
    sc = scenario()
    world = World(sc, Replicate.build(sc, 0, 1))
    pol = RotaPolicy(sc, random.Random(1))
    obs = world.observe(0)
    (st,) = pol.quota_states(obs)
    assert isinstance(st, QuotaState) and (st.scope_kind, st.scope, st.available) == (
        "pool",
        "claude-5h",
        True,
    )
    pol.learn(obs, Outcome("gptme:glm-5", True, 0.0, obs.now + 3600))
    assert pol.blocks and all(b.until == obs.now + 3600 for b in pol.blocks)
    assert not pol.evidence  # a limit hit is not a grade
    pol.learn(obs, Outcome("claude-code:opus", True, 0.0, None))  # no reset: a bounded backoff
    assert max(b.until for b in pol.blocks) < obs.now + 86400


def test_rota_beats_random_on_a_small_world() -> None:
    sc = scenario()
    rep = Replicate.build(sc, 0, 2)
    assert run_policy(sc, rep, "rota", 2).total > run_policy(sc, rep, "random", 2).total


RUNNER_MODULES = {
    "rota.session.run",
    "rota.session.lock",
    "rota.session.fleet",
    "rota.session.execute",
    "rota.session.argv",
    "rota.session.groups",
    "rota.session.grading",
    "rota.session.prompting",
    "rota.session.launch",
    "rota.session.record",
    "rota.session.interpret",
    "rota.session.plan",
}

CHILD = """
import json, random, sys, tomllib
from rota.simulate.rota_policy import RotaPolicy
from rota.simulate.runner import run_policy
from rota.simulate.scenario import parse_scenario
from rota.simulate.world import Outcome, Replicate, World

sc = parse_scenario(tomllib.loads(sys.argv[1]), path="sc.toml")
world = World(sc, Replicate.build(sc, 0, 1))
pol = RotaPolicy(sc, random.Random(1))
obs = world.observe(0)
pol.choose(obs)
pol.learn(obs, Outcome("claude-code:opus", True, 0.0, obs.now + 3600))
pol.learn(obs, Outcome("gptme:glm-5", True, 0.0, None))
run_policy(sc, Replicate.build(sc, 0, 2), "rota", 2)
print(json.dumps({"blocks": len(pol.blocks), "modules": sorted(sys.modules)}))
"""


def test_the_simulator_depends_on_the_session_outcome_not_on_the_runner() -> None:
    """`rota simulate` turns limit hits into blocks with rota.session.outcome (pure), and never
    loads the runner, the lock, the fleet leases, the process runner, grading or prompting."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, SC], capture_output=True, text=True, timeout=120, check=True
    )
    out = json.loads(proc.stdout)
    assert out["blocks"] > 0
    loaded = set(out["modules"])
    assert "rota.session.outcome" in loaded
    assert loaded & RUNNER_MODULES == set()
