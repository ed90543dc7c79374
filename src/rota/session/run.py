"""`rota run`, one session end to end: lock, recover, category, decide, execute, classify, grade,
learn, release. DESIGN.md "What rota run does, step by step" is the contract.

Outcomes and exit codes:
  completed     the harness exited 0                                  exit 0 (graded)
  crashed       it exited non-zero, was killed, or could not start    exit 70 (graded if it ran)
  timed_out     it ran past [harnesses.X] timeout_minutes             exit 70 (graded)
  rate_limited  its output says it stopped on a limit                 exit 0 (not graded; blocks)
  interrupted   rota got SIGTERM/SIGINT                               exit 128+signal: 143, 130
                                                                      (not graded)
Busy workspace: 75. Nothing usable: 76. Config error (also a failing category/prompt command): 78.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota import journal, procs
from rota.config import Config, HarnessConfig
from rota.errors import (
    EXIT_BUSY,
    EXIT_EXHAUSTED,
    EXIT_OK,
    EXIT_SESSION_FAILED,
    ConfigError,
    StoreUnavailable,
)
from rota.harnesses.base import HarnessProfile, LimitHit, SessionOutput
from rota.quota.limits import block_after_limit
from rota.quota.state import Block
from rota.session.execute import (
    ArgvTooLong,
    Interrupted,
    LogFile,
    ProcessResult,
    StopFlag,
    build_argv,
    run_process,
    stop_group,
)
from rota.session.fleet import FleetBusy, fleet_for
from rota.session.lock import LockBusy, WorkspaceLock, acquire, describe_holder
from rota.store.base import (
    ABANDONED,
    COMPLETED,
    CRASHED,
    INTERRUPTED,
    RATE_LIMITED,
    RUNNING,
    TIMED_OUT,
    SessionOutcome,
    SessionRecord,
    Store,
)

DAY = 86400.0
CRASH_STATES = (CRASHED, TIMED_OUT)  # what counts toward [health] crash_streak
NEUTRAL_STATES = (ABANDONED, INTERRUPTED, RUNNING)  # neither break nor extend a crash streak
GRADED_STATES = (COMPLETED, CRASHED, TIMED_OUT)


def state_dir() -> Path:
    """$ROTA_STATE_DIR, else $XDG_STATE_HOME/rota (~/.local/state/rota): locks, logs, the db."""
    d = os.environ.get("ROTA_STATE_DIR")
    if d:
        return Path(d).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "rota"


@dataclass(slots=True)
class RunOptions:
    category: str | None = None
    prompt_file: str | None = None
    seed: int | None = None
    dry_run: bool = False


@dataclass(slots=True)
class RunResult:
    exit_code: int
    status: str  # a session state, or busy / exhausted / dry_run / interrupted
    message: str = ""
    session: SessionRecord | None = None
    decision: dict[str, Any] | None = None
    argv: list[str] | None = None
    cwd: str = ""
    timeout_s: float | None = None
    env_keys: list[str] = field(default_factory=list)
    earliest_reset: float | None = None
    holder: dict[str, Any] | None = None
    recovered: list[int] = field(default_factory=list)
    prompt_source: str = ""
    decision_obj: Any = None  # the policy Decision, for `--dry-run`'s table (not serialised)

    def to_dict(self) -> dict[str, Any]:
        from rota.timefmt import iso

        d: dict[str, Any] = {
            "exit_code": self.exit_code,
            "status": self.status,
            "message": self.message,
        }
        if self.session is not None:
            d["session"] = self.session.to_dict()
        if self.decision is not None:
            d["decision"] = self.decision
        if self.argv is not None:
            d["argv"] = self.argv
            d["cwd"] = self.cwd
            d["timeout_s"] = self.timeout_s
            d["env_keys"] = self.env_keys  # names only: values may be secrets
            d["prompt_source"] = self.prompt_source
        if self.status == "exhausted" or self.earliest_reset is not None:
            d["earliest_reset"] = self.earliest_reset
            d["earliest_reset_iso"] = iso(self.earliest_reset)
        if self.holder is not None:
            d["holder"] = self.holder
        if self.recovered:
            d["recovered"] = self.recovered
        return d


# ---------------------------------------------------------------------------------------------
# Processes that are gone


def pid_alive(pid: int | None, started_at: float | None = None) -> bool:
    """Is the process that recorded a session still there? A reused pid (a process that started
    after the session did) is not."""
    return procs.alive(pid, not_after=started_at)


def recover(
    store: Store,
    *,
    machine: str,
    workspace: str,
    now: float,
    lock: WorkspaceLock | None = None,
    grace_s: float = 10.0,
) -> list[int]:
    """Running records left by dead processes on this machine become `abandoned` (no grade, no
    punishment). A harness group the dead holder of this workspace's lock left behind is stopped.
    """
    me = os.getpid()
    done: list[int] = []
    for rec in store.running_sessions():
        if rec.machine != machine:
            continue  # another machine's session: only it can tell whether it is alive
        dead = rec.pid == me or not pid_alive(rec.pid, rec.started_at)
        if not dead:
            continue
        reason = f"process {rec.pid} on {machine} is gone"
        if store.mark_abandoned(rec.id, now, reason):
            done.append(rec.id)
            journal.log_event(
                "abandoned",
                level="warning",
                session=rec.id,
                arm=rec.arm,
                workspace=rec.workspace,
                reason=reason,
            )
    prev = lock.previous if lock is not None else {}
    pgid = prev.get("child_pgid")
    if isinstance(pgid, int) and pgid > 1 and not pid_alive(prev.get("pid")):
        stray = stop_group(pgid, grace_s, same_session=True)
        if stray:
            journal.log_event(
                "stray",
                level="warning",
                workspace=workspace,
                reason=f"stopped {stray} process(es) left by the dead run (pid {prev.get('pid')})",
            )
    return done


# ---------------------------------------------------------------------------------------------
# Pieces of a run


def harness_env(hc: HarnessConfig, extra: Mapping[str, str]) -> dict[str, str]:
    """os.environ, then [harnesses.X] env, then rota's own ROTA_* variables."""
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in hc.env.items()})
    env.update(extra)
    return env


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:60] or "x"


