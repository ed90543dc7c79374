"""What the next session works on: its category and its prompt.

Category: --category, else the stdout of [run] category_command (one of the configured
categories), else default_category. Prompt: --prompt-file, else the stdout of [run]
prompt_command (which gets the category as {category} in its argv and $ROTA_CATEGORY), else the
file [run] prompt_file (relative paths are taken from the workspace), else [run] prompt.

A command that fails, hangs or prints something unusable is a config error (exit 78) naming the
key; no session starts. Commands run as argv lists in the workspace, never through a shell.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rota.config import Config
from rota.errors import ConfigError, UsageError
from rota.session.argv import build_argv
from rota.session.execute import run_process
from rota.session.stop import Interrupted, StopFlag

COMMAND_TIMEOUT_S = 300.0
MAX_PROMPT_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    source: str  # "--prompt-file PATH", "run.prompt_command", "run.prompt_file PATH", "run.prompt"


def _command(
    config: Config,
    key: str,
    argv_template: tuple[str, ...],
    values: dict[str, str],
    extra_env: dict[str, str],
    stop: StopFlag | None,
) -> str:
    """Run a configured command and return its stdout, or raise ConfigError naming the key."""
    argv = build_argv(argv_template, values)
    env = dict(os.environ)
    env.update(extra_env)
    res = run_process(
        argv,
        cwd=config.workspace.path,
        env=env,
        timeout_s=COMMAND_TIMEOUT_S,
        kill_grace_s=min(config.run.kill_grace_seconds, 5.0),
        stop=stop,
        stdout_head=MAX_PROMPT_BYTES,
        stdout_tail=4096,
        stderr_tail=4096,
    )
    path = str(config.path) if config.path else None
    if res.interrupted:
        raise Interrupted(stop.signum if stop else None, f"stopped while running [{key}]")
    if res.error:
        raise ConfigError(f"{res.error}; no session started", path=path, key=key)
    if res.timed_out:
        raise ConfigError(
            f"timed out after {COMMAND_TIMEOUT_S:.0f}s; no session started", path=path, key=key
        )
    if res.exit_code != 0:
        tail = " | ".join(line.strip() for line in res.stderr.strip().splitlines()[-3:])
        raise ConfigError(
            f"{argv[0]} {res.describe()}" + (f": {tail}" if tail else "") + "; no session started",
            path=path,
            key=key,
        )
    if res.stdout_truncated:
        raise ConfigError(
            f"printed more than {MAX_PROMPT_BYTES} bytes; no session started", path=path, key=key
        )
    return res.stdout


def choose_category(config: Config, explicit: str | None, stop: StopFlag | None = None) -> str:
    if explicit is not None:
        if explicit not in config.categories:
            raise UsageError(
                f"unknown category {explicit!r}; configured categories: "
                f"{', '.join(config.categories)}"
            )
        return explicit
    if config.run.category_command:
        out = _command(
            config,
            "run.category_command",
            config.run.category_command,
            {"workspace": str(config.workspace.path)},
            {"ROTA_WORKSPACE": str(config.workspace.path)},
            stop,
        )
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        category = lines[0] if len(lines) == 1 else ""
        if category not in config.categories:
            shown = out.strip()[:80] or "nothing"
            raise ConfigError(
                f"printed {shown!r}; expected one line naming one of the configured categories "
                f"({', '.join(config.categories)}); no session started",
                path=str(config.path) if config.path else None,
                key="run.category_command",
            )
        return category
    return config.default_category


def choose_prompt(
    config: Config, category: str, prompt_file: str | None, stop: StopFlag | None = None
) -> Prompt:
    if prompt_file:
        p = Path(prompt_file).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --prompt-file {p}: {_why(exc)}") from None
        return _checked(Prompt(text, f"--prompt-file {p}"), config, "--prompt-file")
    ws = str(config.workspace.path)
    if config.run.prompt_command:
        out = _command(
            config,
            "run.prompt_command",
            config.run.prompt_command,
            {"category": category, "workspace": ws},
            {"ROTA_CATEGORY": category, "ROTA_WORKSPACE": ws},
            stop,
        )
        return _checked(Prompt(out, "run.prompt_command"), config, "run.prompt_command")
    if config.run.prompt_file:
        p = Path(config.run.prompt_file).expanduser()
        if not p.is_absolute():
            p = config.workspace.path / p
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read prompt file {p}: {_why(exc)}",
                path=str(config.path) if config.path else None,
                key="run.prompt_file",
            ) from None
        return _checked(Prompt(text, f"run.prompt_file {p}"), config, "run.prompt_file")
    # The configured text may name the category: "Work on the next {category} task."
    return _checked(
        Prompt(config.run.prompt.replace("{category}", category), "run.prompt"),
        config,
        "run.prompt",
    )


def _checked(prompt: Prompt, config: Config, key: str) -> Prompt:
    if not prompt.text.strip():
        msg = "the prompt is empty; no session started"
        if key == "--prompt-file":
            raise UsageError(f"--prompt-file: {msg}")
        raise ConfigError(msg, path=str(config.path) if config.path else None, key=key)
    return prompt


def _why(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return getattr(exc, "strerror", None) or str(exc)


__all__ = ["Prompt", "choose_category", "choose_prompt"]
