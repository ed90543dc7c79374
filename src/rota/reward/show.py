"""A session's grade, trajectory and workspace for a person (`rota sessions SESSION_ID`).

What a graded session stores (`rota sessions --json` shows it as is):
  signals.grade       {"reward", "gains": {name: {value, weight, reason}}, "penalties": {…}}
  signals.reasons     the grade's reasons, one line each
  signals.judge       the judge's verdict (rota.reward.judge.Verdict.to_dict), when one was asked
  signals.followup    the delayed signals (rota.reward.score.FollowUp.to_dict), once looked at
  signals.errors      what could not be measured, by signal
  detail.trajectory   rota.trajectory.record.Trajectory.to_dict()
  detail.workspace    rota.trajectory.record.WorkspaceSummary.to_dict()
  detail.cost         {"tokens", "usd", "source"}: the measured cost

`describe(session)` takes a session as `SessionRecord.to_dict()` gives it and returns the lines to
print; anything missing or malformed is left out, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rota.config.schema import GAINS, PENALTIES

INDENT = "  "


def _ordered(parts: Mapping[str, Any], order: Any) -> list[tuple[str, Any]]:
    """Gains and penalties in their documented order (stored JSON sorts its keys)."""
    known = list(order)
    return sorted(
        parts.items(), key=lambda kv: (known.index(kv[0]) if kv[0] in known else len(known), kv[0])
    )


def _m(d: Any, key: str) -> Mapping[str, Any]:
    v = d.get(key) if isinstance(d, Mapping) else None
    return v if isinstance(v, Mapping) else {}


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _tokens(n: float) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else f"{n:.0f}"


def _suite(d: Mapping[str, Any]) -> str:
    if not d:
        return "not run"
    if d.get("error"):
        return f"not measured ({d['error']})"
    state = "timed out" if d.get("timed_out") else ("passing" if d.get("passed") else "failing")
    p, f = d.get("tests_passed"), d.get("tests_failed")
    return state + (
        f" ({p or 0} passed, {f or 0} failed)" if p is not None or f is not None else ""
    )


def gain_values(signals: Mapping[str, Any]) -> dict[str, float]:
    """Each measured gain's value (in [0, 1]) and, negated, each penalty: for one-line summaries."""
    g = _m(signals, "grade")
    out: dict[str, float] = {}
    for name, p in _m(g, "gains").items():
        v = _num(p.get("value")) if isinstance(p, Mapping) else None
        if v is not None:
            out[name] = v
    for name, p in _m(g, "penalties").items():
        v = _num(p.get("value")) if isinstance(p, Mapping) else None
        if v is not None:
            out[name] = -v
    return out


def grade_lines(signals: Mapping[str, Any], reward: float | None) -> list[str]:
    g = _m(signals, "grade")
    if not g:
        return []
    head = "Grade " + ("none" if reward is None else f"{reward:.2f}")
    out = [head]
    for name, p in _ordered(_m(g, "gains"), GAINS):
        if not isinstance(p, Mapping):
            continue
        v, w = _num(p.get("value")), _num(p.get("weight"))
        if v is None:
            continue
        weight = f"× {w:g}" if w else "(weight 0: not counted)"
        out.append(f"{INDENT}+ {name:<9} {v:.2f} {weight:<7} {p.get('reason', '')}")
    for name, p in _ordered(_m(g, "penalties"), PENALTIES):
        if not isinstance(p, Mapping):
            continue
        v = _num(p.get("value"))
        if v is not None:
            out.append(f"{INDENT}− {name:<9} {v:.2f}         {p.get('reason', '')}")
    return out


