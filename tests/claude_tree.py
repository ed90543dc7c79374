"""A real-shaped Claude Code projects tree (`~/.claude/projects`), for the log reader and the
side-by-side comparison with ccusage.

What Claude Code writes, and what this tree reproduces:
- one `<session>.jsonl` per session under `projects/<project>/`, one JSON object per line: user
  lines, assistant lines with `message.usage`, `requestId` and `message.id`;
- an assistant reply split into several lines (one per content block) that repeat the same
  `message.id` + `requestId` and usage: counted once;
- subagent turns in the session file itself (`isSidechain: true`, older versions) and, in newer
  versions, in `projects/<project>/<session>/subagents/agent-<id>.jsonl`;
- `<synthetic>` API-error lines ("Claude AI usage limit reached|<epoch>") with zero usage;
- long tool results, so one session file grows past 40 MB with usage spread through it.

`generate()` lays out `hours` of continuous work (a reply every 60-150 s, sessions back to back,
never a gap of 5 h, so 5-hour blocks chain) and returns what it wrote: every usage entry with
its timestamp and token count, so a test knows the truth without re-reading the files. One reply
lands exactly on the first block's start + 5 h. Deterministic for a given seed.

    python tests/claude_tree.py DIR [--hours 20] [--big-mb 40] [--start 2026-11-29T06:17:00Z]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = "-home-agent-workspace"
OTHER_PROJECT = "-home-agent-side-project"
CWD = "/home/agent/workspace"
VERSION = "2.1.197"
MODELS = ("claude-opus-4-7", "claude-sonnet-4-6")
SUBAGENT_MODEL = "claude-haiku-4-5"
BLOCK = timedelta(hours=5)


@dataclass(frozen=True)
class Usage:
    at: datetime
    tokens: int  # input + output + cache creation + cache read, as ccusage totals them
    model: str
    # "main", "sidechain" (in the session file), "subagent" (subagents/*.jsonl), or "synthetic"
    # (the zero-usage limit notice: ccusage counts it as an entry of its block)
    kind: str
    path: Path


@dataclass
class Tree:
    root: Path  # the config dir: set CLAUDE_CONFIG_DIR to it
    entries: list[Usage] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    big_file: Path | None = None
    boundary_entry: datetime | None = None  # a reply exactly at the first block's start + 5 h

    def tokens(self, kinds: tuple[str, ...] = ("main", "sidechain", "subagent")) -> int:
        return sum(u.tokens for u in self.entries if u.kind in kinds)


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class _Writer:
    def __init__(self, tree: Tree, rng: random.Random) -> None:
        self.tree = tree
        self.rng = rng
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n:06d}{self.rng.getrandbits(40):010x}"

    def usage(self) -> dict[str, int]:
        r = self.rng
        return {
            "input_tokens": r.randint(3, 60),
            "cache_creation_input_tokens": r.choice((0, 0, r.randint(200, 9000))),
            "cache_read_input_tokens": r.randint(5000, 60000),
            "output_tokens": r.randint(40, 2400),
        }

    def assistant(
        self,
        f,
        path: Path,
        session: str,
        at: datetime,
        model: str,
        kind: str,
        parent: str | None,
        agent_id: str | None = None,
    ) -> str:
        """One reply: one to three lines sharing message.id, requestId and usage."""
        usage = self.usage()
        mid, rid = self._id("msg_01"), self._id("req_011C")
        blocks = self.rng.choice((1, 1, 2, 3))
        uid = parent
        for i in range(blocks):
            uid = str(uuid.UUID(int=self.rng.getrandbits(128)))
            content = (
                {"type": "text", "text": "Working on it."}
                if i == 0
                else {
                    "type": "tool_use",
                    "id": self._id("toolu_"),
                    "name": "Bash",
                    "input": {"command": "pytest -q"},
                }
            )
            line = {
                "parentUuid": parent,
                "isSidechain": kind != "main",
                "userType": "external",
                "cwd": CWD,
                "sessionId": session,
                "version": VERSION,
                "gitBranch": "main",
                "type": "assistant",
                "requestId": rid,
                "message": {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [content],
                    "stop_reason": None if i < blocks - 1 else "tool_use",
                    "usage": {**usage, "service_tier": "standard"},
                },
                "uuid": uid,
                "timestamp": _ts(at + timedelta(milliseconds=300 * i)),
            }
            if agent_id:
                line["agentId"] = agent_id
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
            parent = uid
        self.tree.entries.append(Usage(at, sum(usage.values()), model, kind, path))
        return uid or ""

    def user(
        self, f, session: str, at: datetime, parent: str | None, pad: int = 0, side=False
    ) -> str:
        uid = str(uuid.UUID(int=self.rng.getrandbits(128)))
        content: object = "Continue with the next task in tasks/."
        if pad:
            # A long tool result (a test log): what makes session files grow to tens of MB.
            body = "".join(
                f"tests/test_{i % 97}.py::test_case_{i} PASSED [{i % 100:3d}%]\n"
                for i in range(pad // 48 + 1)
            )[:pad]
            content = [
                {
                    "type": "tool_result",
                    "tool_use_id": self._id("toolu_"),
                    "content": body,
                    "is_error": False,
                }
            ]
        line = {
            "parentUuid": parent,
            "isSidechain": side,
            "userType": "external",
            "cwd": CWD,
            "sessionId": session,
            "version": VERSION,
            "type": "user",
            "message": {"role": "user", "content": content},
            "uuid": uid,
            "timestamp": _ts(at),
        }
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
        return uid


def generate(
    root: Path,
    start: datetime = datetime(2026, 11, 29, 6, 17, 23, tzinfo=UTC),
    hours: float = 20.0,
    big_mb: float = 40.0,
    seed: int = 13,
) -> Tree:
    """Write the tree under root/projects and return what was written (see the module doc)."""
    rng = random.Random(seed)
    tree = Tree(root=root)
    w = _Writer(tree, rng)
    proj = root / "projects" / PROJECT
    proj.mkdir(parents=True, exist_ok=True)
    end = start + timedelta(hours=hours)
    boundary = start.replace(minute=0, second=0, microsecond=0) + BLOCK
    tree.boundary_entry = boundary
    session_len = timedelta(hours=2, minutes=30)
    t = start
    index = 0
    while t < end:
        session = str(uuid.UUID(int=rng.getrandbits(128)))
        path = proj / f"{session}.jsonl"
        s_end = min(t + session_len, end)
        big = index == 0 and big_mb > 0
        # Replies to spread through the big file: pad each user turn to reach big_mb in total.
        replies = int((s_end - t).total_seconds() // 105) + 1
        pad = int(big_mb * 1024 * 1024 / replies) if big else 0
        with open(path, "w", encoding="utf-8") as f:
            parent: str | None = None
            boundary_done = not (t <= boundary < s_end)
            while t < s_end:
                if not boundary_done and t + timedelta(seconds=150) > boundary:
                    t = boundary  # one reply exactly at the first block's start + 5 h
                    boundary_done = True
                parent = w.user(f, session, t - timedelta(seconds=5), parent, pad)
                model = MODELS[0] if rng.random() < 0.6 else MODELS[1]
                parent = w.assistant(f, path, session, t, model, "main", parent)
                if index % 2 == 1 and rng.random() < 0.15:
                    # Older Claude Code: the Task subagent's turns in the same file.
                    at = t + timedelta(seconds=20)
                    side_parent = w.user(f, session, at - timedelta(seconds=2), parent, side=True)
                    w.assistant(f, path, session, at, SUBAGENT_MODEL, "sidechain", side_parent)
                t += timedelta(seconds=rng.randint(60, 150))
            if index == 2:
                # The usage-limit notice Claude Code logs: zero usage, not counted.
                limit_at = t - timedelta(seconds=30)
                reset = int((limit_at + timedelta(hours=2)).timestamp())
                line = {
                    "parentUuid": parent,
                    "isSidechain": False,
                    "cwd": CWD,
                    "sessionId": session,
                    "version": VERSION,
                    "type": "assistant",
                    "isApiErrorMessage": True,
                    "message": {
                        "id": w._id("msg_01"),
                        "type": "message",
                        "role": "assistant",
                        "model": "<synthetic>",
                        "content": [
                            {"type": "text", "text": f"Claude AI usage limit reached|{reset}"}
                        ],
                        "usage": {"input_tokens": 0, "output_tokens": 0},
                    },
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                    "timestamp": _ts(limit_at),
                }
                f.write(json.dumps(line, separators=(",", ":")) + "\n")
                tree.entries.append(Usage(limit_at, 0, "<synthetic>", "synthetic", path))
        tree.files.append(path)
        if big:
            tree.big_file = path
        if index % 2 == 0:
            _subagents(w, proj, session, t - session_len / 2, rng, tree)
        os.utime(path, (t.timestamp(), t.timestamp()))
        index += 1
    # A second project with one short session in the middle of the work.
    other = root / "projects" / OTHER_PROJECT
    other.mkdir(parents=True, exist_ok=True)
    session = str(uuid.UUID(int=rng.getrandbits(128)))
    path = other / f"{session}.jsonl"
    at = start + timedelta(hours=hours / 2)
    with open(path, "w", encoding="utf-8") as f:
        parent = None
        for _ in range(6):
            parent = w.user(f, session, at - timedelta(seconds=3), parent)
            parent = w.assistant(f, path, session, at, MODELS[1], "main", parent)
            at += timedelta(seconds=rng.randint(60, 150))
    tree.files.append(path)
    tree.entries.sort(key=lambda u: u.at)
    return tree


def snapshot_at(tree: Tree, dest: Path, at: datetime) -> Path:
    """The tree as it stood on disk at `at`: each file cut after its last line written by then
    (files not yet created are absent), with that line's time as its mtime. Returns the new
    config dir. Files grow by appending, so a later snapshot extends an earlier one."""
    cut = _ts(at)
    for path in tree.files:
        rel = path.relative_to(tree.root)
        kept: list[str] = []
        last = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                # Timestamps are fixed-width UTC: comparing the text orders them.
                stamp = line[line.rfind('"timestamp":"') + 13 :][:24]
                if stamp > cut:
                    break
                kept.append(line)
                last = stamp
        if not kept or last is None:
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(kept), encoding="utf-8")
        t = datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp()
        os.utime(out, (t, t))
    return dest


def _subagents(
    w: _Writer, proj: Path, session: str, at: datetime, rng: random.Random, tree: Tree
) -> None:
    """Newer Claude Code: each subagent's transcript in <session>/subagents/agent-<id>.jsonl."""
    sub = proj / session / "subagents"
    sub.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        agent = f"a{rng.getrandbits(24):06x}"
        path = sub / f"agent-{agent}.jsonl"
        t = at
        with open(path, "w", encoding="utf-8") as f:
            parent = None
            for _ in range(rng.randint(4, 9)):
                parent = w.user(f, session, t - timedelta(seconds=2), parent, side=True)
                parent = w.assistant(f, path, session, t, SUBAGENT_MODEL, "subagent", parent, agent)
                t += timedelta(seconds=rng.randint(20, 60))
        os.utime(path, (t.timestamp(), t.timestamp()))
        tree.files.append(path)
        at += timedelta(minutes=7)


def main() -> int:
    ap = argparse.ArgumentParser(description="Write a real-shaped Claude Code projects tree.")
    ap.add_argument("dir", type=Path, help="the config dir (projects/ is created inside)")
    ap.add_argument("--hours", type=float, default=20.0)
    ap.add_argument("--big-mb", type=float, default=40.0)
    ap.add_argument("--start", default="2026-11-29T06:17:23Z")
    args = ap.parse_args()
    start = datetime.fromisoformat(args.start.replace("Z", "+00:00"))
    tree = generate(args.dir, start=start, hours=args.hours, big_mb=args.big_mb)
    size = tree.big_file.stat().st_size if tree.big_file else 0
    print(
        f"{len(tree.files)} files, {len(tree.entries)} usage entries, "
        f"{tree.tokens():,} tokens ({tree.tokens(('sidechain', 'subagent')):,} in subagents); "
        f"largest file {size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
