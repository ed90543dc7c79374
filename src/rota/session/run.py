"""`rota run`, one session end to end, as steps: lock → recover → follow-ups (regrade earlier
sessions whose work was reverted or merged since) → category → choose → plan → start the record →
run the harness → interpret → finish. Each step is a module of this package; this
one only orders them, carrying one value forward (rota.session.plan.Plan, then
rota.session.record.Started). DESIGN.md "What rota run does, step by step" is the contract.

Outcomes and exit codes:
  completed     the harness exited 0                                  exit 0 (graded)
  crashed       it exited non-zero or was killed                      exit 70 (graded)
  timed_out     it ran past [harnesses.X] timeout_minutes             exit 70 (graded)
  rate_limited  its output says it stopped on a limit                 exit 0 (not graded; blocks)
  unavailable   it failed for a reason outside the arm's skill:       exit 70 for auth, cli, model;
                credentials rejected (auth), CLI missing or refusing  0 for provider, throttled
                (cli), model unknown (model), provider down after     (not graded; blocks:
                retries (provider), "not your usage limit"            rota.session.infra)
                (throttled)
  interrupted   rota got SIGTERM/SIGINT                               exit 128+signal: 143, 130
                                                                      (not graded)
Busy workspace: 75. Nothing usable: 76. Config error (also a failing category/prompt command): 78.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rota import journal
from rota.config import Config
from rota.errors import EXIT_BUSY, EXIT_EXHAUSTED, EXIT_OK, EXIT_SESSION_FAILED, StoreUnavailable
from rota.session import infra, prompting, record
from rota.session.fleet import FleetBusy, FleetSession, fleet_for
from rota.session.followups import refresh
from rota.session.interpret import interpret
from rota.session.launch import run_harness
from rota.session.live import WatchedLog, Watcher
from rota.session.lock import LockBusy, WorkspaceLock, acquire, describe_holder
from rota.session.outcome import CRASH_STATES, GRADED_STATES
from rota.session.plan import Choice, Forced, Plan, Site, choose, make_plan
from rota.session.record import Started
from rota.session.recover import recover
from rota.session.result import RunResult, summary
from rota.session.stop import Interrupted, StopFlag
from rota.store.base import INTERRUPTED, UNAVAILABLE, SessionOutcome, Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from rota.report.hooks import RunHooks


@dataclass(slots=True)
class RunOptions:
    category: str | None = None  # validated by the caller (rota.commands.common.category_arg)
    prompt_file: str | None = None
    seed: int | None = None
    dry_run: bool = False
    forced: Forced | None = (
        None  # `--arm` / `--harness`: a person's choice (validated by the caller)
    )
    # Who watches the session from a terminal (rota.session.live): called once the session has
    # started, it returns the watchers that see the harness's output; each is closed at the end.
    watch: Callable[[Started], Sequence[Watcher]] | None = None


def run_once(
    config: Config,
    opts: RunOptions,
    stop: StopFlag,
    *,
    clock: Callable[[], float] = time.time,
) -> RunResult:
    """One `rota run`. Returns a RunResult for every expected outcome (session, busy, exhausted,
    dry run); raises RotaError for config/store errors and Interrupted before a session starts."""
    from rota.report.hooks import RunHooks
    from rota.store import open_store

    hooks = RunHooks(config, clock=clock)  # notifications and the metrics file ([notify], [metrics])
    site = Site.of(config)
    lock: WorkspaceLock | None = None
    if not opts.dry_run:
        taken = take_lock(site, clock)
        if isinstance(taken, RunResult):
            return taken
        lock = taken
    try:
        # Fleet mode (rota.session.fleet): after the local flock, the workspace lock across the
        # fleet, then pool slots for the chosen arm; released before the store closes, on every path.
        with (
            open_store(config) as store,
            fleet_for(
                store, workspace=site.workspace_id, machine=site.machine, active=lock is not None
            ) as fleet,
        ):
            busy = lock_fleet(fleet, site)
            if busy is not None:
                return busy
            recovered: list[int] = []
            if lock is not None:
                recovered = recover(
                    store,
                    machine=site.machine,
                    workspace=site.workspace_id,
                    now=clock(),
                    lock=lock,
                    grace_s=config.run.kill_grace_seconds,
                    state_dir=site.state_dir,
                    half_life_s=config.bandit.half_life_s,
                )
                refresh(store, config, site.workspace, site.workspace_id, clock())
                lift_stale_holds(store, config, clock())
            stop.check()
            category = prompting.choose_category(config, opts.category, stop)
            stop.check()
            choice = choose(
                config,
                store,
                fleet,
                category=category,
                now=clock(),
                seed=opts.seed,
                forced=opts.forced,
            )
            if choice.decision.arm is None:
                d = choice.decision
                hooks.exhausted(category=category, earliest_reset=d.earliest_reset, why=d.why)
                hooks.write_metrics(store)
                return exhausted(category, choice, recovered)
            plan = plan_session(config, site, category, choice, opts, stop)
            if opts.dry_run:
                return dry_run(plan, recovered)
            stop.check()
            result = run_session(store, plan, lock, stop, clock, recovered, hooks, opts.watch)
            apply_retention(store, config, site, clock())
            return result
    finally:
        if lock is not None:
            lock.release()


def take_lock(site: Site, clock: Callable[[], float]) -> WorkspaceLock | RunResult:
    """The workspace lock without waiting, or the `busy` result naming its holder."""
    try:
        return acquire(site.state_dir, site.workspace_id, now=clock())
    except LockBusy as exc:
        reason = describe_holder(exc.holder, clock())
        journal.log_event("busy", workspace=site.workspace_id, reason=reason)
        return RunResult(EXIT_BUSY, "busy", str(exc), holder=exc.holder)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot take the workspace lock under {site.state_dir}: {exc.strerror or exc}; "
            "check that the state directory ($ROTA_STATE_DIR) is writable"
        ) from None


def lock_fleet(fleet: FleetSession | None, site: Site) -> RunResult | None:
    """The workspace lock across the fleet (fleet mode only), or the `busy` result."""
    if fleet is None:
        return None
    try:
        fleet.lock_workspace()
    except FleetBusy as exc:
        journal.log_event("busy", workspace=site.workspace_id, reason=str(exc))
        return RunResult(EXIT_BUSY, "busy", str(exc), holder=exc.holder)
    return None


def exhausted(category: str, choice: Choice, recovered: list[int]) -> RunResult:
    """Nothing usable: exit 76, naming the earliest reset."""
    from rota.timefmt import when

    decision = choice.decision
    journal.decision(None, arm=None, category=category, reason=decision.why)
    reset = (
        f"earliest reset {when(decision.earliest_reset, choice.now)}"
        if decision.earliest_reset
        else "no reset time is known"
    )
    message = f"every arm is exhausted or blocked for {category}; {reset}"
    if choice.forced:
        why = "; ".join(f"{c.arm}: {c.reason}" for c in decision.candidates) or "no such arm"
        message = f"{choice.forced} cannot run now: {why}"
    return RunResult(
        EXIT_EXHAUSTED,
        "exhausted",
        message,
        decision=decision,
        earliest_reset=decision.earliest_reset,
        recovered=recovered,
    )


def plan_session(
    config: Config, site: Site, category: str, choice: Choice, opts: RunOptions, stop: StopFlag
) -> Plan:
    """The chosen arm's harness profile and the prompt, into the session's plan."""
    from rota.harnesses import get_profile

    assert choice.decision.arm is not None
    harness = config.arms[choice.decision.arm].harness
    profile = get_profile(harness, config.harnesses[harness])
    prompt = prompting.choose_prompt(config, category, opts.prompt_file, stop)
    return make_plan(config, site, category, choice, prompt, profile)


def dry_run(plan: Plan, recovered: list[int]) -> RunResult:
    """The decision and the exact argv; nothing runs and nothing is recorded."""
    message = f"would run {plan.arm} for {plan.category}: {plan.decision.why}"
    return RunResult(
        EXIT_OK, "dry_run", message, decision=plan.decision, plan=plan, recovered=recovered
    )


def run_session(
    store: Store,
    plan: Plan,
    lock: WorkspaceLock | None,
    stop: StopFlag,
    clock: Callable[[], float],
    recovered: list[int],
    hooks: RunHooks,
    watch: Callable[[Started], Sequence[Watcher]] | None = None,
) -> RunResult:
    """Start the record, run the harness, interpret what it did, finish the record. Watchers (a
    terminal's live line, --follow) see the harness's output as the log gets it."""
    log = WatchedLog(record.open_log(plan))
    try:
        started = record.start(store, plan, clock)
    except BaseException:
        log.close()
        raise
    record.announce_start(started, lock)
    hooks.session_started(session_id=started.id, category=plan.category, arm=plan.arm)
    if started.slot is None:
        log.note("could not reserve the outcome file under the state folder: no safety net")
    try:
        if watch is not None:
            log.watch(*watch(started))
        ran = run_harness(started, lock, stop, log)  # type: ignore[arg-type]
        interpreted = interpret(store, started, ran, stop, log)  # type: ignore[arg-type]
        outcome = interpreted.outcome
        rec = record.finish(store, started, outcome)
        if interpreted.judge is not None:
            record.finish_judge(store, started, interpreted.judge)
    except BaseException as exc:
        record.finish_after_error(store, started, exc, clock())
        raise
    finally:
        log.close()  # and the watchers: the live line is cleared before the summary
    record.announce_end(rec, outcome, ran.result)
    hooks.session_ended(rec, blocks=outcome.blocks, profile=plan.profile, result=ran.result)
    hooks.write_metrics(store)
    return RunResult(
        exit_code(outcome, stop),
        rec.status,
        summary(rec, outcome.blocks, clock()),
        session=rec,
        decision=plan.decision,
        plan=plan,
        recovered=recovered,
    )


def lift_stale_holds(store: Store, config: Config, now: float) -> None:
    """Lift the holds an authentication failure or a CLI that could not start left on a harness
    whose config has changed since (rota.session.infra.stale_holds)."""
    try:
        stale = infra.stale_holds(config, store.active_blocks(now))
        for b in stale:
            store.remove_blocks(b.scope_kind, b.scope)
            journal.log_event(
                "unblock", level="notice", scope=f"{b.scope_kind}:{b.scope}",
                reason="its config changed since: " + b.reason,
            )
    except Exception as exc:  # never stop a run for this
        journal.log_event("warning", level="warning", reason=f"cannot lift holds: {exc}")


def apply_retention(store: Store, config: Config, site: Site, now: float) -> None:
    """Bounded growth after each session ([retention]; rota.store.retention). Best effort: a
    prune that fails is done by a later run, and never costs this session its exit code."""
    from rota.store.retention import prune

    try:
        report = prune(store, site.state_dir / "logs", config.retention, now)
    except Exception as exc:
        journal.log_event("retention", level="warning", reason=f"prune failed: {exc}")
        return
    if report.sessions or report.log_files or report.logs_capped:
        journal.log_event(
            "pruned",
            sessions=report.sessions,
            decisions=report.rows.get("decisions", 0),
            log_files=report.log_files,
            logs_capped=report.logs_capped,
        )


def exit_code(outcome: SessionOutcome, stop: StopFlag) -> int:
    """0 for a session that ran to its end (whatever its grade, and for a rate limit or a passing
    outage), 70 for a crash, a timeout, or an infrastructure failure a person must fix (rejected
    credentials, a CLI that cannot start, an unknown model), 128+signal when rota was stopped."""
    status = outcome.status
    if status == INTERRUPTED or (
        stop.is_set() and status in GRADED_STATES and outcome.reward is None
    ):
        return Interrupted(stop.signum).exit_code
    if status in CRASH_STATES:
        return EXIT_SESSION_FAILED
    if status == UNAVAILABLE:
        kind = (outcome.detail.get("infra") or {}).get("kind")
        return EXIT_SESSION_FAILED if kind in infra.NEEDS_A_PERSON else EXIT_OK
    return EXIT_OK


__all__ = ["Forced", "RunOptions", "RunResult", "run_once", "summary"]
