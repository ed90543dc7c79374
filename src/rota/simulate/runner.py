"""Run policies through replicates of a scenario, in parallel over replicates, deterministically.

Every random stream is seeded from (seed, replicate, purpose), never from the worker or the order in
which replicates finish, so a seed gives the same figures with one process or many.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rota.errors import RotaError
from rota.simulate import baselines
from rota.simulate.metrics import RunRecord
from rota.simulate.scenario import Scenario
from rota.simulate.world import Policy, Replicate, World

POLICY_NAMES = ("oracle", "static", "random", "epsilon-greedy", "ucb1", "ts", "rota")
ADOPT_IN, ADOPT_OF = 10, 5


def make_policy(name: str, scenario: Scenario, world: World, rng: random.Random) -> Policy:
    if name == "oracle":
        return baselines.Oracle(scenario, world)
    if name == "static":
        return baselines.Static(scenario)
    if name == "random":
        return baselines.RandomPolicy(scenario, rng)
    if name == "epsilon-greedy":
        return baselines.EpsilonGreedy(scenario, rng)
    if name == "ucb1":
        return baselines.UCB1(scenario, rng)
    if name == "ts":
        return baselines.PlainTS(scenario, rng)
    if name == "rota":
        from rota.simulate.rota_policy import RotaPolicy  # imports the product's selector

        return RotaPolicy(scenario, rng)
    raise ValueError(f"unknown policy {name!r}; expected one of: {', '.join(POLICY_NAMES)}")


def run_policy(scenario: Scenario, rep: Replicate, name: str, seed: int) -> RunRecord:
    world = World(scenario, rep)
    rng = random.Random(f"rota-simulate:{seed}:{rep.index}:{name}")
    policy = make_policy(name, scenario, world, rng)
    rec = RunRecord(policy=name, rewards=[0.0] * scenario.sessions)
    cost = {a.arm: a.cost for a in scenario.arms}
    new_arms = {a.arm: a.start for a in scenario.arms if 0 < a.start < scenario.sessions}
    rec.new_arm = {a: [0, 0] for a in new_arms}
    recent: dict[str, list[bool]] = {a: [] for a in new_arms}
    refused: set[tuple[str, int]] = set()
    for slot in range(scenario.sessions):
        obs = world.observe(slot)
        arm = policy.choose(obs)
        for new in new_arms:
            means = rep.means[slot]
            if new in means and means[new] >= max(means.values()):
                rec.new_arm[new][0] += 1
                rec.new_arm[new][1] += arm == new
                # Adopted: picked in ADOPT_OF of the last ADOPT_IN slots where it was the best.
                last = recent[new]
                last.append(arm == new)
                if new not in rec.adopted_after and sum(last[-ADOPT_IN:]) >= ADOPT_OF:
                    rec.adopted_after[new] = rec.new_arm[new][0]
        if arm is None:
            rec.idle += 1
            continue
        if arm not in obs.arms:
            raise ValueError(f"policy {name} chose {arm!r}, which does not exist at slot {slot}")
        out = world.play(slot, arm)
        rec.picks[arm] = rec.picks.get(arm, 0) + 1
        if out.wasted:
            if out.cause == "outage":
                rec.wasted_outage += 1
            elif out.visible:
                rec.wasted_visible += 1
            else:
                rec.wasted_invisible += 1
                refused.add((out.cause, world.win[out.cause]))
        else:
            rec.rewards[slot] = out.reward
            rec.cost += cost[arm]
            rec.sessions += 1
        policy.learn(obs, out)
    rec.exhaustions = len(refused)
    for new, (best, _) in rec.new_arm.items():
        # Never adopted: past the end. Never the best: nothing to adopt.
        rec.adopted_after.setdefault(new, best + 1 if best else float("nan"))
    return rec


@dataclass(frozen=True, slots=True)
class Job:
    scenario: Scenario
    index: int
    seed: int
    policies: tuple[str, ...]


def run_job(job: Job) -> tuple[int, dict[str, RunRecord]]:
    rep = Replicate.build(job.scenario, job.index, job.seed)
    return job.index, {p: run_policy(job.scenario, rep, p, job.seed) for p in job.policies}


def run_scenario(
    scenario: Scenario,
    policies: Sequence[str],
    replicates: int,
    seed: int,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, RunRecord]]:
    """All replicates, in replicate order. workers=None: up to 2 processes (1 for tiny runs)."""
    jobs = [Job(scenario, i, seed, tuple(policies)) for i in range(replicates)]
    if workers is None:
        workers = min(2, os.cpu_count() or 1, replicates)
    results: dict[int, dict[str, RunRecord]] = {}
    if workers <= 1:
        for job in jobs:
            i, recs = run_job(job)
            results[i] = recs
            if progress:
                progress(len(results), replicates)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        # An executor, not multiprocessing.Pool: a worker killed from outside (the OOM killer, a
        # stray kill -9) breaks the executor and is reported, where a Pool would wait forever.
        ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        pool = ProcessPoolExecutor(workers, mp_context=ctx)
        try:
            for future in as_completed([pool.submit(run_job, job) for job in jobs]):
                i, recs = future.result()
                results[i] = recs
                if progress:
                    progress(len(results), replicates)
        except BrokenProcessPool as exc:
            raise WorkerLost(
                f"simulate {scenario.name}: a worker process died before its replicate was done"
                f" ({len(results)} of {replicates} finished; killed from outside or out of memory?);"
                " nothing was written: run it again, or with --jobs 1 to use no worker processes"
            ) from exc
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    return [results[i] for i in range(replicates)]


class WorkerLost(RotaError):
    """A simulation worker process died (killed from outside, out of memory): the run is void."""


class Progress:
    """A progress line on stderr: redrawn on a TTY, else at most every `every` seconds."""

    def __init__(self, label: str, *, every: float = 10.0, stream=None) -> None:  # type: ignore[no-untyped-def]
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self.start = time.monotonic()
        self.last = self.start

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        msg = f"simulate {self.label}: {done}/{total} replicates, {now - self.start:.0f}s"
        if self.tty:
            end = "\n" if done == total else ""
            print(f"\r\033[K{msg}", end=end, file=self.stream, flush=True)
        elif now - self.last >= self.every and done < total:
            print(msg, file=self.stream, flush=True)
        if now - self.last >= self.every:
            self.last = now
