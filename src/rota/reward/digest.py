"""The compact digest of a session that the LLM judge reads: the task, the diff stat and commit
messages, the test results, a tool-call summary and the agent's final message. Pure and bounded
(about DIGEST_MAX characters whatever the session did)."""

from __future__ import annotations

from rota.trajectory.record import SuiteRun, Trajectory, WorkspaceSummary, clip

DIGEST_MAX = 8000
TASK_MAX = 1500
DIFFSTAT_MAX = 1500
FINAL_MAX = 1500
MESSAGES_MAX = 15
FAILED_COMMANDS_MAX = 5


def _suite(run: SuiteRun | None) -> str:
    if run is None:
        return "not run"
    if run.error:
        return f"could not be measured ({run.error})"
    counts = ""
    if run.tests_passed is not None or run.tests_failed is not None:
        counts = f" ({run.tests_passed or 0} passed, {run.tests_failed or 0} failed)"
    state = "timed out" if run.timed_out else ("pass" if run.passed else "fail")
    return state + counts


def digest(task: str, t: Trajectory, w: WorkspaceSummary, diffstat: str = "") -> str:
    lines = ["## Task", clip(task, TASK_MAX) or "(not recorded)", "", "## Changes"]
    if not w.git:
        lines.append("The workspace is not a git repository: changes were not measured.")
    else:
        lines.append(
            f"{w.commits or 0} commits; {w.lines_added or 0} lines added, "
            f"{w.lines_removed or 0} removed, in {w.files_touched or 0} files; "
            f"{w.uncommitted_files or 0} files left uncommitted."
        )
        for m in w.commit_messages[:MESSAGES_MAX]:
            lines.append(f"- commit: {m}")
        if len(w.commit_messages) > MESSAGES_MAX:
            lines.append(f"- … {len(w.commit_messages) - MESSAGES_MAX} more commits")
        if diffstat.strip():
            lines += ["", "Diff stat:", clip(diffstat, DIFFSTAT_MAX)]
        if w.pushed_refs:
            lines.append(f"Pushed: {', '.join(w.pushed_refs[:5])}")
    lines += [
        "",
        "## Tests",
        f"Before the session: {_suite(w.tests_before)}.",
        f"After the session: {_suite(w.tests_after)}.",
        "",
        "## Tool calls",
    ]
    if t.tool_calls is None:
        lines.append("Not reported by this harness.")
    else:
        by_tool = ", ".join(
            f"{name} {n}" + (f" ({t.tool_failures[name]} failed)" if t.tool_failures.get(name) else "")
            for name, n in sorted(t.tools.items(), key=lambda x: -x[1])[:12]
        )
        lines.append(
            f"{t.tool_calls} calls, {t.tool_errors or 0} failed"
            + (f": {by_tool}" if by_tool else "")
            + "."
        )
        failed = [c for c in t.commands if c.ok is False][:FAILED_COMMANDS_MAX]
        for c in failed:
            code = f" (exit {c.exit_code})" if c.exit_code is not None else ""
            lines.append(f"- failed: {clip(c.text, 160)}{code}")
    if t.turns is not None:
        lines.append(f"Turns: {t.turns}" + (" (stopped by the turn limit)" if t.turn_limit else ""))
    if t.prs:
        lines.append(f"Pull requests opened: {', '.join(t.prs[:3])}")
    lines += ["", "## The agent's final message", clip(t.final_message, FINAL_MAX) or "(none)"]
    return clip("\n".join(lines), DIGEST_MAX)


__all__ = ["digest"]
