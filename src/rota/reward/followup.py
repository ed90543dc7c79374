"""Delayed signals: what became of a session's work after it ended.

For sessions that ended within the last followup_days (and once more just after), rota looks
again at the workspace:

  reverted          commits on the default branch (or HEAD) since the session whose message says
                    "This reverts commit <sha>" for one of the session's commits
  on_default_branch True once every kept commit of the session is on the default branch (by sha,
                    or as the same patch after a rebase); False when followup_days have passed and
                    some are still not there; None while it may still happen
  pr_merged         only from [grading] followup_command

`[grading] followup_command` is an argv run in the workspace with the session as JSON on stdin
(session_id, ended_at, commits, prs, branch, workspace) that may print JSON with any of
"reverted" (a count), "on_default_branch" and "pr_merged" (true/false); what it prints wins over
what git says. This is how a forge (GitHub, GitLab, Gitea, …) reports merged pull requests. Its
failures are recorded in the follow-up's notes and change nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rota.reward.score import FollowUp
from rota.session.execute import run_process
from rota.trajectory.git import git as _git
from rota.trajectory.git import git_text
from rota.trajectory.record import clip
from rota.trajectory.workspace import default_branch

DAY = 86400.0
_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
MAX_LOG = 2000  # commits read for revert messages


_out = git_text


def _on_branch(ws: Path, sha: str, ref: str) -> bool:
    r = _git(ws, "merge-base", "--is-ancestor", sha, ref)
    return r is not None and r.returncode == 0


def _same_patch_on(ws: Path, sha: str, ref: str) -> bool:
    """`git cherry`: the commit's patch is on `ref` under another sha (a rebase or cherry-pick)."""
    if _out(ws, "rev-parse", "-q", "--verify", f"{sha}~1") is None:
        return False  # a root commit
    text = _out(ws, "cherry", ref, sha, f"{sha}~1")
    return bool(text) and text.strip().startswith("-")


def check_git(
    workspace: Path,
    shas: Sequence[str],
    *,
    ended_at: float,
    now: float,
    days: float,
) -> FollowUp:
    ws = Path(workspace)
    fu = FollowUp(checked_at=now)
    if not shas:
        return fu
    known = [s for s in shas if _out(ws, "cat-file", "-e", f"{s}^{{commit}}") is not None]
    if len(known) < len(shas):
        fu.notes.append(f"{len(shas) - len(known)} of the session's commits are gone from the repository")
    ref = default_branch(ws)
    heads = [ref, "HEAD"] if ref else ["HEAD"]
    log = _out(ws, "log", f"--max-count={MAX_LOG}", "--format=%B%x00", *heads, "--")
    reverted: set[str] = set()
    for body in (log or "").split("\0"):
        for target in _REVERTS.findall(body):
            for s in shas:
                if s.startswith(target) or target.startswith(s):
                    reverted.add(s)
    fu.reverted = len(reverted)
    if ref is None:
        fu.notes.append("no default branch found (no origin/HEAD, main or master)")
        return fu
    kept = [s for s in known if s not in reverted]
    there = [s for s in kept if _on_branch(ws, s, ref) or _same_patch_on(ws, s, ref)]
    if kept and len(there) == len(kept):
        fu.on_default_branch = True
    elif now - ended_at >= days * DAY:
        fu.on_default_branch = False
        fu.notes.append(
            f"{len(kept) - len(there)} of {len(kept)} commits not on {ref} after {days:g} days"
        )
    return fu


def run_command(
    command: Sequence[str],
    workspace: Path,
    session: Mapping[str, Any],
    fu: FollowUp,
    *,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 120.0,
) -> FollowUp:
    """Ask [grading] followup_command; what it reports overrides git's answers."""
    res = run_process(
        list(command),
        cwd=workspace,
        env=env,
        timeout_s=timeout_s,
        stdin_data=json.dumps(dict(session), default=str).encode(),
        stdout_head=64 * 1024,
        stdout_tail=0,
        stderr_tail=4096,
    )
    if not res.started or res.timed_out or res.exit_code != 0:
        fu.notes.append(f"followup_command {res.describe()}")
        return fu
    try:
        obj = json.loads(res.stdout.strip() or "{}")
    except ValueError:
        fu.notes.append(f"followup_command printed no JSON: {clip(res.stdout, 80)!r}")
        return fu
    if not isinstance(obj, dict):
        fu.notes.append("followup_command printed JSON that is not an object")
        return fu
    r = obj.get("reverted")
    if isinstance(r, int) and not isinstance(r, bool) and r >= 0:
        fu.reverted = r
    for key in ("on_default_branch", "pr_merged"):
        if isinstance(obj.get(key), bool):
            setattr(fu, key, obj[key])
    return fu


def changed(old: FollowUp | None, new: FollowUp) -> bool:
    """Does `new` say anything that changes the grade compared with `old`?"""
    if old is None:
        return bool(new.reverted) or new.on_default_branch is False or bool(new.pr_merged)
    return (old.reverted, old.on_default_branch, old.pr_merged) != (
        new.reverted,
        new.on_default_branch,
        new.pr_merged,
    )


def due(ended_at: float, checked_at: float | None, now: float, days: float) -> bool:
    """Is a session due for a look? Every run within `days` of its end, and once after."""
    if now - ended_at <= days * DAY:
        return True
    return checked_at is None or checked_at - ended_at < days * DAY


__all__ = ["changed", "check_git", "due", "run_command"]
