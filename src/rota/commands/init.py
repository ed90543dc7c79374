"""`rota init`: write a commented starter config."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from rota.commands.common import Formatter
from rota.config import DEFAULT_CATEGORIES, DEFAULT_PROMPT, DEFAULT_TIERS, config_path, parse_config
from rota.errors import EXIT_OK
from rota.harnesses import KNOWN_HARNESSES, get_profile

HELP = """\
Write a commented starter config listing every known harness (claude-code, codex, gptme, copilot,
gemini, aider, opencode). Harnesses whose executable is on PATH are enabled; the rest are listed,
disabled, ready to switch on. An existing file is never overwritten without --force.

The config goes to --config PATH, else $ROTA_CONFIG, else $XDG_CONFIG_HOME/rota/rota.toml.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init", help="write a commented starter config", description=HELP, formatter_class=Formatter
    )
    p.add_argument("--config", metavar="PATH", help="where to write the config")
    p.add_argument(
        "--workspace", metavar="DIR", help="the git workspace sessions work in (default: .)"
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing config")
    p.add_argument(
        "--enable-all",
        action="store_true",
        help="enable every known harness even when its CLI is not on PATH (to try rota out; "
        "`rota doctor` shows what cannot run)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path.exists() and not args.force:
        print(f"rota: {path} exists; left unchanged (use --force to overwrite)", file=sys.stderr)
        return EXIT_OK
    workspace = Path(args.workspace or os.getcwd()).expanduser().resolve()
    text = starter_config(workspace, enable_all=args.enable_all)
    parse_config(__import__("tomllib").loads(text), path=path)  # never write a config we reject
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    enabled = [line for line in text.splitlines() if line.startswith("enabled = true")]
    print(f"wrote {path} ({len(enabled)} harness(es) enabled)")
    print("next: `rota select --explain` to see a decision, `rota doctor` to check the harnesses")
    return EXIT_OK


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_config(workspace: Path, *, enable_all: bool = False) -> str:
    lines = [
        f"# rota configuration, written by `rota init` on {time.strftime('%Y-%m-%d')}.",
        "# Every key is optional unless marked; unknown keys are errors (exit 78).",
        "",
        "# Kinds of work. `rota run --category C` or [run] category_command picks one per session.",
        f"categories = [{', '.join(_toml_str(c) for c in DEFAULT_CATEGORIES)}]",
        f"default_category = {_toml_str(DEFAULT_CATEGORIES[0])}",
        "# Tier labels, weakest first. Rules use them; stronger tiers start with a higher prior.",
        f"tiers = [{', '.join(_toml_str(t) for t in DEFAULT_TIERS)}]",
        "",
        "[workspace]",
        f"path = {_toml_str(str(workspace))}",
        '# id = "shared-name"   # fleets: a name for a workspace that several machines reach',
        "",
        "[run]",
        f"prompt = {_toml_str(DEFAULT_PROMPT)}",
        '# prompt_file = "~/agent/prompt.md"',
        '# prompt_command = ["./next-task.sh", "{category}"]   # stdout is the prompt',
        '# category_command = ["./next-category.sh"]           # stdout is the category',
        '# test_command = ["pytest", "-q"]                      # run after each session, graded',
        '# grader_command = ["./judge.py"]                      # session JSON on stdin, prints 0..1',
        "",
        "[bandit]",
        "# half_life_days = 14        # old evidence counts half after this long (per arm)",
        "# pooling_strength = 1       # observations a category borrows from the arm overall",
        "# prior_strength = 1         # observations' worth behind the tier prior",
        '# observation_weight = "auto" # weight of one graded session; auto = from grade noise',
        "# cost_weight = 0.02         # score penalty for the dearest arm; breaks near-ties",
        "# explore_min_trials = 3     # untried (and new) arms are tried this many times first",
        "# exploration = 0.5          # spread of Thompson draws (1 = plain Thompson sampling)",
        "",
        "# Rules per category: min_tier, max_tier, pin = [arms], exclude = [arms], prefer_cheapest.",
    ]
    found_high = False
    harness_lines: list[str] = []
    for name in KNOWN_HARNESSES:
        prof = get_profile(name)
        exe = shutil.which(prof.executable)
        enabled = bool(exe) or enable_all
        note = (
            f"`{prof.executable}` found at {exe}"
            if exe
            else f"`{prof.executable}` not found on PATH"
            + ("; enabled by --enable-all" if enable_all else "")
        )
        harness_lines += ["", f"[harnesses.{name}]", f"enabled = {str(enabled).lower()}  # {note}"]
        harness_lines.append(f"# timeout_minutes = {prof.default_timeout_minutes:g}")
        harness_lines.append(f"# command = [{', '.join(_toml_str(a) for a in prof.argv)}]")
        if prof.default_models:
            harness_lines.append(f"[harnesses.{name}.models]")
            for model, spec in prof.default_models.items():
                tier = str(spec.get("tier", "medium"))
                cost = float(spec.get("cost", 1.0))  # type: ignore[arg-type]
                key = (
                    model if model.replace("-", "").replace("_", "").isalnum() else _toml_str(model)
                )
                harness_lines.append(f"{key} = {{ tier = {_toml_str(tier)}, cost = {cost:g} }}")
                found_high = found_high or (enabled and tier == "high")
    if found_high:
        lines += ["[rules.strategic]", 'min_tier = "high"', ""]
    else:
        lines += ["# [rules.strategic]", '# min_tier = "high"', ""]
    lines += ["[rules.triage]", "prefer_cheapest = true"]
    lines += harness_lines
    lines += [
        "",
        "# A quota pool that spans harnesses or arms (one subscription behind several CLIs):",
        "# [pools.chatgpt]",
        '# harnesses = ["codex"]',
        '# arms = ["gptme:openai/gpt-5.4"]',
        "",
    ]
    return "\n".join(lines)
