"""Trajectories: what a session did, read from what its harness already writes.

`read(kind, output)` picks the reader for a harness profile (claude-code, codex, gemini,
opencode, gptme, aider, copilot; anything else is read as plain text) and never raises: a reader
that fails leaves a Trajectory with source "none" and the reason in `notes`.
"""

from __future__ import annotations

import importlib

from rota.trajectory.record import Command, SuiteRun, Trajectory, Usage, WorkspaceSummary
from rota.trajectory.source import HarnessOutput

READERS: dict[str, str] = {
    "claude-code": "rota.trajectory.claude_code",
    "codex": "rota.trajectory.codex",
    "gemini": "rota.trajectory.gemini",
    "opencode": "rota.trajectory.opencode",
    "gptme": "rota.trajectory.gptme",
    "aider": "rota.trajectory.aider",
    "copilot": "rota.trajectory.copilot",
}
TEXT_READER = "rota.trajectory.text"


def reader_kind(harness: str, quota: object = None) -> str:
    """The reader for a configured harness: its `quota.profile` (a built-in profile under another
    name), else its own name."""
    if isinstance(quota, dict) and isinstance(quota.get("profile"), str):
        return str(quota["profile"])
    return harness


def read(kind: str, output: HarnessOutput) -> Trajectory:
    module = importlib.import_module(READERS.get(kind, TEXT_READER))
    try:
        t: Trajectory = module.read(output)
    except Exception as exc:  # a reader bug must never lose the session
        t = Trajectory(notes=[f"the {kind} reader failed: {exc!r}"[:300]])
    return t


__all__ = [
    "READERS",
    "Command",
    "HarnessOutput",
    "SuiteRun",
    "Trajectory",
    "Usage",
    "WorkspaceSummary",
    "read",
    "reader_kind",
]
