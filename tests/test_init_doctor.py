"""The workspace: `rota init` chooses it with care and says which; `rota doctor` checks it, the
store, the timer and each harness, each with its fix."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BASIC_CONFIG, REPO, RotaEnv
from systemd_fakes import Env, run_cli


def _workspace_line(stdout: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith("workspace: "))


# -- init ---------------------------------------------------------------------------------------


def test_init_refuses_a_missing_folder_and_one_that_is_not_a_repository(rota_env: RotaEnv) -> None:
    missing = rota_env.root / "nope"
    proc = rota_env.run("init", "--workspace", str(missing))
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "git" in proc.stderr
    assert not rota_env.config.exists()
    proc = rota_env.run("init", "--workspace", str(rota_env.workspace))
    assert proc.returncode == 2 and "is not a git repository" in proc.stderr
    assert "--no-workspace-check" in proc.stderr and not rota_env.config.exists()
    # Unless told.
    proc = rota_env.run("init", "--workspace", str(missing), "--no-workspace-check", check=True)
    assert _workspace_line(proc.stdout) == f"workspace: {missing}"
    assert "does not exist (accepted: --no-workspace-check)" in proc.stdout


def test_a_stray_empty_git_folder_above_makes_no_repository(rota_env: RotaEnv) -> None:
    # An empty `.git` folder in a parent (seen in a shared /tmp) is no repository to git, so it
    # must not be one to rota either; a linked worktree's `.git` file is one.
    parent = rota_env.root / "shared-tmp"
    (parent / ".git").mkdir(parents=True)
    folder = parent / "work"
    folder.mkdir()
    proc = rota_env.run("init", "--workspace", str(folder))
    assert proc.returncode == 2 and "is not a git repository" in proc.stderr
    main = rota_env.root / "main-repo"
    subprocess.run(["git", "init", "-q", str(main)], check=True)
    subprocess.run(
        ["git", "-C", str(main), "commit", "-q", "--allow-empty", "-m", "first"],
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t",
        },
    )
    linked = rota_env.root / "linked"
    subprocess.run(["git", "-C", str(main), "worktree", "add", "-q", str(linked)], check=True)
    assert (linked / ".git").is_file()
    proc = rota_env.run("init", "--workspace", str(linked), check=True)
    assert _workspace_line(proc.stdout) == f"workspace: {linked}"


def test_init_never_silently_takes_rotas_own_source_tree(rota_env: RotaEnv) -> None:
    # The quick start's mistake: `rota init` run in the clone of rota, not at a terminal.
    proc = rota_env.run("init", "--enable-all", cwd=REPO)
    assert proc.returncode == 2, proc.stdout
    assert "rota's own source tree" in proc.stderr and "--workspace DIR" in proc.stderr
    assert not rota_env.config.exists()
    # Any clone of rota, named explicitly, is accepted with a warning.
    clone = rota_env.root / "rota-clone"
    (clone / "src" / "rota").mkdir(parents=True)
    (clone / "src" / "rota" / "cli.py").write_text("")
    (clone / "pyproject.toml").write_text('[project]\nname = "rota"\n')
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    proc = rota_env.run("init", "--workspace", str(clone / "src"), check=True)
    assert "warning:" in proc.stdout and f"rota's own source tree ({clone})" in proc.stdout


def test_init_takes_a_git_repository_it_runs_in_and_says_so(rota_env: RotaEnv) -> None:
    ws = rota_env.git_init()
    proc = rota_env.run("init", cwd=ws, check=True)
    assert _workspace_line(proc.stdout) == (
        f"workspace: {ws} (the current directory; --workspace DIR to choose another)"
    )
    assert f'path = "{ws}"' in rota_env.config.read_text()
    # Anywhere else that is not a repository: refused, naming the fix.
    rota_env.config.unlink()
    proc = rota_env.run("init")  # cwd: rota_env.root, a plain folder
    assert proc.returncode == 2 and "is not a git repository" in proc.stderr


def test_init_json(rota_env: RotaEnv) -> None:
    ws = rota_env.git_init()
    d = json.loads(rota_env.run("init", "--json", "--workspace", str(ws), check=True).stdout)
    assert d["schema_version"] == 1 and d["written"] is True
    assert d["config"] == str(rota_env.config)
    assert d["workspace"] == {"path": str(ws), "chosen_by": "option", "git": True}
    names = [h["name"] for h in d["harnesses"]]
    assert names[:3] == ["claude-code", "codex", "gptme"]
    assert all(h["enabled"] is False and h["found"] is None for h in d["harnesses"])
    again = json.loads(rota_env.run("--json", "init", "--workspace", str(ws), check=True).stdout)
    assert again == {
        "schema_version": 1,
        "config": str(rota_env.config),
        "written": False,
        "reason": "exists",
    }


def _pty_run(env: dict[str, str], cwd: Path, args: list[str], answers: list[str]) -> str:
    """rota at a real terminal: answer each prompt in turn; returns all it printed."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "rota", *args], env)
    out = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if pending and out.rstrip().endswith(b":"):
                os.write(fd, pending.pop(0).encode() + b"\n")
    os.waitpid(pid, 0)
    os.close(fd)
    return out.decode(errors="replace")


