"""The simulated world: windows from t = 0, waste, what a limit hit tells, outages, events, arms."""

from __future__ import annotations

import tomllib

from rota.simulate.scenario import parse_scenario
from rota.simulate.world import T0, Replicate, World

WORLD = """
sessions = 40
interval_minutes = 30
[categories]
code = 1
[[arms]]
arm = "claude-code:opus"
units = 2
[arms.reward]
default = 0.7
[[arms]]
arm = "claude-code:sonnet"
[arms.reward]
default = 0.5
[[arms]]
arm = "codex:gpt"
[arms.reward]
default = 0.4
[[arms]]
arm = "gptme:new"
from = 10
[arms.reward]
default = 0.9
[[quotas]]
pool = "claude"
harnesses = ["claude-code"]
window_minutes = 120
capacity = 3
visible = true
[[quotas]]
pool = "codex"
arms = ["codex:gpt"]
window_minutes = 60
capacity = 1
visible = false
reset_known = false
[[events]]
at = 20
arm = "claude-code:opus"
[events.reward]
code = 0.1
[[events]]
at = 30
harness = "claude-code"
unavailable_for_minutes = 60
"""


def world() -> World:
    sc = parse_scenario(tomllib.loads(WORLD))
    return World(sc, Replicate.build(sc, 0, 1))


def test_pool_windows_units_and_what_a_hit_tells() -> None:
    w = world()
    obs = w.observe(0)
    assert obs.now == T0 and obs.arms == ("claude-code:opus", "claude-code:sonnet", "codex:gpt")
    (claude,) = obs.pools  # the codex pool is invisible
    assert claude.used_fraction == 0 and claude.resets_at == T0 + 7200 and claude.available
    assert not w.play(0, "claude-code:opus").wasted  # 2 of 3 units
    obs = w.observe(1)
    assert abs(obs.pools[0].used_fraction - 2 / 3) < 1e-9 and obs.pools[0].available
    out = w.play(1, "claude-code:opus")  # needs 2, 1 left: wasted, reset known
    assert out.wasted and out.reward == 0 and out.resets_at == T0 + 7200 and out.visible
    assert not w.play(1, "claude-code:sonnet").wasted  # the last unit still fits sonnet
    w.observe(2)
    assert w.play(2, "codex:gpt").reward > 0
    w.observe(3)
    assert not w.observe(3).pools[0].available
    hit = w.play(3, "codex:gpt")  # invisible pool, reset unknown: told nothing about when
    assert hit.wasted and hit.resets_at is None and not hit.visible and hit.cause == "codex"
    w.observe(4)  # a new window for both pools (slot 4 = 120 min)
    assert w.observe(4).pools[0].used_fraction == 0
    assert not w.play(4, "codex:gpt").wasted


def test_arms_appear_events_change_means_and_outages_tell_nothing() -> None:
    w = world()
    rep = w.rep
    assert "gptme:new" not in rep.existing[9] and "gptme:new" in rep.existing[10]
    assert rep.means[19]["claude-code:opus"] == 0.7 and rep.means[20]["claude-code:opus"] == 0.1
    assert rep.means[20]["claude-code:sonnet"] == 0.5
    assert rep.unavailable[29] == frozenset()
    assert rep.unavailable[30] == {"claude-code:opus", "claude-code:sonnet"}
    assert rep.unavailable[31] and not rep.unavailable[32]  # 60 minutes = two slots
    w.observe(30)
    out = w.play(30, "claude-code:sonnet")
    assert out.wasted and out.resets_at is None and out.cause == "outage"
    assert w.used["claude"] == 0  # a wasted session charges nothing
    assert not w.usable(30, "claude-code:opus") and w.usable(30, "gptme:new")


def test_replicates_are_deterministic_and_independent() -> None:
    sc = parse_scenario(tomllib.loads(WORLD))
    a, b, c = Replicate.build(sc, 0, 7), Replicate.build(sc, 0, 7), Replicate.build(sc, 1, 7)
    assert a.rewards == b.rewards
    assert a.rewards != c.rewards
    assert all(0 <= r <= 1 for slot in a.rewards for r in slot.values())


def test_reward_draws_have_the_declared_mean_and_spread() -> None:
    text = WORLD.replace("sessions = 40", "sessions = 4000")
    sc = parse_scenario(tomllib.loads(text))
    rep = Replicate.build(sc, 0, 3)
    xs = [r["claude-code:sonnet"] for r in rep.rewards[:20]] + [
        r["claude-code:sonnet"] for r in rep.rewards[20:]
    ]
    m = sum(xs) / len(xs)
    var = sum((x - m) ** 2 for x in xs) / len(xs)
    assert abs(m - 0.5) < 0.01
    # Beta(m*s, (1-m)*s) has variance m(1-m)/(s+1) = 0.25/7
    assert abs(var - 0.25 / 7) < 0.004
