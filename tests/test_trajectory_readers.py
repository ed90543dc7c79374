"""The trajectory readers on what the seven real CLIs printed and wrote (tests/fixtures/
trajectories/, recorded against local provider mocks), and on broken input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rota.trajectory import HarnessOutput, Trajectory, read
from rota.trajectory.prs import note_command, note_text
from rota.trajectory.record import Command
from trajectory_replay import CLIS, FIXTURES, SCENARIOS, harness_output, load

PR = "https://github.com/acme/demo/pull/42"
# CLIs whose recorded sessions ran shell commands through the mock (aider edits files instead).
SHELL_CLIS = tuple(c for c in CLIS if c != "aider")


def traj(cli, scenario, tmp_path):
    return read(cli, harness_output(load(cli, scenario), tmp_path))


@pytest.mark.parametrize("cli", CLIS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_recording_is_read(cli, scenario, tmp_path):
    t = traj(cli, scenario, tmp_path)
    assert t.source != "none", t.notes
    assert t.turns and t.turns >= 1
    assert t.usage is not None and t.usage.total > 0
    assert t.tool_calls is not None and t.tool_errors is not None
    assert t.tool_errors <= t.tool_calls
    json.dumps(t.to_dict())  # storable as is
    assert Trajectory.from_dict(t.to_dict()).to_dict() == t.to_dict()


@pytest.mark.parametrize("cli", SHELL_CLIS)
def test_forty_failing_commands_are_counted_as_failures(cli, tmp_path):
    t = traj(cli, "failing-forty", tmp_path)
    # gemini and gptme were cut by the recording's timeout before the fortieth call
    assert t.tool_calls >= 25 and t.tool_errors == t.tool_calls
    assert all(c.ok is False for c in t.commands)
    assert t.commands[0].text.endswith("missing-config-1.toml")


@pytest.mark.parametrize("cli", SHELL_CLIS)
def test_the_pull_request_opened_by_gh_is_found(cli, tmp_path):
    t = traj(cli, "feature-pr", tmp_path)
    assert t.prs == [PR]
    assert t.tool_errors == 0 and t.tool_calls >= 4


@pytest.mark.parametrize("cli", CLIS)
def test_a_text_answer_has_no_tool_call_and_its_final_message(cli, tmp_path):
    t = traj(cli, "text", tmp_path)
    assert t.tool_calls == 0 and t.prs == []
    assert "4" in t.final_message


def test_claude_code_details(tmp_path):
    t = traj("claude-code", "failing-forty", tmp_path)
    assert t.turns == 41 and t.verdict is True and t.model == "claude-sonnet-5"
    assert t.tools == {"Bash": 40} and t.tool_failures == {"Bash": 40}
    assert t.cost_usd == pytest.approx(0.1722)
    assert t.commands[0].exit_code == 1
    assert t.final_message.startswith("None of the config files exist")


def test_codex_reads_the_rollout_for_calls_stdout_does_not_show(tmp_path):
    # Under the default sandbox .git is read-only: each commit fails, and codex's stdout leaves
    # some of the failed commands out. The rollout file has all four, with their exit codes.
    rec = load("codex", "feature-pr-sandboxed")
    shown = [x for x in rec["stdout"].splitlines() if '"item.completed"' in x and "command_" in x]
    t = read("codex", harness_output(rec, tmp_path))
    assert len(shown) < t.tool_calls
    assert t.source.endswith("+ rollout") and t.model == "gpt-5.5"
    assert t.tool_calls == 4 and t.tool_errors == 3
    assert [c.exit_code for c in t.commands] == [128, 128, 128, 0]
    assert t.usage.input_tokens + t.usage.cache_read_tokens == 10500


def test_codex_without_its_rollout_reads_stdout(tmp_path):
    rec = load("codex", "failing-forty")
    rec["artifacts"] = {}
    t = read("codex", harness_output(rec, tmp_path))
    assert t.source == "codex exec --json" and "rollout file" in t.notes[0]
    assert t.tool_calls == 40 and t.tool_errors == 40


def test_gemini_counts_nonzero_exits_its_stats_call_successes(tmp_path):
    rec = load("gemini", "failing-forty")
    assert rec["timed_out"] and rec["stdout"] == ""  # cut short: no JSON document at all
    t = read("gemini", harness_output(rec, tmp_path))
    assert t.source == "gemini chat file" and t.tool_errors == t.tool_calls >= 25


def test_gemini_stats_without_a_chat_file(tmp_path):
    rec = load("gemini", "feature-pr")
    rec["artifacts"] = {}
    t = read("gemini", harness_output(rec, tmp_path))
    assert t.source == "gemini json" and t.tool_calls == 4 and t.model == "gemini-2.5-pro"
    assert t.prs == []  # the commands are only in the chat file


def test_gemini_turn_limit_exit_code(tmp_path):
    t = read("gemini", HarnessOutput(stdout='{"response": "stopped"}', exit_code=53))
    assert t.turn_limit


def test_gptme_cost_turns_and_return_codes(tmp_path):
    t = traj("gptme", "failing-forty", tmp_path)
    assert t.cost_usd and t.cost_usd > 0.2 and t.model == "openai/gpt-4o"
    assert all(c.exit_code == 1 for c in t.commands)


def test_aider_tokens_cost_edits_and_its_own_commits(tmp_path):
    t = traj("aider", "feature-pr", tmp_path)
    assert t.harness_commits and t.harness_commits[0].split()[1:] == [
        "Add", "files", "requested", "by", "the", "user"
    ]
    assert t.files_edited == 1 and t.tools == {"edit": 1} and t.cost_usd == 0.0084
    assert t.usage.input_tokens == 2600 and t.usage.output_tokens == 190
    failing = traj("aider", "failing-forty", tmp_path / "f")
    assert failing.tool_errors and failing.tool_failures == {"edit": failing.tool_errors}


def test_copilot_events_and_plain_text_without_them(tmp_path):
    t = traj("copilot", "failing-forty", tmp_path)
    assert t.source == "copilot session events" and t.tool_errors == 40 and t.turns == 41
    rec = load("copilot", "feature-pr")
    rec["artifacts"] = {}
    plain = read("copilot", harness_output(rec, tmp_path / "p"))
    assert plain.source == "text output" and plain.tool_calls is None
    assert plain.prs == []  # -s prints the agent's words only: no command, no proof


def test_a_custom_command_is_read_as_text():
    out = "$ gh pr create --fill\nhttps://github.com/acme/demo/pull/7\nDone.\n"
    t = read("my-agent", HarnessOutput(stdout=out))
    assert t.source == "text output" and t.prs == ["https://github.com/acme/demo/pull/7"]
    assert t.final_message.endswith("Done.")
    claim = read("my-agent", HarnessOutput(stdout="I opened https://github.com/a/b/pull/1\n"))
    assert claim.prs == []


def test_pr_and_push_detection_from_commands():
    t = Trajectory()
    note_command(t, Command("Bash", "gh pr create --fill", True, 0, f"{PR}\n"))
    note_command(t, Command("Bash", "gh pr create --fill", False, 1, "https://x/y/z/pull/3"))
    note_command(t, Command("Bash", "echo https://x/y/z/pull/4", True, 0, "https://x/y/z/pull/4"))
    note_command(t, Command("Bash", "git push -u origin feature", True, 0, ""))
    note_command(t, Command("Bash", "git push", False, 1, "rejected"))
    assert t.prs == [PR] and t.pushes == 1
    note_text(t, "glab mr create\nhttps://gitlab.example/g/p/-/merge_requests/9\n")
    assert t.prs[-1].endswith("merge_requests/9")


def test_a_reader_reads_the_session_log_in_full(tmp_path):
    # rota keeps only a bounded tail of stdout in memory; the log file has everything.
    rec = load("claude-code", "failing-forty")
    log = tmp_path / "session.log"
    log.write_text(
        "[rota] session 1 started\n" + rec["stdout"] + "[stderr] some warning\n[rota] harness: exit 0\n"
    )
    t = read("claude-code", HarnessOutput(log_path=log, stdout="(only the tail)"))
    assert t.tool_errors == 40


def test_missing_log_file_falls_back_to_the_kept_output(tmp_path):
    rec = load("claude-code", "text")
    t = read("claude-code", HarnessOutput(log_path=tmp_path / "gone.log", stdout=rec["stdout"]))
    assert t.source == "claude-code stream-json" and t.turns == 1


@pytest.mark.parametrize("cli", [*CLIS, "custom"])
def test_empty_output_is_nothing_read(cli):
    t = read(cli, HarnessOutput())
    assert t.source == "none" and t.tool_calls in (None, 0)


@settings(max_examples=60, deadline=None)
@given(
    cli=st.sampled_from([*CLIS, "custom"]),
    lines=st.lists(
        st.one_of(
            st.text(max_size=80),
            st.dictionaries(
                st.sampled_from(["type", "item", "part", "message", "stats", "payload", "data"]),
                st.one_of(
                    st.none(),
                    st.integers(),
                    st.text(max_size=20),
                    st.lists(st.integers(), max_size=3),
                    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
                ),
                max_size=4,
            ).map(json.dumps),
        ),
        max_size=12,
    ),
)
def test_garbage_never_raises(cli, lines):
    t = read(cli, HarnessOutput(stdout="\n".join(lines), exit_code=1))
    assert isinstance(t, Trajectory)
    assert not any("reader failed" in n for n in t.notes), t.notes


def test_fixtures_hold_no_host_paths():
    for f in FIXTURES.rglob("*.json"):
        text = f.read_text()
        assert "/tmp/tmp" not in text, f
