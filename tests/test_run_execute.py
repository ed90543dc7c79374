"""rota.session.execute in-process: argv templates, bounded capture, stray processes, stdin, timeouts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rota.session.argv import MAX_ARG_BYTES, ArgvTooLong, build_argv
from rota.session.execute import Capture, LogFile, run_process
from rota.session.groups import group_members
from rota.session.stop import StopFlag


def test_build_argv_substitutes_once_per_element() -> None:
    values = {"model": "opus", "prompt": "say {model} and {category}", "category": "code"}
    argv = build_argv(
        ["x", "--model={model}", "{prompt}", "{other}", "{category}{category}"], values
    )
    assert argv == ["x", "--model=opus", "say {model} and {category}", "{other}", "codecode"]


def test_an_argument_too_long_for_exec_names_the_fix() -> None:
    with pytest.raises(ArgvTooLong, match=r"\{prompt_file\}"):
        build_argv(["x", "{prompt}"], {"prompt": "a" * (MAX_ARG_BYTES + 1)})
    assert build_argv(["x", "{prompt}"], {"prompt": "a" * MAX_ARG_BYTES})[1] == "a" * MAX_ARG_BYTES


def test_the_git_dirs_are_where_the_workspace_commits_go(tmp_path: Path) -> None:
    """{git_dir} {git_common_dir} (codex's --add-dir, so that its sandbox lets it commit): a
    repository's .git; a linked worktree's own git dir and the main repository's .git (its own
    `.git` is a file); the workspace itself outside git."""
    import subprocess

    from rota.session.plan import git_dirs

    def git(cwd: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    repo, plain = tmp_path / "repo", tmp_path / "plain"
    (repo / "sub").mkdir(parents=True)
    plain.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "x")
    git(repo, "worktree", "add", "-q", "-b", "agent", str(tmp_path / "wt"))
    assert (tmp_path / "wt" / ".git").is_file()
    dot_git = str((repo / ".git").resolve())
    both = {"git_dir": dot_git, "git_common_dir": dot_git}
    assert git_dirs(repo) == git_dirs(repo / "sub") == both
    assert git_dirs(tmp_path / "wt") == {
        "git_dir": str((repo / ".git" / "worktrees" / "wt").resolve()),
        "git_common_dir": dot_git,
    }
    assert git_dirs(plain) == {"git_dir": str(plain), "git_common_dir": str(plain)}


def test_capture_keeps_the_head_and_the_tail() -> None:
    cap = Capture(head=10, tail=10)
    for i in range(100):
        cap.add(f"{i:02d}\n".encode())
    text = cap.text()
    assert text.startswith("00\n01\n02\n") and text.endswith("98\n99\n")
    assert cap.truncated and len(text) <= 20


def test_strays_left_in_the_group_are_stopped_and_do_not_hang_the_run(tmp_path: Path) -> None:
    # The "harness" exits at once but leaves a background child holding its stdout open.
    pid_file = tmp_path / "bg.pid"
    script = f"sleep 600 & echo $! > {pid_file}; echo started"
    log = LogFile(tmp_path / "s.log")
    res = run_process(["sh", "-c", script], cwd=tmp_path, kill_grace_s=2, log=log)
    log.close()
    assert res.exit_code == 0 and res.stdout == "started\n"
    assert not group_members(res.pid or 0)
    assert "left running in its group" in (tmp_path / "s.log").read_text()


def test_stdin_data_and_stderr_prefix_in_the_log(tmp_path: Path) -> None:
    code = "import sys; d = sys.stdin.read(); print(d.upper()); print('warn', file=sys.stderr)"
    log = LogFile(tmp_path / "s.log")
    res = run_process([sys.executable, "-c", code], cwd=tmp_path, stdin_data=b"hi", log=log)
    log.close()
    assert res.stdout == "HI\n" and res.stderr == "warn\n"
    text = (tmp_path / "s.log").read_text()
    assert "HI\n" in text and "[stderr] warn\n" in text


def test_a_stop_request_before_the_deadline_interrupts(tmp_path: Path) -> None:
    stop = StopFlag()
    stop.request()
    res = run_process(["sleep", "600"], cwd=tmp_path, stop=stop, kill_grace_s=2)
    assert res.interrupted and not res.timed_out and res.signal is not None


def test_a_missing_executable_or_directory_is_reported_not_raised(tmp_path: Path) -> None:
    res = run_process(["no-such-program-xyz"], cwd=tmp_path)
    assert not res.started and "executable not found" in (res.error or "")
    res = run_process(["true"], cwd=tmp_path / "missing")
    assert not res.started and "working directory" in (res.error or "")
