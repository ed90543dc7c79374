"""The trajectory summary: one record per session, whatever harness ran it.

A harness reader (rota.trajectory.readers) fills in what its CLI reports; the workspace reader
(rota.trajectory.workspace) adds what the session left in the git workspace. A field is None when
nothing reported it: unknown is never read as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

MAX_COMMANDS = 40  # commands kept in the record (the first and the last ones)
MAX_TEXT = 300  # characters of a command kept
MAX_OUTPUT = 400  # characters of a command's output kept
MAX_FINAL = 2000  # characters of the final message kept


def clip(text: str, n: int) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 1] + "…"


@dataclass(slots=True)
class Usage:
    """Tokens the session used, as the harness counted them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.reasoning_tokens
        )

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_write_tokens += other.cache_write_tokens
        self.reasoning_tokens += other.reasoning_tokens

    def to_dict(self) -> dict[str, int]:
        d = asdict(self)
        d["total"] = self.total
        return d


@dataclass(slots=True)
class Command:
    """One tool call worth keeping: a shell command (or another tool) and how it ended."""

    tool: str
    text: str
    ok: bool | None = None
    exit_code: int | None = None
    output: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"tool": self.tool, "text": self.text, "ok": self.ok}
        if self.exit_code is not None:
            d["exit_code"] = self.exit_code
        if self.output:
            d["output"] = self.output
        return d


@dataclass(slots=True)
class Trajectory:
    """What the session did, as its harness reported it.

    source        what was read ("claude-code stream-json", "codex exec --json + rollout", "none")
    turns         model turns (assistant messages, or the harness's own count)
    tool_calls    tool calls made; tool_errors: how many of them failed
    tools         calls by tool name; tool_failures: failures by tool name
    commands      the shell commands (first and last MAX_COMMANDS), with exit codes where known
    files_edited  files the harness itself reported changing (codex file_change, edit tools)
    final_message the agent's last message (clipped)
    verdict       the harness's own verdict: True ok, False error, None not reported
    turn_limit    the session stopped on the harness's turn limit
    usage         tokens; cost_usd: money, where the harness reports it
    prs           pull/merge request URLs printed by the command that opened them
    pushes        successful `git push` commands
    harness_commits  commits the harness made itself and reported (aider)
    notes         what could not be read, and why
    """

    source: str = "none"
    turns: int | None = None
    tool_calls: int | None = None
    tool_errors: int | None = None
    tools: dict[str, int] = field(default_factory=dict)
    tool_failures: dict[str, int] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    commands_total: int = 0
    files_edited: int | None = None
    messages: int | None = None
    final_message: str = ""
    verdict: bool | None = None
    turn_limit: bool = False
    model: str | None = None
    usage: Usage | None = None
    cost_usd: float | None = None
    prs: list[str] = field(default_factory=list)
    pushes: int = 0
    harness_commits: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # -- building -------------------------------------------------------------------------------

    def tool(self, name: str, ok: bool | None) -> None:
        """Count one tool call (ok None: its result was never seen)."""
        self.tool_calls = (self.tool_calls or 0) + 1
        self.tools[name] = self.tools.get(name, 0) + 1
        if self.tool_errors is None:
            self.tool_errors = 0
        if ok is False:
            self.tool_errors += 1
            self.tool_failures[name] = self.tool_failures.get(name, 0) + 1

    def command(self, cmd: Command) -> None:
        """Keep a command: the first MAX_COMMANDS/2 and the last MAX_COMMANDS/2."""
        cmd.text = clip(cmd.text, MAX_TEXT)
        cmd.output = clip(cmd.output, MAX_OUTPUT)
        self.commands_total += 1
        self.commands.append(cmd)
        if len(self.commands) > MAX_COMMANDS:
            del self.commands[MAX_COMMANDS // 2]

    def add_usage(self, usage: Usage) -> None:
        if self.usage is None:
            self.usage = Usage()
        self.usage.add(usage)

    def set_final(self, text: str) -> None:
        if text and text.strip():
            self.final_message = clip(text, MAX_FINAL)

    # -- reading --------------------------------------------------------------------------------

    def cost_summary(self) -> dict[str, Any] | None:
        """The session's measured cost as recorded with it: tokens, and dollars where the
        harness reported them. None when it reported neither."""
        if self.usage is None and self.cost_usd is None:
            return None
        d: dict[str, Any] = {"source": self.source}
        if self.usage is not None:
            d["tokens"] = self.usage.total
            d["input_tokens"] = self.usage.input_tokens
            d["output_tokens"] = self.usage.output_tokens
        if self.cost_usd is not None:
            d["usd"] = round(self.cost_usd, 6)
        return d

    @property
    def error_rate(self) -> float | None:
        if not self.tool_calls or self.tool_errors is None:
            return None
        return self.tool_errors / self.tool_calls

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "commands":
                v = [c.to_dict() for c in v]
            elif f.name == "usage":
                v = v.to_dict() if v is not None else None
            d[f.name] = v
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Trajectory:
        """A stored trajectory back (unknown keys ignored, bad values dropped: never raises)."""
        t = cls()
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            try:
                if f.name == "commands":
                    v = [
                        Command(
                            str(c.get("tool", "")),
                            str(c.get("text", "")),
                            c.get("ok"),
                            c.get("exit_code"),
                            str(c.get("output", "")),
                        )
                        for c in v
                        if isinstance(c, Mapping)
                    ]
                elif f.name == "usage":
                    v = (
                        None
                        if not isinstance(v, Mapping)
                        else Usage(
                            **{
                                k: int(v.get(k) or 0)
                                for k in (
                                    "input_tokens",
                                    "output_tokens",
                                    "cache_read_tokens",
                                    "cache_write_tokens",
                                    "reasoning_tokens",
                                )
                            }
                        )
                    )
                elif f.name in ("tools", "tool_failures"):
                    v = {str(k): int(n) for k, n in dict(v).items()}
                elif f.name in ("prs", "harness_commits", "notes"):
                    v = [str(x) for x in v]
                setattr(t, f.name, v)
            except (TypeError, ValueError, AttributeError):
                continue
        return t


@dataclass(slots=True)
class SuiteRun:
    """One run of [run] test_command: did it pass, and the counts when its output has them."""

    passed: bool
    exit_code: int | None = None
    tests_passed: int | None = None
    tests_failed: int | None = None
    timed_out: bool = False
    error: str = ""  # could not start, interrupted

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, d: Any) -> SuiteRun | None:
        if not isinstance(d, Mapping) or not isinstance(d.get("passed"), bool):
            return None
        return cls(
            passed=d["passed"],
            exit_code=d.get("exit_code"),
            tests_passed=d.get("tests_passed"),
            tests_failed=d.get("tests_failed"),
            timed_out=bool(d.get("timed_out", False)),
            error=str(d.get("error", "")),
        )