def session_paths(sdir: Path, arm: str, now: float) -> tuple[Path, Path]:
    """(log file, prompt file) for a session about to start: unique per run, owner-only dir."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    stem = f"{stamp}-{os.getpid()}-{_slug(arm)}"
    logs = sdir / "logs"
    return logs / f"{stem}.log", logs / f"{stem}.prompt.md"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def classify(res: ProcessResult, profile: HarnessProfile) -> tuple[str, LimitHit | None]:
    if res.interrupted:
        return INTERRUPTED, None
    if res.timed_out:
        return TIMED_OUT, None
    if not res.started:
        return CRASHED, None
    try:
        hit = profile.detect_limit(
            SessionOutput(
                exit_code=res.exit_code, stdout=res.stdout, stderr=res.stderr, ended_at=res.ended_at
            )
        )
    except Exception as exc:  # a profile bug must not lose the session
        journal.log_event("warning", level="warning", reason=f"limit detection failed: {exc}")
        hit = None
    if hit is not None:
        return RATE_LIMITED, hit
    if res.exit_code == 0:
        return COMPLETED, None
    return CRASHED, None


def arm_that_ran(
    config: Config, harness: str, selected: str, profile: HarnessProfile, stdout: str
) -> tuple[str | None, str | None]:
    """(arm to credit, model name the harness reported). The arm is harness:<configured model>
    when the reported model maps to one, else harness:<reported model> (a model outside the
    config still must not be credited to the one selected), else None (nothing reported)."""
    from rota.harnesses import canonical_model

    try:
        seen = profile.model_seen(stdout)
    except Exception:
        seen = None
    if not seen:
        return None, None
    hc = config.harnesses.get(harness)
    name = canonical_model(harness, seen, list(hc.models) if hc else [])
    if not name:
        return None, seen
    return f"{harness}:{name}", seen


def probed_levels(config: Config, store: Store, arm: str, now: float) -> dict[str, Any]:
    """What the probes said just before `arm` ran, for the session's detail.

    - "utilization": each pool covering the arm -> its used fraction. A later refusal at a high use
      teaches rota that the arm is too big for what was left.
    - "levels": every probed level as [scope_kind, scope, window, used fraction, reset]. The next
      session's levels show how much this one used (rota.quota.history.arm_sizes), so that an arm is not
      started where it cannot fit.
    Cached probe answers: no new probing here. Knowing less must never stop a session.
    """
    from rota.quota.state import levels_of, pool_use
    from rota.session.decide import quota_states

    if arm not in config.arms:
        return {}
    try:
        states = quota_states(config, store, now, warn=False)
    except Exception:
        return {}
    out: dict[str, Any] = {"utilization": pool_use(states, config.arm_scopes(arm).pools)}
    levels = [list(x) for x in levels_of(states)]
    if levels:
        out["levels"] = levels
    return out


def limit_blocks(
    store: Store, config: Config, hit: LimitHit, arm: str, now: float
) -> tuple[list[Block], list[tuple[str, str]]]:
    """The blocks a limit hit creates: until its reset, else a backoff growing with repeats."""
    from rota.harnesses import limit_scopes

    try:
        scopes = limit_scopes(hit, arm, config)
    except Exception:
        scopes = []
    if not scopes:
        scopes = [("harness", arm.split(":", 1)[0])]
    if hit.resets_at is not None and arm in config.arms:
        # A pool the probe saw with plenty of room just before did not run out (rota.quota).
        from rota.quota.limits import narrow_limit_scopes

        try:
            seen = store.cached_quota_states(3600.0, now)
        except Exception:
            seen = []
        a = config.arm_scopes(arm)
        wide = [p for p in a.pools if a.harness in config.pools[p].harnesses]
        scopes = narrow_limit_scopes(
            scopes, a, seen, now, resets_at=hit.resets_at, harness_pools=wide
        )
    reason = f"rate limit: {hit.message}".strip()[:300]
    blocks = [
        block_after_limit(
            kind,
            scope,
            resets_at=hit.resets_at,
            now=now,
            previous=store.latest_block(kind, scope),
            reason=reason,
        )
        for kind, scope in scopes
    ]
    return blocks, scopes


def crash_streak(store: Store, arm: str, status: str) -> int:
    """Consecutive crashed/timed-out sessions of `arm`, counting the one just finished."""
    if status not in CRASH_STATES:
        return 0
    streak = 1
    for rec in store.recent_sessions(200):
        if rec.credited_arm != arm or rec.status in NEUTRAL_STATES:
            continue
        if rec.status not in CRASH_STATES:
            break
        streak += 1
    return streak


# ---------------------------------------------------------------------------------------------
# The run


def run_once(
    config: Config,
    opts: RunOptions,
    stop: StopFlag,
    *,
    clock: Callable[[], float] = time.time,
) -> RunResult:
    """One `rota run`. Returns a RunResult for every expected outcome (session, busy, exhausted,
    dry run); raises RotaError for config/store errors and Interrupted before a session starts."""
    from rota.harnesses import get_profile
    from rota.session import prompting
    from rota.session.decide import decide, machine_name, workspace_id
    from rota.store import open_store

    ws_path = Path(config.workspace.path)
    if not ws_path.is_dir():
        raise ConfigError(
            f"workspace directory {ws_path} does not exist; create it or pass --workspace DIR",
            path=str(config.path) if config.path else None,
            key="workspace.path",
        )
    ws_id = workspace_id(config)
    machine = machine_name()
    sdir = state_dir()

    lock: WorkspaceLock | None = None
    if not opts.dry_run:
        try:
            lock = acquire(sdir, ws_id, now=clock())
        except LockBusy as exc:
            journal.log_event("busy", workspace=ws_id, reason=describe_holder(exc.holder, clock()))
            return RunResult(EXIT_BUSY, "busy", str(exc), holder=exc.holder)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot take the workspace lock under {sdir}: {exc.strerror or exc}; "
                "check that the state directory ($ROTA_STATE_DIR) is writable"
            ) from None
    try:
        # Fleet mode (rota.session.fleet): after the local flock, the workspace lock across the fleet,
        # then pool slots for the chosen arm; released before the store closes, on every path.
        with (
            open_store(config) as store,
            fleet_for(store, workspace=ws_id, machine=machine, active=lock is not None) as fleet,
        ):
            if fleet is not None:
                try:
                    fleet.lock_workspace()
                except FleetBusy as exc:
                    journal.log_event("busy", workspace=ws_id, reason=str(exc))
                    return RunResult(EXIT_BUSY, "busy", str(exc), holder=exc.holder)
            recovered: list[int] = []
            if lock is not None:
                recovered = recover(
                    store,
                    machine=machine,
                    workspace=ws_id,
                    now=clock(),
                    lock=lock,
                    grace_s=config.run.kill_grace_seconds,
                )
            stop.check()
            category = prompting.choose_category(config, opts.category, stop)
            stop.check()
            now = clock()
            if fleet is not None:  # holds the arm's pool slots; re-selects if a pool is full
                decision = fleet.choose(config, category=category, now=now, seed=opts.seed)
            else:
                decision = decide(config, store, category=category, now=now, seed=opts.seed)
            ddict = decision.to_dict()
            if decision.arm is None:
                journal.decision(None, arm=None, category=category, reason=decision.why)
                from rota.timefmt import local, relative

                when = (
                    f"earliest reset {local(decision.earliest_reset)} "
                    f"({relative(decision.earliest_reset, now)})"
                    if decision.earliest_reset
                    else "no reset time is known"
                )
                return RunResult(
                    EXIT_EXHAUSTED,
                    "exhausted",
                    f"every arm is exhausted or blocked for {category}; {when}",
                    decision=ddict,
                    earliest_reset=decision.earliest_reset,
                    recovered=recovered,
                )
            arm = decision.arm
            arm_cfg = config.arms[arm]
            harness = arm_cfg.harness
            hc = config.harnesses[harness]
            profile = get_profile(harness, hc)
            prompt = prompting.choose_prompt(config, category, opts.prompt_file, stop)
            log_path, prompt_path = session_paths(sdir, arm, now)
            values = {
                "model": arm_cfg.model,
                "prompt": prompt.text,
                "prompt_file": str(prompt_path),
                "workspace": str(ws_path),
                "category": category,
            }
            try:
                argv = build_argv(profile.argv, values)
            except ArgvTooLong as exc:
                raise ConfigError(
                    str(exc),
                    path=str(config.path) if config.path else None,
                    key=f"harnesses.{harness}.command",
                ) from None
            timeout_s = float(hc.timeout_minutes) * 60.0
            env_keys = sorted(hc.env)
            base = RunResult(
                EXIT_OK,
                "dry_run",
                decision=ddict,
                decision_obj=decision,
                argv=argv,
                cwd=str(ws_path),
                timeout_s=timeout_s,
                env_keys=env_keys,
                recovered=recovered,
                prompt_source=prompt.source,
            )
            if opts.dry_run:
                base.message = f"would run {arm} for {category}: {decision.why}"
                return base
            stop.check()
            return _session(
                config=config,
                store=store,
                lock=lock,
                stop=stop,
                clock=clock,
                base=base,
                decision_dict=ddict,
                category=category,
                arm=arm,
                harness=harness,
                hc=hc,
                profile=profile,
                prompt_text=prompt.text,
                prompt_path=prompt_path,
                log_path=log_path,
                ws_id=ws_id,
                ws_path=ws_path,
                machine=machine,
            )
    finally:
        if lock is not None:
            lock.release()


def _session(
    *,
    config: Config,
    store: Store,
    lock: WorkspaceLock | None,
    stop: StopFlag,
    clock: Callable[[], float],
    base: RunResult,
    decision_dict: dict[str, Any],
    category: str,
    arm: str,
    harness: str,
    hc: HarnessConfig,
    profile: HarnessProfile,
    prompt_text: str,
    prompt_path: Path,
    log_path: Path,
    ws_id: str,
    ws_path: Path,
    machine: str,
) -> RunResult:
    from rota.session import grading

    assert base.argv is not None and base.timeout_s is not None
    argv = base.argv
    half_life_s = config.bandit.half_life_days * DAY
    grace = config.run.kill_grace_seconds

    try:
        _write_private(prompt_path, prompt_text)
        log = LogFile(log_path)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot write the session log under {log_path.parent}: {exc.strerror or exc}; "
            "check that the state directory ($ROTA_STATE_DIR) is writable"
        ) from None
    try:
        decision_id = store.record_decision(decision_dict, workspace=ws_id, machine=machine)
        started_at = clock()
        sid = store.start_session(
            category=category,
            arm=arm,
            started_at=started_at,
            decision_id=decision_id,
            pid=os.getpid(),
            machine=machine,
            workspace=ws_id,
            log_path=str(log_path),
            detail={
                "harness": harness,
                "model": config.arms[arm].model,
                "executable": argv[0] if argv else "",
                "prompt_source": base.prompt_source,
                "prompt_file": str(prompt_path),
                "prompt_chars": len(prompt_text),
                "timeout_s": base.timeout_s,
                "workspace_path": str(ws_path),
                **probed_levels(config, store, arm, clock()),
            },
        )
    except BaseException:
        log.close()
        raise
    if lock is not None:
        lock.update(arm=arm, session_id=sid, session_started_at=started_at)
    journal.session_start(sid, category=category, workspace=str(ws_path), arm=arm)
    journal.decision(sid, arm=arm, category=category, reason=decision_dict.get("why", ""))

    try:
        log.note(
            f"session {sid} arm {arm} category {category} started "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started_at))}\n"
            f"argv: {journal.redact(json.dumps(argv))}\ncwd: {ws_path}\n"
            f"timeout: {base.timeout_s:.0f}s\n"
            f"env from config (names only): {', '.join(base.env_keys) or '-'}"
        )
        env = harness_env(
            hc,
            {
                "ROTA_SESSION_ID": str(sid),
                "ROTA_ARM": arm,
                "ROTA_CATEGORY": category,
                "ROTA_WORKSPACE": str(ws_path),
                "ROTA_PROMPT_FILE": str(prompt_path),
            },
        )
        before = grading.snapshot(ws_path)
        res = run_process(
            argv,
            cwd=ws_path,
            env=env,
            timeout_s=base.timeout_s,
            kill_grace_s=grace,
            stop=stop,
            log=log,
            on_spawn=(lambda pgid: lock.update(child_pgid=pgid)) if lock is not None else None,
        )
        log.note(f"harness: {res.describe()} after {res.duration_s:.1f}s")
        status, hit = classify(res, profile)
        arm_ran, model_seen = arm_that_ran(config, harness, arm, profile, res.stdout)
        credited = arm_ran or arm
        ended = res.ended_at
        detail: dict[str, Any] = {"process": res.to_dict()}
        if model_seen:
            detail["model_seen"] = model_seen
        if arm_ran and arm_ran != arm:
            detail["model_switch"] = f"selected {arm}, ran {arm_ran}"
            log.note(f"model switch: selected {arm}, the harness ran {model_seen} ({arm_ran})")
        blocks: list[Block] = []
        reward: float | None = None
        signals: dict[str, Any] = {}

        if status == RATE_LIMITED and hit is not None:
            blocks, scopes = limit_blocks(store, config, hit, credited, ended)
            detail["limit"] = {
                "message": hit.message,
                "resets_at": hit.resets_at,
                "window": hit.window,
                "scopes": [f"{k}:{s}" for k, s in scopes],
            }
            log.note(f"rate limited: {hit.message}")
        elif not res.started:
            detail["error"] = res.error
            prev = store.latest_block("harness", harness)
            blocks.append(
                block_after_limit(
                    "harness",
                    harness,
                    resets_at=None,
                    now=ended,
                    previous=prev,
                    reason=f"cannot start: {res.error}",
                )
            )
        elif status in GRADED_STATES:
            try:
                harness_signals = profile.result_signals(res.stdout)
            except Exception:
                harness_signals = {}
            g = grading.grade_session(
                workspace=ws_path,
                before=before,
                result=res,
                harness_signals=harness_signals,
                weights=config.grading.weights,
                meta={
                    "session_id": sid,
                    "category": category,
                    "arm": arm,
                    "arm_ran": credited,
                    "harness": harness,
                    "model": config.arms[arm].model,
                    "model_seen": model_seen,
                    "status": status,
                    "exit_code": res.exit_code,
                    "started_at": res.started_at,
                    "ended_at": ended,
                    "duration_s": round(res.duration_s, 3),
                    "workspace": str(ws_path),
                    "log_path": str(log_path),
                    "prompt_file": str(prompt_path),
                },
                test_command=config.run.test_command,
                grader_command=config.run.grader_command,
                timeout_s=base.timeout_s,
                kill_grace_s=grace,
                stop=stop,
                log=log,
            )
            reward, signals = g.reward, g.signals
            for name, err in (g.signals.get("errors") or {}).items():
                journal.log_event(
                    "grader_error", level="warning", session=sid, signal=name, reason=err
                )
            streak = crash_streak(store, credited, status)
            if streak >= config.health.crash_streak:
                b = block_after_limit(
                    "arm",
                    credited,
                    resets_at=None,
                    now=ended,
                    previous=store.latest_block("arm", credited),
                    reason=f"crash loop: {streak} crashed or timed-out sessions in a row",
                )
                blocks.append(b)
                detail["crash_loop"] = streak

        rec = store.finish_session(
            sid,
            SessionOutcome(
                status=status,
                ended_at=ended,
                exit_code=res.exit_code,
                arm_ran=arm_ran,
                reward=reward,
                signals=signals,
                detail=detail,
                blocks=blocks,
            ),
            half_life_s=half_life_s,
        )
    except BaseException as exc:
        # Never leave a `running` record behind for a bug or an unexpected error.
        try:
            cur = store.get_session(sid)
            if cur is not None and cur.status == RUNNING:
                store.finish_session(
                    sid,
                    SessionOutcome(
                        status=CRASHED,
                        ended_at=clock(),
                        detail={"error": f"rota failed during the session: {exc!r}"[:500]},
                    ),
                    half_life_s=half_life_s,
                )
        except Exception:
            pass
        raise
    finally:
        log.close()

    journal.outcome(
        sid,
        status=rec.status,
        arm_ran=rec.credited_arm,
        duration_s=res.duration_s,
        exit_code=res.exit_code,
    )
    for b in blocks:
        journal.log_event(
            "block",
            level="notice",
            session=sid,
            scope=f"{b.scope_kind}:{b.scope}",
            until=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b.until)),
            source=b.source,
            reason=b.reason,
        )
    journal.grade(
        sid,
        reward=rec.reward,
        **{k: v for k, v in signals.items() if k in grading.SIGNALS},
    )

    if status == INTERRUPTED or (stop.is_set() and status in GRADED_STATES and reward is None):
        code = Interrupted(stop.signum).exit_code
    elif status in CRASH_STATES:
        code = EXIT_SESSION_FAILED
    else:
        code = EXIT_OK
    base.exit_code = code
    base.status = rec.status
    base.session = rec
    base.message = summary(rec)
    return base


def summary(rec: SessionRecord) -> str:
    """One human line: 'session 12: claude-code:opus (code) completed in 7m12s, grade 0.82'."""
    from rota.timefmt import human_duration

    ran = f" (ran {rec.arm_ran})" if rec.arm_ran and rec.arm_ran != rec.arm else ""
    dur = ""
    if rec.ended_at is not None:
        dur = f" in {human_duration(max(0.0, rec.ended_at - rec.started_at))}"
    grade = "not graded" if rec.reward is None else f"grade {rec.reward:.2f}"
    parts = [f"session {rec.id}: {rec.arm}{ran} ({rec.category}) {rec.status}{dur}, {grade}"]
    sig = {k: v for k, v in rec.signals.items() if isinstance(v, (int, float))}
    if sig:
        parts.append("(" + ", ".join(f"{k} {v:.2f}" for k, v in sig.items()) + ")")
    errors = rec.signals.get("errors") if isinstance(rec.signals, dict) else None
    if errors:
        parts.append("; errors: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    limit = rec.detail.get("limit") if isinstance(rec.detail, dict) else None
    if limit:
        parts.append(
            f"; limit: {limit.get('message')} (blocked {', '.join(limit.get('scopes', []))})"
        )
    if rec.detail.get("error"):
        parts.append(f"; {rec.detail['error']}")
    if rec.log_path:
        parts.append(f"; log {rec.log_path}")
    return " ".join(parts)


__all__ = [
    "RunOptions",
    "RunResult",
    "classify",
    "crash_streak",
    "pid_alive",
    "recover",
    "run_once",
    "state_dir",
    "summary",
]
