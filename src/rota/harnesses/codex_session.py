"""One codex session, read for the runner: the model that ran and how it failed.

`codex exec --json` names no model. Its rollout file ($CODEX_HOME/sessions/YYYY/MM/DD/
rollout-<time>-<thread id>.jsonl, found by the `thread.started` event's thread id) records the
model of each turn (`turn_context.model`); a switch by the provider is printed as an error item
"model rerouted: A -> B (reason)". Errors come as `error` / `turn.failed` events whose message is
the only wording there is (tests/fixtures/realcli/codex/).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

from rota.harnesses.base import INFRA_AUTH, INFRA_MODEL, INFRA_PROVIDER

REROUTED = re.compile(r"model rerouted:\s*(\S+)\s*->\s*(\S+)")
MAX_ROLLOUT_BYTES = 8 * 1024 * 1024
# Infrastructure failures in codex's words, on its error events (anchored at the start).
INFRA_PATTERNS = (
    (INFRA_AUTH, r"(?:Reconnecting\.\.\. \S+ \()?unexpected status 40[13]\b"),
    (INFRA_AUTH, r".*\b(?:invalid_api_key|Incorrect API key|refresh_token_failed)\b"),
    (INFRA_MODEL, r"The requested model .* does not exist"),
    (INFRA_MODEL, r".*\bmodel_not_found\b"),
    (INFRA_MODEL, r"(?:Reconnecting\.\.\. \S+ \()?unexpected status 404\b"),
    (INFRA_PROVIDER, r"We(?:'|’)re currently experiencing high demand"),
    (INFRA_PROVIDER, r"(?:Reconnecting\.\.\. \S+ \()?unexpected status 5\d\d\b"),
    (INFRA_PROVIDER, r".*exceeded retry limit, last status: 5\d\d\b"),
)


def events(stdout: str):
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, dict):
                yield obj


def thread_id(stdout: str) -> str | None:
    for obj in events(stdout):
        if obj.get("type") == "thread.started" and isinstance(obj.get("thread_id"), str):
            return obj["thread_id"]
    return None


def rerouted_to(stdout: str) -> str | None:
    """B of the last "model rerouted: A -> B" codex printed."""
    found = None
    for m in REROUTED.finditer(stdout):
        found = m.group(2)
    return found


def rollout_for(thread: str, env: Mapping[str, str]) -> Path | None:
    """The rollout file of one thread: sessions/YYYY/MM/DD/rollout-*-<thread>.jsonl, newest days
    first (a session that ran past midnight is in the day it started)."""
    if not re.fullmatch(r"[0-9A-Za-z-]{8,64}", thread):
        return None
    home = env.get("CODEX_HOME") or str(Path(env.get("HOME") or os.path.expanduser("~")) / ".codex")
    root = Path(home) / "sessions"
    try:
        years = sorted((p for p in root.iterdir() if p.is_dir()), reverse=True)[:2]
        for y in years:
            for mth in sorted((p for p in y.iterdir() if p.is_dir()), reverse=True)[:2]:
                for day in sorted((p for p in mth.iterdir() if p.is_dir()), reverse=True)[:3]:
                    for f in day.glob(f"rollout-*-{thread}.jsonl"):
                        return f
    except OSError:
        return None
    return None


def rollout_model(path: Path) -> str | None:
    """The model of the last turn the rollout file records."""
    model = None
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_ROLLOUT_BYTES)
    except OSError:
        return None
    for obj in events(data.decode("utf-8", "replace")):
        payload = obj.get("payload")
        if obj.get("type") == "turn_context" and isinstance(payload, dict):
            m = payload.get("model")
            if isinstance(m, str) and m:
                model = m
    return model


def model_ran(stdout: str, env: Mapping[str, str]) -> str | None:
    """The model that answered: a reroute's target, else the rollout's model, else None."""
    rerouted = rerouted_to(stdout)
    if rerouted:
        return rerouted
    thread = thread_id(stdout)
    path = rollout_for(thread, env) if thread else None
    return rollout_model(path) if path else None


__all__ = ["INFRA_PATTERNS", "model_ran", "rerouted_to", "rollout_for", "thread_id"]
