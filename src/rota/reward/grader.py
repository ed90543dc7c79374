"""[run] grader_command: the user's own grader, given the session as JSON on stdin.

It runs as an argv list in the workspace with $ROTA_SESSION_ID, $ROTA_LOG_PATH, $ROTA_CATEGORY,
$ROTA_ARM and $ROTA_WORKSPACE set, and gets: session_id, category, arm, arm_ran, harness, model,
model_seen, status, exit_code, started_at, ended_at, duration_s, workspace, log_path,
prompt_file, and the session's trajectory, workspace summary and grade so far. It prints a number
from 0 to 1 (its last non-empty line), or JSON {"score": x}. A failure, a timeout or anything
else printed is an error recorded with the session, which is graded from the rest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rota.session.execute import LogFile, run_process
from rota.session.stop import StopFlag
from rota.trajectory.record import clip


def parse_score(text: str) -> float:
    """A grader's stdout -> a score in [0, 1]. ValueError with a readable reason otherwise."""
    s = text.strip()
    if not s:
        raise ValueError("printed nothing; expected a number from 0 to 1")
    value: Any = None
    last = s.splitlines()[-1].strip()
    for candidate in (s, last):  # the whole output, else its last line, may be JSON
        try:
            obj = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(obj, (int, float)) and not isinstance(obj, bool):
            value = obj
        elif isinstance(obj, dict):
            for k in ("score", "reward", "grade"):
                v = obj.get(k)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    value = v
                    break
        if value is not None:
            break
    if value is None:
        try:
            value = float(last)
        except ValueError:
            raise ValueError(
                f'printed {clip(last, 120)!r}; expected a number from 0 to 1 (or JSON {{"score": x}})'
            ) from None
    value = float(value)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"printed {value!r}; expected a number from 0 to 1")
    return value


def run_grader(
    command: Sequence[str],
    workspace: Path,
    payload: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    timeout_s: float,
    kill_grace_s: float = 10.0,
    stop: StopFlag | None = None,
    log: LogFile | None = None,
) -> tuple[float | None, str, bool]:
    """(score, error, interrupted). Never raises."""
    res = run_process(
        list(command),
        cwd=workspace,
        env=env,
        timeout_s=timeout_s,
        kill_grace_s=kill_grace_s,
        stop=stop,
        stdin_data=json.dumps(payload, default=str).encode("utf-8"),
        stdout_head=64 * 1024,
        stdout_tail=8192,
        stderr_tail=8192,
    )
    score, error = None, ""
    if res.interrupted:
        return None, "grading interrupted", True
    if res.error:
        error = f"grader command could not start: {res.error}"
    elif res.timed_out:
        error = f"grader command timed out after {timeout_s:.0f}s"
    elif res.exit_code != 0:
        tail = " | ".join(x.strip() for x in res.stderr.strip().splitlines()[-3:])
        error = f"grader command {res.describe()}" + (f": {clip(tail, 120)}" if tail else "")
    else:
        try:
            score = parse_score(res.stdout)
        except ValueError as exc:
            error = f"grader command {exc}"
    if log is not None:
        log.note(f"grader command: {res.describe()}" + (f" ({error})" if error else f" score {score}"))
    return score, error, False


__all__ = ["parse_score", "run_grader"]
