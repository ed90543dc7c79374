"""Pull requests and pushes, from the commands a session ran.

A pull request counts when a command that opens one (`gh pr create`, `glab mr create`, `hub
pull-request`, `tea pr create`, `az repos pr create`) succeeded and its own output printed the
request's URL, as these tools do. What the agent says in its messages never counts: an agent may
claim a pull request that no command opened.
"""

from __future__ import annotations

import re

from rota.trajectory.record import Command, Trajectory

PR_COMMAND = re.compile(
    r"\b(?:gh\s+pr\s+create|glab\s+mr\s+create|hub\s+pull-request|tea\s+pulls?\s+create"
    r"|tea\s+pr\s+create|az\s+repos\s+pr\s+create)\b"
)
PR_URL = re.compile(r"https?://[^\s'\"<>`)\]]+?/(?:pull|pulls|merge_requests)/\d+")
GIT_PUSH = re.compile(r"\bgit\s+(?:-[-\w=./]+\s+)*push\b")
_URL_LINE = re.compile(r"^\s*[`'\"]?(" + PR_URL.pattern + r")[`'\"]?\s*$", re.M)
MAX_PRS = 20


def note_command(traj: Trajectory, cmd: Command) -> None:
    """Count what `cmd` did for pull requests and pushes (call once per command)."""
    if cmd.ok is False:
        return
    if PR_COMMAND.search(cmd.text):
        for url in PR_URL.findall(cmd.output):
            if url not in traj.prs and len(traj.prs) < MAX_PRS:
                traj.prs.append(url)
    if cmd.ok is True and GIT_PUSH.search(cmd.text):
        traj.pushes += 1


def note_text(traj: Trajectory, text: str) -> None:
    """For harnesses that print only text: a PR URL alone on its line (as `gh pr create`
    prints it) counts when the output also shows the command that opened it."""
    if not PR_COMMAND.search(text):
        return
    for m in _URL_LINE.finditer(text):
        url = m.group(1)
        if url not in traj.prs and len(traj.prs) < MAX_PRS:
            traj.prs.append(url)


__all__ = ["GIT_PUSH", "PR_COMMAND", "PR_URL", "note_command", "note_text"]