def test_init_asks_at_a_terminal(rota_env: RotaEnv) -> None:
    ws = rota_env.git_init()
    missing = rota_env.root / "missing"
    screen = _pty_run(rota_env.env, rota_env.root, ["init"], [str(missing), str(ws)])
    assert "Which git repository should the agents work in?" in screen
    assert f"{missing} does not exist" in screen  # asked again
    assert f"workspace: {ws}" in screen
    assert f'path = "{ws}"' in rota_env.config.read_text()


def test_init_at_a_terminal_offers_the_current_repository(rota_env: RotaEnv) -> None:
    ws = rota_env.git_init()
    screen = _pty_run(rota_env.env, ws, ["init"], [""])
    assert f"workspace [{ws}]:" in screen
    assert f'path = "{ws}"' in rota_env.config.read_text()


# -- doctor -------------------------------------------------------------------------------------


def _doctor(rota_env: RotaEnv) -> tuple[int, dict]:
    proc = rota_env.run("doctor", "--json")
    return proc.returncode, json.loads(proc.stdout)


def _levels(section: dict) -> dict[str, str]:
    return {c["check"]: c["level"] for c in section["checks"]}


def _agent_config(rota_env: RotaEnv) -> None:
    # One harness that can run here: `sh` is on every PATH.
    rota_env.config.write_text(
        f'[workspace]\npath = "{rota_env.workspace}"\n'
        '[harnesses.shell]\ncommand = ["sh", "-c", "echo {prompt}"]\n'
        '[harnesses.shell.models]\nm = "low"\n'
    )


def test_doctor_checks_the_workspace(rota_env: RotaEnv) -> None:
    _agent_config(rota_env)
    code, d = _doctor(rota_env)
    assert code == 1 and d["schema_version"] == 1 and d["ok"] is False
    assert _levels(d["workspace"]) == {"exists": "ok", "git": "fail", "writable": "ok"}
    git = next(c for c in d["workspace"]["checks"] if c["check"] == "git")
    assert "git -C" in git["fix"] and "init" in git["fix"]
    text = rota_env.run("doctor").stdout
    assert "no session can run until the workspace is fixed" in text

    rota_env.git_init()
    code, d = _doctor(rota_env)
    assert code == 0, d
    assert _levels(d["workspace"]) == {"exists": "ok", "git": "ok", "writable": "ok", "clean": "ok"}
    (rota_env.workspace / "notes.txt").write_text("mine\n")
    code, d = _doctor(rota_env)
    assert code == 0 and d["workspace"]["status"] == "warn"
    clean = next(c for c in d["workspace"]["checks"] if c["check"] == "clean")
    assert "notes.txt" in clean["detail"] and "commit or stash" in clean["fix"]

    # A workspace that is gone (--workspace before or after the command).
    gone = rota_env.root / "gone"
    d = json.loads(rota_env.run("--workspace", str(gone), "doctor", "--json").stdout)
    assert d["workspace"]["status"] == "fail"
    assert "does not exist" in d["workspace"]["checks"][0]["detail"]


def test_doctor_checks_the_store(rota_env: RotaEnv) -> None:
    _agent_config(rota_env)
    rota_env.git_init()
    code, d = _doctor(rota_env)
    assert d["store"]["status"] == "ok" and "0 session(s)" in d["store"]["checks"][0]["detail"]
    db = rota_env.state / "rota.db"
    db.write_bytes(b"not a database at all " * 200)
    code, d = _doctor(rota_env)
    assert code == 1 and d["store"]["status"] == "fail"
    assert d["store"]["checks"][0]["fix"]


def test_doctor_checks_the_timer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    env = Env(tmp_path, monkeypatch)
    subprocess.run(["git", "init", "-q", str(env.workspace)], check=True)
    assert run_cli("doctor", "--json", "--config", str(env.config)) in (0, 1)
    d = json.loads(capsys.readouterr().out)
    timer = d["timer"]["checks"][0]
    assert timer["level"] == "warn" and timer["fix"].startswith("rota systemd install")
    assert run_cli("systemd", "install", "--no-enable", "--config", str(env.config)) == 0
    env.systemd(True)
    capsys.readouterr()
    monkeypatch.setenv("FAKE_SYSTEMCTL_ACTIVE", "inactive")
    run_cli("doctor", "--json", "--config", str(env.config))
    timer = json.loads(capsys.readouterr().out)["timer"]["checks"][0]
    assert timer["level"] == "warn" and "inactive" in timer["detail"]
    assert timer["fix"] == "systemctl --user enable --now rota.timer"
    monkeypatch.setenv("FAKE_SYSTEMCTL_ACTIVE", "active")
    run_cli("doctor", "--json", "--config", str(env.config))
    timer = json.loads(capsys.readouterr().out)["timer"]
    assert timer["status"] == "ok"


def test_doctor_text_has_every_section(rota_env: RotaEnv) -> None:
    rota_env.write_config(BASIC_CONFIG)
    rota_env.git_init()
    out = rota_env.run("doctor").stdout
    for head in ("workspace: ok", "store: ok", "timer: warn", "claude-code: fail"):
        assert head in out, out