def trajectory_lines(t: Mapping[str, Any]) -> list[str]:
    if not t:
        return []
    src = t.get("source") or "none"
    if src == "none":
        notes = "; ".join(str(x) for x in t.get("notes") or [])
        return [f"Trajectory: not reported by the harness{': ' + notes if notes else ''}"]
    parts = []
    if _num(t.get("turns")) is not None:
        parts.append(f"{t['turns']} turns" + (" (turn limit hit)" if t.get("turn_limit") else ""))
    calls = _num(t.get("tool_calls"))
    if calls is not None:
        errs = _num(t.get("tool_errors")) or 0
        tools = t.get("tools") if isinstance(t.get("tools"), Mapping) else {}
        by = ", ".join(f"{k} {v}" for k, v in sorted(tools.items(), key=lambda x: -x[1])[:6])
        parts.append(f"{calls:.0f} tool calls ({errs:.0f} failed)" + (f": {by}" if by else ""))
    out = [f"Trajectory ({src}): " + ("; ".join(parts) or "nothing counted")]
    usage = _m(t, "usage")
    cost = _num(t.get("cost_usd"))
    if usage or cost is not None:
        bits = []
        if _num(usage.get("total")):
            bits.append(
                f"{_tokens(usage['total'])} tokens (in {_tokens(usage.get('input_tokens') or 0)}, "
                f"out {_tokens(usage.get('output_tokens') or 0)})"
            )
        if cost is not None:
            bits.append(f"${cost:.4f}")
        out.append(INDENT + ", ".join(bits))
    if t.get("model"):
        out.append(f"{INDENT}model reported: {t['model']}")
    failed = [c for c in t.get("commands") or [] if isinstance(c, Mapping) and c.get("ok") is False]
    for c in failed[:3]:
        code = f" (exit {c['exit_code']})" if c.get("exit_code") is not None else ""
        out.append(f"{INDENT}failed: {str(c.get('text', ''))[:100]}{code}")
    for url in (t.get("prs") or [])[:3]:
        out.append(f"{INDENT}pull request: {url}")
    final = str(t.get("final_message") or "").strip()
    if final:
        first = final.splitlines()[0]
        more = "…" if len(first) > 160 or "\n" in final else ""
        out.append(f"{INDENT}final message: {first[:160]}{more}")
    return out


def workspace_lines(w: Mapping[str, Any]) -> list[str]:
    if not w:
        return []
    if w.get("git") is False:
        return ["Workspace: not a git repository"]
    n = w.get("commits") or 0
    out = [
        f"Workspace: {n} commit{'s' if n != 1 else ''}, +{w.get('lines_added') or 0} "
        f"−{w.get('lines_removed') or 0} lines in {w.get('files_touched') or 0} "
        + ("file" if w.get("files_touched") == 1 else "files")
        + (f", {w['uncommitted_files']} uncommitted" if w.get("uncommitted_files") else "")
    ]
    for m in (w.get("commit_messages") or [])[:8]:
        out.append(f"{INDENT}- {m}")
    before, after = _m(w, "tests_before"), _m(w, "tests_after")
    if before or after:
        out.append(f"{INDENT}tests: {_suite(before)} → {_suite(after)}")
    if w.get("pushed_refs"):
        out.append(f"{INDENT}pushed: {', '.join(w['pushed_refs'][:3])}")
    return out


def judge_lines(v: Mapping[str, Any]) -> list[str]:
    if not v:
        return []
    arm, status = v.get("arm", "?"), v.get("status", "?")
    if _num(v.get("score")) is not None:
        out = [f"Judge {arm}: {v['score']:.2f}"]
        out += [f"{INDENT}- {r}" for r in (v.get("reasons") or [])[:6]]
        return out
    return [f"Judge {arm}: {status}" + (f" ({v['error']})" if v.get("error") else "")]


def followup_lines(f: Mapping[str, Any]) -> list[str]:
    if not f:
        return []
    bits = []
    if f.get("reverted"):
        bits.append(f"{f['reverted']} commit(s) reverted")
    if f.get("on_default_branch") is True:
        bits.append("on the default branch")
    elif f.get("on_default_branch") is False:
        bits.append("not on the default branch in time")
    if f.get("pr_merged") is True:
        bits.append("pull request merged")
    out = ["Follow-up: " + (", ".join(bits) or "nothing changed yet")]
    out += [f"{INDENT}{n}" for n in (f.get("notes") or [])[:3]]
    return out


def describe(session: Mapping[str, Any]) -> list[str]:
    """Every section that the session has, in reading order."""
    signals, detail = _m(session, "signals"), _m(session, "detail")
    reward = _num(session.get("reward"))
    out: list[str] = []
    for section in (
        grade_lines(signals, reward),
        judge_lines(_m(signals, "judge")),
        followup_lines(_m(signals, "followup")),
        trajectory_lines(_m(detail, "trajectory")),
        workspace_lines(_m(detail, "workspace")),
    ):
        out += section
    errors = _m(signals, "errors")
    for k, v in errors.items():
        out.append(f"Not measured: {k}: {v}")
    return out


__all__ = [
    "describe",
    "gain_values",
    "followup_lines",
    "grade_lines",
    "judge_lines",
    "trajectory_lines",
    "workspace_lines",
]
