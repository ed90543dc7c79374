"""Graders: a finished session -> signals in [0, 1] -> one reward in [0, 1].

Built-in signals (each is left out when it cannot be measured, never guessed):
  exit     1 if the harness exited 0, else 0 (a crash or a timeout is 0)
  harness  the harness's own verdict where it reports one (claude's result `is_error`, codex's
           turn.completed / turn.failed), from the profile's result_signals
  commits  1 if the session made at least one commit (HEAD before vs after, in a git repo)
  files    1 if the session changed at least one file (committed or not; git status in a git
           repo, else a bounded mtime/size scan of the workspace)
  tests    1 if [run] test_command exits 0 after the session, else 0 (only when configured)
  grader   the score [run] grader_command prints (only when configured)

The reward is the weighted mean of the signals that are available, with [grading] weights
(defaults: exit 0.25, harness 0.15, commits 0.3, files 0.1, tests 0.2, grader 0.5). A signal
with weight 0 is recorded but does not count.

The grader command is how a user plugs in an LLM judge. It runs as an argv list in the
workspace and receives JSON on stdin: session_id, category, arm, arm_ran, harness, model,
model_seen, status, exit_code, started_at, ended_at, duration_s, workspace, log_path,
prompt_file and the built-in signals and facts. $ROTA_SESSION_ID, $ROTA_LOG_PATH,
$ROTA_CATEGORY and $ROTA_ARM are set too. It prints a number from 0 to 1 (the last non-empty
line), or JSON {"score": x}. A failure, a timeout or anything else printed is recorded under
signals.errors.grader and the reward is computed without it: the session is still recorded.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rota.session.execute import LogFile, ProcessResult, run_process
from rota.session.stop import StopFlag

SIGNALS = ("exit", "harness", "commits", "files", "tests", "grader")
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
SCAN_MAX_FILES = 20000  # above this, the non-git file scan gives up (files signal left out)
SCAN_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox"}
GIT_TIMEOUT_S = 60.0


# ---------------------------------------------------------------------------------------------
# The workspace before and after


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the workspace looked like: git HEAD and dirty files, or a plain file scan."""

    git: bool
    head: str | None = None  # None: no commit yet (or not a git repo)
    dirty: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)  # path -> stat
    files: Mapping[str, tuple[int, int]] | None = None  # non-git scan; None: too big / failed


def _git(ws: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    env = dict(os.environ)
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"})
    try:
        return subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=str(ws),
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def snapshot(workspace: Path) -> Snapshot:
    ws = Path(workspace)
    r = _git(ws, "rev-parse", "--is-inside-work-tree")
    if r is not None and r.returncode == 0 and r.stdout.strip() == b"true":
        head_r = _git(ws, "rev-parse", "--verify", "-q", "HEAD")
        head = head_r.stdout.decode().strip() if head_r and head_r.returncode == 0 else None
        return Snapshot(git=True, head=head or None, dirty=_dirty(ws))
    return Snapshot(git=False, files=_scan(ws))


def _dirty(ws: Path) -> dict[str, tuple[int, int] | None]:
    r = _git(ws, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    if r is None or r.returncode != 0:
        return {}
    top_r = _git(ws, "rev-parse", "--show-toplevel")
    top = Path(top_r.stdout.decode().strip()) if top_r and top_r.returncode == 0 else ws
    out: dict[str, tuple[int, int] | None] = {}
    entries = r.stdout.decode("utf-8", "surrogateescape").split("\0")
    i = 0
    while i < len(entries):
        e = entries[i]
        i += 1
        if len(e) < 4:
            continue
        status, path = e[:2], e[3:]
        if "R" in status or "C" in status:
            i += 1  # the rename's source path follows
        out[path] = _stat(top / path)
    return out


def _scan(ws: Path) -> dict[str, tuple[int, int]] | None:
    out: dict[str, tuple[int, int]] = {}
    try:
        for root, dirs, files in os.walk(ws):
            dirs[:] = [d for d in dirs if d not in SCAN_SKIP_DIRS]
            for name in files:
                p = Path(root) / name
                st = _stat(p)
                if st is not None:
                    out[str(p.relative_to(ws))] = st
                if len(out) > SCAN_MAX_FILES:
                    return None
    except OSError:
        return None
    return out


@dataclass(slots=True)
class WorkspaceChange:
    commits: int | None = None  # None: unknown (not a git repo)
    files_changed: int | None = None
    head_before: str | None = None
    head_after: str | None = None
    error: str | None = None


def changes(workspace: Path, before: Snapshot) -> WorkspaceChange:
    ws = Path(workspace)
    if not before.git:
        after_files = _scan(ws)
        if before.files is None or after_files is None:
            return WorkspaceChange(error="too many files to scan (not a git repo)")
        changed = {p for p, st in after_files.items() if before.files.get(p) != st}
        changed |= set(before.files) - set(after_files)
        return WorkspaceChange(files_changed=len(changed))
    after = snapshot(ws)
    if not after.git:
        return WorkspaceChange(error="the workspace is no longer a git repository")
    ch = WorkspaceChange(head_before=before.head, head_after=after.head)
    committed: set[str] = set()
    if after.head is None:
        ch.commits = 0
    elif after.head == before.head:
        ch.commits = 0
    else:
        rng = [after.head] + ([f"^{before.head}"] if before.head else [])
        r = _git(ws, "rev-list", "--count", *rng)
        try:
            ch.commits = int(r.stdout.decode().strip()) if r and r.returncode == 0 else None
        except ValueError:
            ch.commits = None
        d = _git(ws, "diff", "--name-only", "-z", before.head or EMPTY_TREE, after.head)
        if d is not None and d.returncode == 0:
            committed = {p for p in d.stdout.decode("utf-8", "surrogateescape").split("\0") if p}
        if ch.commits is None:
            ch.error = "git rev-list failed"
    dirty_changed = {p for p, st in after.dirty.items() if before.dirty.get(p, ()) != st}
    dirty_changed |= {p for p in before.dirty if p not in after.dirty and p not in committed}
    ch.files_changed = len(committed | dirty_changed)
    return ch


# ---------------------------------------------------------------------------------------------
# Combining


def combine(values: Mapping[str, float], weights: Mapping[str, float]) -> float | None:
    """Weighted mean of the available signals that have a weight; None when none has one."""
    num = den = 0.0
    for name, v in values.items():
        w = float(weights.get(name, 0.0))
        if w > 0 and v is not None and not math.isnan(v):
            num += w * min(1.0, max(0.0, float(v)))
            den += w
    return num / den if den > 0 else None


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
                f'printed {_short(last)!r}; expected a number from 0 to 1 (or JSON {{"score": x}})'
            ) from None
    value = float(value)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"printed {value!r}; expected a number from 0 to 1")
    return value


