"""The grading step (rota.session.grading) on a real workspace: a recorded real CLI session replayed,
the test command before and after, a grader command and a stand-in judge."""

from __future__ import annotations

import dataclasses
import sys
import time

from rota.harnesses.registry import profile_for
from rota.reward.settings import DEFAULT
from rota.session.execute import ProcessResult
from rota.session.grading import Commands, JudgeSetup, grade_run, grading_env, prepare
from trajectory_replay import git, harness_output, load, make_workspace

MODELS = {"claude-code": "sonnet", "codex": "gpt-5.5"}
CHECK = "test -f app/parser.py && test -f app/formatter.py && test -f app/cli.py"


def session(tmp_path, *, grader=(), judge=None, settings=DEFAULT, cli="claude-code", scenario="feature-pr"):
    rec = load(cli, scenario)
    ws = tmp_path / "workspace"
    make_workspace(ws, CHECK)
    run = Commands(env=grading_env({"session_id": 1}, ws), timeout_s=30)
    test = ("sh", "check.sh")
    base = prepare(ws, test, settings.with_(test_before=True), run)
    for c in rec["commits"]:  # what the session did to the workspace
        for f in c["files"]:
            (ws / f).parent.mkdir(parents=True, exist_ok=True)
            (ws / f).write_text(rec["workspace_files"].get(f, ""))
        git(ws, "add", "--", *c["files"])
        git(ws, "commit", "-q", "-m", c["subject"])
    out = harness_output(rec, tmp_path)
    res = ProcessResult(argv=["claude"], started_at=time.time() - 5, ended_at=time.time(),
                        exit_code=rec["exit_code"], stdout=out.stdout, stderr=out.stderr)
    return grade_run(
        workspace=ws, base=base, result=res, reader=cli, harness_env=out.env, log_path=None,
        task="Implement the parser, the formatter and the CLI.", arm=f"{cli}:{MODELS[cli]}",
        meta={"session_id": 1}, settings=settings, test_command=test, grader_command=grader,
        run=run, judge=judge,
    )


def test_a_session_graded_from_its_trajectory_and_workspace(tmp_path):
    g = session(tmp_path)
    assert g.reward > 0.8 and not g.interrupted
    assert g.workspace.tests_before.passed is False and g.workspace.tests_after.passed
    assert g.signals["grade"]["gains"]["tests"]["value"] == 1.0
    assert any("pull request opened" in r for r in g.signals["reasons"])
    assert g.detail["cost"]["usd"] > 0 and g.detail["trajectory"]["tool_calls"] == 4
    assert g.detail["workspace"]["commits"] == 3 and "errors" not in g.signals


def test_the_grader_command_gets_the_trajectory_and_counts(tmp_path):
    script = tmp_path / "grader.py"
    script.write_text(
        "import json, sys\n"
        "s = json.load(sys.stdin)\n"
        "print(0.2 if s['trajectory']['prs'] and s['workspace']['commits'] == 3 else 0.9)\n"
    )
    g = session(tmp_path / "a", grader=(sys.executable, str(script)))
    assert g.signals["grade"]["gains"]["grader"]["value"] == 0.2
    plain = session(tmp_path / "b")
    assert g.reward < plain.reward
    bad = session(tmp_path / "c", grader=(sys.executable, "-c", "print('great')"))
    assert bad.reward == plain.reward and "grader" in bad.signals["errors"]


def fake_claude(tmp_path, body):
    exe = tmp_path / "claude"
    exe.write_text(f"#!{sys.executable}\nimport json, sys, time\n{body}\n")
    exe.chmod(0o755)
    prof = dataclasses.replace(profile_for("claude-code"), executable=str(exe))
    return JudgeSetup("claude-code:haiku", "claude-code", prof, env={"PATH": "/usr/bin:/bin"}, timeout_s=3)


def test_the_judge_score_counts_and_its_failures_leave_the_rest(tmp_path):
    answer = "print(json.dumps({'type': 'result', 'is_error': False, 'result': '{\"score\": 0.1, \"reasons\": [\"no tests added\"]}', 'total_cost_usd': 0.001}))"
    judged = session(tmp_path / "j", cli="codex", judge=fake_claude(tmp_path, answer))
    plain = session(tmp_path / "p", cli="codex")
    assert judged.verdict.score == 0.1 and judged.signals["judge"]["reasons"] == ["no tests added"]
    assert judged.reward < plain.reward
    for i, body in enumerate(("time.sleep(30)", "print('no idea')", "sys.exit(2)")):
        failed = session(tmp_path / f"f{i}", cli="codex", judge=fake_claude(tmp_path, body))
        assert failed.reward == plain.reward and "judge" in failed.signals["errors"]
        assert failed.verdict.ran


def test_a_judge_of_the_same_family_is_skipped(tmp_path):
    g = session(tmp_path / "s", judge=fake_claude(tmp_path, "raise SystemExit(9)"))
    assert g.verdict.status == "skipped" and not g.verdict.ran
    assert "same family" in g.signals["errors"]["judge"]
    setup = fake_claude(tmp_path, "print(json.dumps({'type': 'result', 'result': '{\"score\": 1}'}))")
    anyway = session(tmp_path / "a", judge=dataclasses.replace(setup, exclude_same_family=False))
    assert anyway.verdict.score == 1.0
