"""A store filled by the simulator: `rota simulate`'s world and the product's own policy
(rota.simulate.rota_policy.RotaPolicy), with every decision, session and block written through the
real store API, shifted in time so that the simulated month ends now. Used by the report and
metrics tests and by bench/report_render.py."""

from __future__ import annotations

import random
from pathlib import Path

from rota.simulate import world as world_mod
from rota.simulate.rota_policy import RotaPolicy, config_dict
from rota.simulate.scenario import Scenario, load_scenario
from rota.simulate.world import Outcome, Replicate, World
from rota.store.base import SessionOutcome, Store

REPO = Path(__file__).resolve().parent.parent
DRIFT = REPO / "examples" / "scenarios" / "drift.toml"
DAY = 86400.0


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _toml_key(k: str) -> str:
    return k if k.replace("-", "").replace("_", "").isalnum() else _toml_value(k)


def config_toml(scenario: Scenario, workspace: Path, extra: str = "") -> str:
    """The rota.toml a user would write for the scenario's arms and pools (as RotaPolicy builds)."""
    d = config_dict(scenario)
    lines = [
        f"categories = {_toml_value(d['categories'])}",
        f"tiers = {_toml_value(d['tiers'])}",
        "",
        "[workspace]",
        f"path = {_toml_value(str(workspace))}",
    ]
    for h, hd in d["harnesses"].items():
        lines += ["", f"[harnesses.{_toml_key(h)}]", 'command = ["true"]']
        lines += [f"[harnesses.{_toml_key(h)}.models]"]
        lines += [f"{_toml_key(m)} = {_toml_value(spec)}" for m, spec in hd["models"].items()]
    for p, pd in d["pools"].items():
        lines += ["", f"[pools.{_toml_key(p)}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in pd.items()]
    return "\n".join(lines) + "\n" + extra


def fill(
    store: Store,
    *,
    end: float,
    scenario_path: Path = DRIFT,
    slots: int | None = None,
    seed: int = 11,
    sessions: int | None = None,
) -> Scenario:
    """Run the scenario's first `slots` slots (all by default) and record them; the last slot
    starts half an hour before `end`. `sessions` stretches the scenario to that many slots."""
    scenario = load_scenario(scenario_path)
    if sessions is not None:
        import dataclasses

        scenario = dataclasses.replace(scenario, sessions=sessions)
    n = scenario.sessions if slots is None else min(slots, scenario.sessions)
    # The simulator's clock starts at world.T0; it is set so that the last slot starts half an
    # hour before `end`: every time the product computes (reset times, reasons) is then real.
    old_t0 = world_mod.T0
    world_mod.T0 = end - 1800.0 - (n - 1) * scenario.interval_minutes * 60.0
    try:
        _run(store, scenario, n, seed)
    finally:
        world_mod.T0 = old_t0
    return scenario


def _run(store: Store, scenario: Scenario, n: int, seed: int) -> None:
    rep = Replicate.build(scenario, 0, seed)
    world = World(scenario, rep)
    pol = RotaPolicy(scenario, random.Random(seed))
    rng = random.Random(seed + 1)
    half_life_s = pol.config.bandit.half_life_s
    for slot in range(n):
        obs = world.observe(slot)
        arm = pol.choose(obs)
        if arm is None:
            continue
        did = store.record_decision(pol.last_decision.to_record(), workspace="sim", machine="sim-1")
        start = obs.now
        harness, model = arm.split(":", 1)
        sid = store.start_session(
            category=obs.category,
            arm=arm,
            started_at=start,
            decision_id=did,
            pid=None,
            machine="sim-1",
            workspace="sim",
            detail={"harness": harness, "model": model, "levels": [list(x) for x in pol._levels]},
        )
        out = world.play(slot, arm)
        crashed = not out.wasted and rng.random() < 0.02
        if crashed:  # the simulator has no crashes; a few make the table realistic
            out = Outcome(arm, False, round(0.25 * out.reward, 3))
        seen = len(pol.block_history)
        pol.learn(obs, out)
        blocks = list(pol.block_history[seen:])
        ended = start + rng.uniform(6, 28) * 60
        if out.wasted:
            message = (
                "upstream unavailable (simulated outage)"
                if out.cause == "outage"
                else "usage limit reached"
            )
            outcome = SessionOutcome(
                status="rate_limited",
                ended_at=start + 40,
                exit_code=1,
                detail={
                    "limit": {
                        "message": message,
                        "resets_at": out.resets_at,
                        "window": None,
                        "scopes": [f"{b.scope_kind}:{b.scope}" for b in blocks],
                    }
                },
                blocks=blocks,
            )
        else:
            outcome = SessionOutcome(
                status="crashed" if crashed else "completed",
                ended_at=ended,
                exit_code=1 if crashed else 0,
                reward=out.reward,
                signals={"exit": 0.0 if crashed else 1.0, "grader": round(out.reward, 3)},
                blocks=blocks,
            )
        store.finish_session(sid, outcome, half_life_s=half_life_s)


class SimMonth:
    """A SQLite store holding a simulated month (built once per test session), and its config."""

    def __init__(self, db: Path, scenario: Scenario, end: float) -> None:
        self.db = db
        self.scenario = scenario
        self.end = end

    def install(self, env, extra_config: str = "") -> None:  # env: conftest.RotaEnv
        """Give a test's isolated rota this store (a copy) and the matching config."""
        import shutil

        env.state.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.db, env.state / "rota.db")
        env.config.write_text(config_toml(self.scenario, env.workspace, extra_config))


def build_sim_month(root: Path, slots: int | None = None, sessions: int | None = None) -> SimMonth:
    import time

    from rota.store.sqlite import SQLiteStore

    root.mkdir(parents=True, exist_ok=True)
    db = root / "rota.db"
    end = time.time()
    store = SQLiteStore(str(db))
    try:
        scenario = fill(store, end=end, slots=slots, sessions=sessions)
    finally:
        store.close()  # the last connection closing folds the WAL into the file: copies are whole
    return SimMonth(db, scenario, end)
