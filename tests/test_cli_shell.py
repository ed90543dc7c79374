"""One consistent command line: global options anywhere, `python -m rota`, "did you mean", shell
completion generated from the parser (run in real shells), and the man page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASIC_CONFIG, REPO, RotaEnv
from rota import cli, completion

CI = bool(os.environ.get("CI"))


def _shell_or_skip(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        if CI:
            pytest.fail(f"{name} is not installed; .ci/run installs it (apt-get install {package})")
        pytest.skip(f"{name} is not installed: apt-get install {package} (.ci/run installs it)")
    return found


# -- global options before or after the command ------------------------------------------------


def test_split_globals_moves_options_behind_the_command() -> None:
    args, cmd, moved = cli.split_globals(["--json", "--config", "x.toml", "status", "--all"])
    assert cmd == "status" and args == ["status", "--all", "--json", "--config", "x.toml"]
    assert moved == ["--json", "--config", "x.toml"]
    args, cmd, _ = cli.split_globals(["--config=x.toml", "systemd", "status"])
    assert cmd == "systemd" and args == ["systemd", "status", "--config=x.toml"]
    # Data after `--` stays data; the options go before it.
    args, _, _ = cli.split_globals(["--json", "grade", "--", "12", "0.5"])
    assert args == ["grade", "--json", "--", "12", "0.5"]
    # The value of --config is never taken for the command.
    args, cmd, _ = cli.split_globals(["--config", "select", "quota"])
    assert cmd == "quota"
    assert cli.split_globals(["--version"])[1] is None


def test_config_json_and_workspace_before_or_after_the_command(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    other = rota_env.root / "other.toml"
    other.write_text(BASIC_CONFIG.format(workspace=rota_env.workspace), encoding="utf-8")
    env = dict(rota_env.env)
    del env["ROTA_CONFIG"]
    rota_env.env = env
    before = rota_env.run("--json", "--config", str(other), "status", check=True)
    after = rota_env.run("status", "--json", "--config", str(other), check=True)
    a, b = json.loads(before.stdout), json.loads(after.stdout)
    assert a["schema_version"] == b["schema_version"] == 1
    assert a["workspace"] == b["workspace"]
    ws = rota_env.root / "elsewhere"
    ws.mkdir()
    moved = json.loads(
        rota_env.run("--workspace", str(ws), "--config", str(other), "status", "--json").stdout
    )
    assert moved["workspace"].endswith(str(ws))
    # A command that has no use for --workspace says so, as a usage error.
    proc = rota_env.run("--workspace", str(ws), "--config", str(other), "quota")
    assert proc.returncode == 2 and "--workspace" in proc.stderr


def test_python_dash_m_rota(rota_env: RotaEnv) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rota", "--version"], capture_output=True, text=True, check=True
    )
    assert proc.stdout.startswith("rota ")
    rota_env.write_config()
    proc = subprocess.run(
        [sys.executable, "-m", "rota", "select", "--seed", "1"],
        capture_output=True,
        text=True,
        env=rota_env.env,
    )
    assert proc.returncode == 0 and ":" in proc.stdout


@pytest.mark.parametrize(
    ("typo", "guess"), [("stauts", "status"), ("selcet", "select"), ("sess", "sessions")]
)
def test_a_typo_gets_did_you_mean(rota_env: RotaEnv, typo: str, guess: str) -> None:
    proc = rota_env.run(typo)
    assert proc.returncode == 2
    assert f"did you mean {guess}?" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "guess"),
    [(("select", "--explian"), "--explain"), (("systemd", "statsu"), "status")],
)
def test_a_mistyped_option_or_subcommand_gets_did_you_mean(
    rota_env: RotaEnv, args: tuple[str, ...], guess: str
) -> None:
    rota_env.write_config()
    proc = rota_env.run(*args)
    assert proc.returncode == 2 and f"did you mean {guess}?" in proc.stderr, proc.stderr


def test_unknown_command_without_a_guess(rota_env: RotaEnv) -> None:
    proc = rota_env.run("xyzzy")
    assert proc.returncode == 2 and "unknown command 'xyzzy'" in proc.stderr
    assert "did you mean" not in proc.stderr


def test_select_builds_and_imports_only_its_own_command(rota_env: RotaEnv) -> None:
    rota_env.write_config()
    rota_env.run("select", check=True)  # warm: the parsed config and probe answers are cached
    code = (
        "import sys\n"
        "from rota import cli\n"
        "rc = cli.main(['select', '--seed', '1'])\n"
        "heavy = [m for m in ('typing', 'dataclasses', 'pathlib', 'difflib') if m in sys.modules]\n"
        "print(heavy, file=sys.stderr)\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('rota.commands.'))\n"
        "print(loaded, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=rota_env.env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    heavy, loaded = proc.stderr.strip().splitlines()[-2:]
    assert heavy == "[]", heavy  # kept off the path that runs before every session
    assert loaded == "['rota.commands.common', 'rota.commands.select']", loaded
    parser = cli.build_parser("select")
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == ["select"]


# -- completion -------------------------------------------------------------------------------


def test_the_tree_has_every_command_and_option() -> None:
    nodes = {n.path: n for n in completion.command_tree(cli.build_parser())}
    assert set(cli.COMMANDS) <= {p[1] for p in nodes if len(p) == 2}
    assert {"install", "uninstall", "status", "adopt"} <= {
        c for c, _ in nodes[("rota", "systemd")].commands
    }
    select = nodes[("rota", "select")]
    assert any("--explain" in o.flags for o in select.options)
    sessions = nodes[("rota", "sessions")]
    status_opt = next(o for o in sessions.options if "--status" in o.flags)
    assert "completed" in status_opt.choices
    assert nodes[("rota", "completion")].values == ("bash", "zsh", "fish")


def _bash_complete(script: Path, line: str) -> list[str]:
    words = line.split(" ")
    prog = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_rota\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, check=True)
    return [w for w in proc.stdout.splitlines() if w]


def test_bash_completion_in_a_real_bash(rota_env: RotaEnv, tmp_path: Path) -> None:
    proc = rota_env.run("completion", "bash", check=True)
    script = tmp_path / "rota.bash"
    script.write_text(proc.stdout)
    assert _bash_complete(script, "rota sel") == ["select"]
    assert set(_bash_complete(script, "rota s")) >= {"select", "status", "sessions", "systemd"}
    assert set(_bash_complete(script, "rota systemd ")) == {
        "install",
        "uninstall",
        "status",
        "adopt",
    }
    assert "--explain" in _bash_complete(script, "rota select --")
    assert "--category" in _bash_complete(script, "rota --json select --c")
    assert set(_bash_complete(script, "rota sessions --status ")) >= {"completed", "crashed"}
    assert _bash_complete(script, "rota completion ") == ["bash", "zsh", "fish"]
    assert "check" in _bash_complete(script, "rota config ")
    (tmp_path / "mine.toml").write_text("")
    os.chdir(tmp_path)
    assert "mine.toml" in _bash_complete(script, "rota --config mi")


def test_zsh_completion_parses_in_a_real_zsh(rota_env: RotaEnv, tmp_path: Path) -> None:
    text = rota_env.run("completion", "zsh", check=True).stdout
    assert text.startswith("#compdef rota") and "'select:choose the harness" in text
    zsh = _shell_or_skip("zsh", "zsh")
    script = tmp_path / "_rota"
    script.write_text(text)
    proc = subprocess.run([zsh, "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_fish_completion_in_a_real_fish(rota_env: RotaEnv, tmp_path: Path) -> None:
    text = rota_env.run("completion", "fish", check=True).stdout
    assert "complete -c rota" in text
    fish = _shell_or_skip("fish", "fish")
    script = tmp_path / "rota.fish"
    script.write_text(text)

    def complete(line: str) -> list[str]:
        proc = subprocess.run(
            [fish, "--no-config", "-c", f"source {script}; complete -C {line!r}"],
            capture_output=True,
            text=True,
            env={**os.environ, "HOME": str(tmp_path)},
        )
        assert proc.returncode == 0, proc.stderr
        return [line.split("\t")[0] for line in proc.stdout.splitlines()]

    assert "select" in complete("rota sel")
    assert set(complete("rota systemd ")) >= {"install", "uninstall", "status", "adopt"}
    assert "--explain" in complete("rota select --")


def test_completion_install_writes_where_each_shell_looks(rota_env: RotaEnv) -> None:
    home = rota_env.root / "home"
    for shell, rel in (
        ("bash", ".local/share/bash-completion/completions/rota"),
        ("zsh", ".local/share/zsh/site-functions/_rota"),
        ("fish", ".config/fish/completions/rota.fish"),
    ):
        proc = rota_env.run("completion", shell, "--install", "--json", check=True)
        d = json.loads(proc.stdout)
        assert d["schema_version"] == 1 and d["path"] == str(home / rel)
        assert (home / rel).read_text() == rota_env.run("completion", shell).stdout


# -- the man page ------------------------------------------------------------------------------


def test_man_page_covers_every_command_and_option(rota_env: RotaEnv) -> None:
    page = rota_env.run("man", check=True).stdout
    assert page.startswith(".TH ROTA 1")
    for name in cli.COMMANDS:
        assert f".SS rota {name}" in page or f".SS rota {name}\n" in page, name
    assert ".SS rota systemd install" in page and ".SS rota config check" in page
    assert "\\fB\\-\\-explain\\fR" in page and ".SH EXIT STATUS" in page
    assert "\\fB76\\fR" in page
    proc = rota_env.run("man", "--install", check=True)
    installed = rota_env.root / "home" / ".local" / "share" / "man" / "man1" / "rota.1"
    assert installed.read_text() == page and str(installed) in proc.stdout


def test_man_page_is_the_same_whatever_the_terminal(rota_env: RotaEnv) -> None:
    rota_env.env["SOURCE_DATE_EPOCH"] = "1796160308"
    rota_env.env["COLUMNS"] = "60"
    narrow = rota_env.run("man", check=True).stdout
    rota_env.env["COLUMNS"] = "200"
    assert rota_env.run("man", check=True).stdout == narrow
    assert '.TH ROTA 1 "2026-12-01"' in narrow


def test_man_page_renders_without_warnings(rota_env: RotaEnv, tmp_path: Path) -> None:
    groff = _shell_or_skip("groff", "groff-base")
    page = tmp_path / "rota.1"
    page.write_text(rota_env.run("man", check=True).stdout)
    proc = subprocess.run(
        [groff, "-man", "-Tutf8", "-ww", "-P", "-cbou", str(page)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    assert "rota select" in proc.stdout and "EXIT STATUS" in proc.stdout


def test_readme_documents_the_completion_and_man_commands() -> None:
    readme = (REPO / "README.md").read_text()
    assert "rota completion bash --install" in readme and "rota man --install" in readme