@dataclass(slots=True)
class WorkspaceSummary:
    """What the session left in the workspace (git): commits, size of the change, tests, pushes.

    lines_* and files_touched cover committed and uncommitted changes together; the
    uncommitted_* fields are the part not committed.
    """

    git: bool = True
    commits: int | None = None
    commit_messages: list[str] = field(default_factory=list)
    commit_shas: list[str] = field(default_factory=list)
    lines_added: int | None = None
    lines_removed: int | None = None
    files_touched: int | None = None
    committed_files: int | None = None
    uncommitted_files: int | None = None
    uncommitted_lines: int | None = None
    reverted: int = 0  # commits of this session that revert one of its own earlier commits
    pushed_refs: list[str] = field(default_factory=list)  # remote-tracking refs that moved
    branch: str | None = None
    head_before: str | None = None
    head_after: str | None = None
    tests_before: SuiteRun | None = None
    tests_after: SuiteRun | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def committed_lines(self) -> int | None:
        if self.lines_added is None or self.lines_removed is None:
            return None
        return max(0, self.lines_added + self.lines_removed - (self.uncommitted_lines or 0))

    @property
    def changed(self) -> bool:
        """Did the session change anything at all (committed or not)?"""
        return bool(self.commits) or bool(self.files_touched)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("tests_before", "tests_after"):
                v = v.to_dict() if v is not None else None
            d[f.name] = v
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> WorkspaceSummary:
        w = cls()
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.name in ("tests_before", "tests_after"):
                v = SuiteRun.from_dict(v)
            elif f.name in ("commit_messages", "commit_shas", "pushed_refs", "notes"):
                v = [str(x) for x in v] if isinstance(v, list) else []
            setattr(w, f.name, v)
        return w


_STORED_DEFAULTS: dict[str, dict[str, Any]] = {}


def stored_defaults() -> dict[str, dict[str, Any]]:
    """Each summary's fields with their defaults, as to_dict() gives them ("trajectory",
    "workspace"): the store leaves these out of a session's detail and puts them back
    (rota.store.base.compact_detail). Shared: copy a list or dict before changing it."""
    if not _STORED_DEFAULTS:
        _STORED_DEFAULTS["trajectory"] = Trajectory().to_dict()
        _STORED_DEFAULTS["workspace"] = WorkspaceSummary().to_dict()
    return _STORED_DEFAULTS


__all__ = ["Command", "SuiteRun", "Trajectory", "Usage", "WorkspaceSummary", "clip", "stored_defaults"]
