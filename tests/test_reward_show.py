"""A session's grade for a person (rota.reward.show)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from rota.reward.show import describe
from trajectory_replay import load, replay


def test_a_graded_session_reads_top_to_bottom(tmp_path):
    r = replay(load("codex", "failing-forty"), tmp_path, check="true")
    session = json.loads(
        json.dumps(
            {
                "reward": r.graded.reward,
                "signals": {
                    "grade": r.graded.to_dict(),
                    "judge": {"arm": "claude-code:haiku", "status": "timed_out", "error": "judge timed out after 120s"},
                    "followup": {"reverted": 0, "on_default_branch": None, "notes": []},
                    "errors": {"judge": "judge timed out after 120s"},
                },
                "detail": {"trajectory": r.trajectory.to_dict(), "workspace": r.workspace.to_dict()},
            }
        )
    )
    text = "\n".join(describe(session))
    assert text.startswith(f"Grade {r.graded.reward:.2f}")
    for part in (
        "− error_storm",
        "40 of 40 tool calls failed",
        "Judge claude-code:haiku: timed_out (judge timed out after 120s)",
        "Follow-up: nothing changed yet",
        "40 tool calls (40 failed)",
        "failed: cat missing-config-1.toml (exit 1)",
        "tests: passing → passing",
        "Not measured: judge",
    ):
        assert part in text, part


def test_an_ungraded_session_shows_nothing_it_lacks():
    assert describe({"reward": None, "signals": {}, "detail": {}}) == []


@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(["grade", "gains", "penalties", "judge", "followup", "errors",
                                 "trajectory", "workspace", "value", "weight", "reason", "tools",
                                 "commands", "usage", "tests_before", "source", "score"]),
                inner,
                max_size=4,
            ),
        ),
        max_leaves=20,
    )
)
def test_malformed_records_never_raise(blob):
    lines = describe({"reward": 0.5, "signals": blob, "detail": blob} if isinstance(blob, dict) else {"signals": blob})
    assert isinstance(lines, list)
