"""Running a planned session's harness: the log header, the harness's environment (what it needs,
not other harnesses' credentials: rota.harnesses.environment), the workspace baseline grading
compares against (with the tests before the session when [grading] test_before = true), and the
process itself in its own group (its pgid written to the lock file, so that a later run can stop
what a dead one left behind)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rota import journal
from rota.config import HarnessConfig
from rota.session import grading
from rota.session.execute import LogFile, ProcessResult, run_process
from rota.session.lock import WorkspaceLock
from rota.session.record import Started
from rota.session.stop import StopFlag
from rota.timefmt import utc
from rota.trajectory.workspace import Baseline


@dataclass(frozen=True, slots=True)
class Ran:
    """How the harness ended, the workspace as it was before it started, and the environment it
    ran with (a profile may read what the CLI wrote there, e.g. codex's $CODEX_HOME)."""

    result: ProcessResult
    before: Baseline
    env: Mapping[str, str]  # the harness's environment (where its own files are: HOME, …)


def harness_env(
    hc: HarnessConfig, profile: str, auth_env: Sequence[str], extra: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """(environment, names withheld): rota's environment less other harnesses' credentials and
    anything else that looks like a secret (rota.harnesses.environment), then [harnesses.X] env,
    then rota's own ROTA_* variables, and PWD. `profile`: the built-in profile's name; `auth_env`:
    its own credential variables; [harnesses.X] pass_env names more ("*": everything).

    PWD is the workspace: a CLI that works in $PWD rather than in its process's working directory
    (opencode) must not inherit the directory rota was started from."""
    from rota.harnesses.environment import for_harness

    env, withheld = for_harness(
        os.environ,
        profile=profile,
        name=hc.name,
        auth_env=auth_env,
        config_env=hc.env,
        pass_env=hc.pass_env,
        extra=extra,
    )
    if "ROTA_WORKSPACE" in extra:
        env["PWD"] = extra["ROTA_WORKSPACE"]
    return env, withheld


def run_harness(started: Started, lock: WorkspaceLock | None, stop: StopFlag, log: LogFile) -> Ran:
    plan = started.plan
    ws = plan.site.workspace
    log.note(
        f"session {started.id} arm {plan.arm} category {plan.category} started "
        f"{utc(started.started_at, '%Y-%m-%dT%H:%M:%SZ')}\n"
        f"argv: {journal.redact(json.dumps(list(plan.argv)))}\ncwd: {ws}\n"
        f"timeout: {plan.timeout_s:.0f}s\n"
        f"env from config (names only): {', '.join(plan.env_keys) or '-'}"
    )
    env, withheld = harness_env(
        plan.hc,
        plan.profile.name,
        plan.profile.auth_env,
        {
            "ROTA_SESSION_ID": str(started.id),
            "ROTA_ARM": plan.arm,
            "ROTA_CATEGORY": plan.category,
            "ROTA_WORKSPACE": str(ws),
            "ROTA_PROMPT_FILE": str(plan.paths.prompt),
        },
    )
    if withheld:
        log.note(f"withheld from the harness (names only): {', '.join(withheld)}")
    cfg = plan.config
    checks = grading.Commands(
        env=grading.grading_env(
            {
                "session_id": started.id,
                "category": plan.category,
                "arm": plan.arm,
                "log_path": str(plan.paths.log),
            },
            ws,
        ),
        timeout_s=plan.timeout_s,
        kill_grace_s=cfg.run.kill_grace_seconds,
        stop=stop,
        log=log,
    )
    before = grading.prepare(ws, cfg.run.test_command, cfg.grading, checks)
    refusal = plan.profile.refusal(env)
    if refusal:  # it would refuse to start: say why, and run nothing
        log.note(f"not started: {refusal}")
        now = time.time()
        return Ran(ProcessResult(list(plan.argv), now, now, error=refusal), before, env)
    if plan.stdin is not None:
        log.note(f"the prompt ({len(plan.stdin)} bytes) goes on standard input")
    res = run_process(
        plan.argv,
        cwd=ws,
        env=env,
        timeout_s=plan.timeout_s,
        kill_grace_s=plan.config.run.kill_grace_seconds,
        stop=stop,
        log=log,
        stdin_data=plan.stdin,
        on_spawn=(lambda pgid: lock.update(child_pgid=pgid)) if lock is not None else None,
    )
    log.note(f"harness: {res.describe()} after {res.duration_s:.1f}s")
    return Ran(res, before, env)


__all__ = ["Ran", "harness_env", "run_harness"]
