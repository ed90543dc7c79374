"""The corpus of real limit messages (tests/fixtures/limits/corpus.toml), and each entry as its CLI
prints it headless.

`outputs(entry)` turns an entry into (stdout, stderr, exit code) on the channel that CLI really
uses: the stream-json `result` line for Claude Code, `exec --json` events for Codex, the JSON error
document on stderr for Gemini, plain stderr for Copilot and gptme, plain stdout for aider, `run
--format json` error events for opencode. It imports nothing from rota, so a stand-in executable
can print the same bytes. `reset_ok` says whether a parsed reset is the answer the entry expects.
README.md next to the corpus describes the fields.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "fixtures" / "limits" / "corpus.toml"

HARNESSES = ("claude-code", "codex", "gemini", "copilot", "aider", "opencode", "gptme")
KINDS = ("limit", "lookalike")
CHANNELS = (
    "result",
    "rate-limit-event",
    "json-event",
    "json-body",
    "stderr-json",
    "stderr",
    "stdout",
)
ORIGINS = ("issue", "real-cli-run", "source", "issue-13-synthetic")
# A stated reset must match to the second the message gives (to the minute when it gives minutes).
EXACT_SECONDS = 1.0


@dataclass(frozen=True)
class Entry:
    id: str
    harness: str
    kind: str  # "limit" or "lookalike"
    channel: str
    exit_code: int
    origin: str
    seen: str
    source: str
    at: float  # when the CLI printed it (epoch seconds): the reference for "resets 11pm"
    zone: str  # the machine's zone (IANA), for wall times that name none
    text: str
    reset: float | None = None  # the reset the message states, exactly
    reset_implied: float | None = None  # the harness's documented reset when the text states none
    reset_max_days: float | None = None  # absurd input: no reset, or one within this many days
    reset_range_days: tuple[float, float] | None = None  # approximate: no reset, or one in range
    window: str = ""
    note: str = ""

    @property
    def is_limit(self) -> bool:
        return self.kind == "limit"


def _epoch(value: object, key: str, entry_id: str) -> float:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{CORPUS.name}: entry {entry_id!r}: {key} must be a datetime with offset")
    return value.timestamp()


def load(path: Path = CORPUS) -> list[Entry]:
    with open(path, "rb") as f:
        raw = tomllib.load(f)["entry"]
    entries = []
    for r in raw:
        eid = r["id"]
        rng = r.get("reset_range_days")
        entries.append(
            Entry(
                id=eid,
                harness=r["harness"],
                kind=r["kind"],
                channel=r["channel"],
                exit_code=int(r["exit_code"]),
                origin=r["origin"],
                seen=r.get("seen", ""),
                source=r["source"],
                at=_epoch(r["at"], "at", eid),
                zone=r["zone"],
                text=r["text"],
                reset=_epoch(r["reset"], "reset", eid) if "reset" in r else None,
                reset_implied=(
                    _epoch(r["reset_implied"], "reset_implied", eid)
                    if "reset_implied" in r
                    else None
                ),
                reset_max_days=r.get("reset_max_days"),
                reset_range_days=(float(rng[0]), float(rng[1])) if rng else None,
                window=r.get("window", ""),
                note=r.get("note", ""),
            )
        )
    return entries


def _line(obj: dict[str, object]) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def outputs(e: Entry) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of a headless session of e.harness that ended with e.text."""
    stdout = stderr = ""
    if e.channel == "result":
        stdout = _line({"type": "system", "subtype": "init", "model": "claude-sonnet-4-6"})
        stdout += _line(
            {
                "type": "result",
                "subtype": "success",
                "is_error": e.exit_code != 0,
                "result": e.text,
                "num_turns": 1,
                "total_cost_usd": 0,
            }
        )
    elif e.channel == "rate-limit-event":
        info = json.loads(e.text)
        stdout = _line({"type": "system", "subtype": "init", "model": "claude-sonnet-4-6"})
        stdout += _line({"type": "rate_limit_event", "rate_limit_info": info})
        stdout += _line({"type": "result", "subtype": "success", "is_error": True, "result": ""})
    elif e.channel == "json-event" and e.harness == "opencode":
        stdout = _line(
            {
                "type": "error",
                "timestamp": int(e.at * 1000),
                "sessionID": "ses_corpus",
                "error": {"name": "UnknownError", "data": {"message": e.text}},
            }
        )
    elif e.channel == "json-event":  # codex exec --json
        stdout = _line(
            {"type": "thread.started", "thread_id": "0199a000-0000-7000-8000-00000000c0de"}
        )
        stdout += _line({"type": "turn.started"})
        stdout += _line({"type": "error", "message": e.text})
        stdout += _line({"type": "turn.failed", "error": {"message": e.text}})
    elif e.channel == "json-body":
        stderr = e.text + "\n"
    elif e.channel == "stderr-json":  # gemini --output-format json: pretty-printed, on stderr
        code = e.exit_code if e.exit_code not in (0, 1) else 1
        status = {173: 429, 144: 400}.get(code, code)
        stderr = json.dumps(
            {"error": {"type": "Error", "message": e.text, "code": status}}, indent=2
        )
        stderr += "\n"
    elif e.channel == "stderr":
        stderr = e.text + "\n"
    elif e.channel == "stdout":
        stdout = e.text + "\n"
    else:  # pragma: no cover - the data test rejects unknown channels
        raise ValueError(f"unknown channel {e.channel!r} in entry {e.id!r}")
    return stdout, stderr, e.exit_code


def reset_ok(e: Entry, got: float | None) -> bool:
    """Whether a parsed reset (epoch seconds or None) is the answer e expects."""
    if e.reset_max_days is not None:
        return got is None or e.at < got <= e.at + e.reset_max_days * 86400
    if e.reset_range_days is not None:
        lo, hi = e.reset_range_days
        return got is None or e.at + lo * 86400 <= got <= e.at + hi * 86400
    if e.reset is not None:
        return got is not None and abs(got - e.reset) < EXACT_SECONDS
    if e.reset_implied is not None:
        return got is None or abs(got - e.reset_implied) < EXACT_SECONDS
    return got is None
