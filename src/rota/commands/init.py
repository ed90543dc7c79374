"""`rota init`: write a commented starter config."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from rota.commands.common import Formatter, add_json_arg
from rota.config import DEFAULT_CATEGORIES, DEFAULT_PROMPT, DEFAULT_TIERS, config_path, parse_config
from rota.errors import EXIT_OK, UsageError
from rota.harnesses import KNOWN_HARNESSES, get_profile
from rota.privatefs import private_dir
from rota.render import print_document

HELP = """\
Write a commented starter config listing every known harness (claude-code, codex, gptme, copilot,
gemini, aider, opencode). Harnesses whose executable is on PATH are enabled; the rest are listed,
disabled, ready to switch on. An existing file is never overwritten without --force.

The workspace is the git repository the agents work in (with their permissions: choose it with
care). Without --workspace, init asks at a terminal, and elsewhere takes the current directory
only when it is a git repository and not rota's own source tree; it always prints its choice. A
folder that does not exist or is not a git repository is refused unless --no-workspace-check.

The config goes to --config PATH, else $ROTA_CONFIG, else $XDG_CONFIG_HOME/rota/rota.toml.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init", help="write a commented starter config", description=HELP, formatter_class=Formatter
    )
    p.add_argument("--config", metavar="PATH", help="where to write the config")
    p.add_argument(
        "--workspace",
        metavar="DIR",
        help="the git repository sessions work in (default: asked at a terminal, else the "
        "current directory when it is a git repository)",
    )
    p.add_argument(
        "--no-workspace-check",
        action="store_true",
        help="accept a workspace that does not exist yet or is not a git repository",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing config")
    p.add_argument(
        "--enable-all",
        action="store_true",
        help="enable every known harness even when its CLI is not on PATH (to try rota out; "
        "`rota doctor` shows what cannot run)",
    )
    add_json_arg(p)
    p.set_defaults(func=run)


# -- the workspace ------------------------------------------------------------------------------


def git_root(path: Path) -> Path | None:
    """The enclosing git work tree of `path` as git itself sees it, or None.

    git is asked rather than trusting any `.git` entry: a stray empty `/tmp/.git` is no repository,
    and a linked worktree's `.git` file is one. Without git, the nearest `.git` entry is taken."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except FileNotFoundError:
        return next((d for d in (path, *path.parents) if (d / ".git").exists()), None)
    except (OSError, subprocess.SubprocessError):
        return None
    top = done.stdout.strip()
    return Path(top) if done.returncode == 0 and top else None


def rota_source_tree(path: Path) -> Path | None:
    """The rota source tree that `path` is (or is inside), or None: the checkout this rota runs
    from, or any folder that looks like a clone of rota."""
    import rota

    here = Path(rota.__file__).resolve().parent  # …/src/rota
    candidates = [here.parent.parent] if here.parent.name == "src" else []
    for d in (path, *path.parents):
        if d in candidates or (
            (d / "src" / "rota" / "cli.py").is_file() and (d / "pyproject.toml").is_file()
        ):
            return d
    return None


def workspace_problem(path: Path) -> str:
    """Why `path` cannot be a workspace ("" when it can)."""
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_dir():
        return f"{path} is not a directory"
    if git_root(path) is None:
        return f"{path} is not a git repository"
    return ""


def _fix(path: Path) -> str:
    if not path.exists():
        return f"create it (mkdir -p {path} && git -C {path} init), or pass --no-workspace-check"
    return f"make it one (git -C {path} init), or pass --no-workspace-check"


def _ask(default: Path | None) -> Path:
    """Ask at the terminal until a usable workspace is given."""
    print("Which git repository should the agents work in? (rota runs them there, unattended)")
    for _ in range(5):
        hint = f" [{default}]" if default else ""
        try:
            answer = input(f"workspace{hint}: ").strip()
        except EOFError:
            break
        if not answer and default:
            return default
        if not answer:
            continue
        path = Path(answer).expanduser().resolve()
        problem = workspace_problem(path)
        if not problem:
            return path
        print(f"  {problem}: {_fix(path)}")
    raise UsageError("no workspace chosen; pass --workspace DIR (a git repository)")


def choose_workspace(args: argparse.Namespace, warnings: list[str]) -> tuple[Path, str]:
    """-> (workspace, how it was chosen: option, prompt or cwd). UsageError when none fits."""
    if args.workspace:
        path = Path(args.workspace).expanduser().resolve()
        problem = workspace_problem(path)
        if problem and not args.no_workspace_check:
            raise UsageError(f"--workspace: {problem}; {_fix(path)}")
        if problem:
            warnings.append(f"{problem} (accepted: --no-workspace-check)")
        src = rota_source_tree(path)
        if src is not None:
            warnings.append(
                f"{path} is rota's own source tree ({src}): agents would work on rota itself"
            )
        return path, "option"
    cwd = Path(os.getcwd()).resolve()
    why_not = (
        f"{cwd} is rota's own source tree"
        if rota_source_tree(cwd) is not None
        else workspace_problem(cwd)
    )
    interactive = not args.json and sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        return _ask(None if why_not else cwd), "prompt"
    if why_not:
        raise UsageError(
            f"no workspace given, and the current directory will not do: {why_not}; "
            "pass --workspace DIR (the git repository the agents work in)"
        )
    return cwd, "cwd"


# -- writing ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path.exists() and not args.force:
        if args.json:
            print_document({"config": str(path), "written": False, "reason": "exists"})
        else:
            print(
                f"rota: {path} exists; left unchanged (use --force to overwrite)", file=sys.stderr
            )
        return EXIT_OK
    warnings: list[str] = []
    workspace, chosen_by = choose_workspace(args, warnings)
    found = detect_harnesses()
    text = starter_config(workspace, enable_all=args.enable_all, found=found)
    parse_config(__import__("tomllib").loads(text), path=path)  # never write a config we reject
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    harnesses = [
        {
            "name": name,
            "executable": get_profile(name).executable,
            "found": exe,
            "enabled": bool(exe) or args.enable_all,
        }
        for name, exe in found.items()
    ]
    if args.json:
        print_document(
            {
                "config": str(path),
                "written": True,
                "workspace": {
                    "path": str(workspace),
                    "chosen_by": chosen_by,
                    "git": git_root(workspace) is not None,
                },
                "harnesses": harnesses,
                "warnings": warnings,
            }
        )
        return EXIT_OK
    enabled = [h for h in harnesses if h["enabled"]]
    how = {"cwd": " (the current directory; --workspace DIR to choose another)"}.get(chosen_by, "")
    print(f"wrote {path}")
    print(f"workspace: {workspace}{how}")
    for w in warnings:
        print(f"warning: {w}")
    names = ", ".join(h["name"] + ("" if h["found"] else " (not installed)") for h in enabled)
    print(f"harnesses enabled: {names or 'none (no agent CLI found on PATH)'}")
    print("next: `rota doctor` checks it all, `rota select --explain` shows a decision")
    return EXIT_OK


def detect_harnesses() -> dict[str, str | None]:
    """Each known harness -> where its executable is on PATH (None: not installed)."""
    return {name: shutil.which(get_profile(name).executable) for name in KNOWN_HARNESSES}


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_config(
    workspace: Path, *, enable_all: bool = False, found: dict[str, str | None] | None = None
) -> str:
    found = detect_harnesses() if found is None else found
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
        "[grading]   # the grade: weighted gains less penalties (README, Grading)",
        "# test_before = false        # also run test_command before each session (failing -> passing counts)",
        '# judge = "claude-code:haiku" # an LLM judge: one of your arms, run without tools',
        "# judge_exclude_same_family = true   # do not judge arms of the judge's own model family",
        "# followup_days = 7          # reverted or never-merged work lowers the grade later",
        "# [grading.weights]          # finished 0.1, commits 0.25, size 0.2, tests 0.3, pr 0.15, judge 0.3, grader 0.3",
        "# [grading.penalties]        # broke_tests 0.25, error_storm 0.2, turn_limit 0.15, reverted 0.1, unmerged 0.1",
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
        exe = found.get(name)
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
            if name == KNOWN_HARNESSES[0]:
                harness_lines.append(
                    '# cost: relative cost of a session, or "measured" (what its sessions reported)'
                )
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