def _short(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Grading a session


@dataclass(slots=True)
class Grade:
    reward: float | None
    signals: dict[str, Any]
    interrupted: bool = False  # rota was asked to stop while grading

    @property
    def values(self) -> dict[str, float]:
        return {k: v for k, v in self.signals.items() if k in SIGNALS}


@dataclass(slots=True)
class _Tally:
    """What grading has measured so far."""

    values: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False  # rota was asked to stop while a grading command ran


@dataclass(frozen=True, slots=True)
class _Commands:
    """How the test and grader commands run: in the workspace, with the session's ROTA_* env."""

    workspace: Path
    env: dict[str, str]
    timeout_s: float
    kill_grace_s: float
    stop: StopFlag | None
    log: LogFile | None

    def run(
        self,
        argv: tuple[str, ...],
        *,
        stdout_head: int,
        logged: bool = False,
        stdin_data: bytes | None = None,
    ) -> ProcessResult:
        """Run a grading command; `logged`: its output is streamed to the session log."""
        return run_process(
            argv,
            cwd=self.workspace,
            env=self.env,
            timeout_s=self.timeout_s,
            kill_grace_s=self.kill_grace_s,
            stop=self.stop,
            log=self.log if logged else None,
            stdin_data=stdin_data,
            stdout_head=stdout_head,
            stdout_tail=8192,
            stderr_tail=8192,
        )


def grade_session(
    *,
    workspace: Path,
    before: Snapshot,
    result: ProcessResult,
    harness_signals: Mapping[str, float],
    weights: Mapping[str, float],
    meta: Mapping[str, Any],
    test_command: tuple[str, ...] = (),
    grader_command: tuple[str, ...] = (),
    timeout_s: float = 3600.0,
    kill_grace_s: float = 10.0,
    stop: StopFlag | None = None,
    log: LogFile | None = None,
) -> Grade:
    """Measure every signal, run the test and grader commands, combine. Never raises on bad
    graders: their errors land in signals["errors"]."""
    tally = _Tally()
    tally.values["exit"] = 1.0 if (result.exit_code == 0 and not result.timed_out) else 0.0
    for k, v in harness_signals.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0:
            tally.values[k] = float(v)
    _workspace_signals(tally, workspace, before)
    env = dict(os.environ)
    env.update(
        {
            "ROTA_SESSION_ID": str(meta.get("session_id", "")),
            "ROTA_LOG_PATH": str(meta.get("log_path", "")),
            "ROTA_CATEGORY": str(meta.get("category", "")),
            "ROTA_ARM": str(meta.get("arm_ran") or meta.get("arm") or ""),
            "ROTA_WORKSPACE": str(workspace),
        }
    )
    commands = _Commands(workspace, env, timeout_s, kill_grace_s, stop, log)
    if test_command:
        _test_signal(tally, test_command, commands)
    if grader_command and not tally.interrupted:
        _grader_signal(tally, grader_command, meta, commands)
    return _combined(tally, weights)


def _workspace_signals(tally: _Tally, workspace: Path, before: Snapshot) -> None:
    """commits and files: what changed in the workspace since `before`."""
    ch = changes(workspace, before)
    if ch.error:
        tally.errors["workspace"] = ch.error
    if ch.commits is not None:
        tally.values["commits"] = 1.0 if ch.commits > 0 else 0.0
        tally.facts["commits"] = ch.commits
    if ch.files_changed is not None:
        tally.values["files"] = 1.0 if ch.files_changed > 0 else 0.0
        tally.facts["files_changed"] = ch.files_changed
    if ch.head_before or ch.head_after:
        tally.facts["head_before"] = ch.head_before
        tally.facts["head_after"] = ch.head_after


def _test_signal(tally: _Tally, test_command: tuple[str, ...], run: _Commands) -> None:
    """tests: 1 if [run] test_command exits 0 after the session."""
    if run.log is not None:
        run.log.note(f"test command: {json.dumps(list(test_command))}")
    res = run.run(test_command, stdout_head=0, logged=True)
    if res.interrupted:
        tally.interrupted = True
        tally.errors["tests"] = "grading interrupted"
    elif res.error:
        tally.errors["tests"] = f"test command could not start: {res.error}"
    else:
        tally.values["tests"] = 1.0 if res.exit_code == 0 and not res.timed_out else 0.0
        tally.facts["tests_exit"] = res.exit_code
        if res.timed_out:
            tally.errors["tests"] = f"test command timed out after {run.timeout_s:.0f}s"
    if run.log is not None:
        run.log.note(f"test command: {res.describe()}")


def _grader_signal(
    tally: _Tally, grader_command: tuple[str, ...], meta: Mapping[str, Any], run: _Commands
) -> None:
    """grader: the score [run] grader_command prints, given the session as JSON on stdin."""
    payload = dict(meta)
    payload["signals"] = dict(tally.values)
    payload["facts"] = dict(tally.facts)
    stdin = json.dumps(payload, default=str).encode("utf-8")
    res = run.run(grader_command, stdout_head=64 * 1024, stdin_data=stdin)
    errors, values = tally.errors, tally.values
    if res.interrupted:
        tally.interrupted = True
        errors["grader"] = "grading interrupted"
    elif res.error:
        errors["grader"] = f"grader command could not start: {res.error}"
    elif res.timed_out:
        errors["grader"] = f"grader command timed out after {run.timeout_s:.0f}s"
    elif res.exit_code != 0:
        tail = " | ".join(x.strip() for x in res.stderr.strip().splitlines()[-3:])
        errors["grader"] = f"grader command {res.describe()}" + (
            f": {_short(tail)}" if tail else ""
        )
    else:
        try:
            values["grader"] = parse_score(res.stdout)
        except ValueError as exc:
            errors["grader"] = f"grader command {exc}"
    if run.log is not None:
        run.log.note(
            f"grader command: {res.describe()}"
            + (f" ({errors['grader']})" if "grader" in errors else f" score {values['grader']}")
        )


def _combined(tally: _Tally, weights: Mapping[str, float]) -> Grade:
    """The reward (none when grading was interrupted) and every signal behind it."""
    values, interrupted = tally.values, tally.interrupted
    used = {k: float(weights.get(k, 0.0)) for k in values if float(weights.get(k, 0.0)) > 0}
    reward = None if interrupted else combine(values, weights)
    if reward is None and not interrupted:
        tally.errors["reward"] = "no signal with a weight > 0 was available"
    signals: dict[str, Any] = dict(values)
    signals["weights"] = used
    if tally.facts:
        signals["facts"] = tally.facts
    if tally.errors:
        signals["errors"] = tally.errors
    return Grade(
        reward=None if reward is None else round(reward, 6),
        signals=signals,
        interrupted=interrupted,
    )


__all__ = [
    "SIGNALS",
    "Grade",
    "Snapshot",
    "WorkspaceChange",
    "changes",
    "combine",
    "grade_session",
    "parse_score",
    "snapshot",
]
