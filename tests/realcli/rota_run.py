"""`rota run` with a real CLI against the mock, inside the loopback-only namespace.

    run = rota_session(CLIS["codex"], SCENARIOS["usage-limit-days"], tmp_path)
    run.session.status, run.session.detail["limit"], run.blocks, run.session.credited_arm ...

rota runs as a subprocess (`python -m rota.cli run --json`) inside the namespace, with its own
config (the one harness, its one model, `executable` the installed CLI, `env` what points the CLI
at the mock), state dir, HOME and workspace. What it recorded is read back from its SQLite store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockapi import handler
from mockapi.plan import Scenario
from mockapi.server import MockAPI
from realcli.clis import CLI
from realcli.netns import LoopbackNamespace
from realcli.session import base_env, make_workspace

REPO = Path(__file__).resolve().parents[2]

# The model name rota's config uses for each CLI (its template puts it after -m/--model).
CONFIG_MODEL = {
    "claude-code": "sonnet",
    "codex": "gpt-5.5",
    "gptme": "openai/gpt-4o",
    "gemini": "gemini-2.5-pro",
    "aider": "openai/gpt-4o",
    "opencode": "mock/mock-model",
    "copilot": "gpt-4.1",
}


@dataclass
class RotaRun:
    proc: subprocess.CompletedProcess[str]
    result: dict[str, Any]  # `rota run --json`
    session: Any  # rota.store.base.SessionRecord | None
    blocks: list[Any]  # active blocks after the run
    requests: list[dict[str, Any]]
    workspace: Path
    home: Path
    state: Path
    log: str = ""  # the session log rota wrote
    extra: dict[str, Any] = field(default_factory=dict)


def _toml_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def rota_config(
    cli: CLI, workspace: Path, env: dict[str, str], timeout_minutes: float, model: str
) -> str:
    env_items = ", ".join(f"{_toml_str(k)} = {_toml_str(v)}" for k, v in sorted(env.items()))
    return "\n".join(
        [
            'categories = ["code"]',
            'default_category = "code"',
            "[workspace]",
            f"path = {_toml_str(str(workspace))}",
            "[run]",
            "kill_grace_seconds = 3",
            f"[harnesses.{cli.name}]",
            f"executable = {_toml_str(str(cli.executable()))}",
            f"timeout_minutes = {timeout_minutes}",
            f"env = {{ {env_items} }}",
            f"[harnesses.{cli.name}.models]",
            f'{_toml_str(model)} = {{ tier = "medium", cost = 1.0 }}',
            "",
        ]
    )


def rota_session(
    cli: CLI,
    scenario: Scenario,
    root: Path,
    *,
    timeout_minutes: float = 3.0,
    model: str | None = None,
    args: tuple[str, ...] = (),
    config_extra: str = "",
    workspace: Callable[[Path, dict[str, str]], None] = make_workspace,
) -> RotaRun:
    """`workspace(path, env)` makes the workspace (default: a fresh repository, one commit)."""
    home, ws, state = root / "home", root / "workspace", root / "state"
    for d in (home, home / "tmp", state):
        d.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Agent\n\temail = agent@example.invalid\n")
    env = base_env(home, ws)
    workspace(ws, env)
    ns = LoopbackNamespace(lambda: MockAPI(handler(scenario)))
    api: MockAPI = ns.value  # type: ignore[assignment]
    api.start()
    try:
        own = cli.prepare(home, ws, api.url, scenario)
        for key, value in scenario.cli_env:
            if value is None:
                own.pop(key, None)
            else:
                own[key] = value
        config = root / "rota.toml"
        model = model or CONFIG_MODEL[cli.name]
        config.write_text(rota_config(cli, ws, own, timeout_minutes, model) + config_extra)
        prompt = root / "prompt.md"
        prompt.write_text(scenario.prompt, encoding="utf-8")
        rota_env = {
            **env,
            "PATH": f"{Path(sys.executable).parent}:{env['PATH']}",
            "ROTA_CONFIG": str(config),
            "ROTA_STATE_DIR": str(state),
            "ROTA_MACHINE": "realcli",
            "PWD": str(root),  # rota itself runs elsewhere: it must give the CLI its own PWD
        }
        if os.environ.get("PYTHONPATH"):
            rota_env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        argv = [
            *ns.prefix(), sys.executable, "-m", "rota.cli", "run", "--json",
            "--prompt-file", str(prompt), *args,
        ]
        proc = subprocess.run(
            argv, cwd=root, env=rota_env, capture_output=True, text=True,
            timeout=timeout_minutes * 60 + 120, stdin=subprocess.DEVNULL,
        )
        requests = [r.summary() for r in api.requests]
    finally:
        api.stop()
        ns.close()
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = {}
    from rota.store.sqlite import SQLiteStore

    store = SQLiteStore(state / "rota.db")
    try:
        sessions = store.recent_sessions(1)
        session = sessions[0] if sessions else None
        blocks = store.active_blocks(time.time())
    finally:
        store.close()
    log = ""
    if session is not None and session.log_path and Path(session.log_path).is_file():
        log = Path(session.log_path).read_text("utf-8", "replace")
    return RotaRun(proc, result, session, blocks, requests, ws, home, state, log)
