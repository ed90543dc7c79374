"""`rota doctor`: can each enabled harness run? Executable, login, quota probe, config."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

from rota.commands.common import Formatter, add_config_args, add_json_arg, load, now
from rota.commands.doctor_site import check as _check
from rota.commands.doctor_site import check_store, check_timer, check_workspace
from rota.config import Config, HarnessConfig
from rota.errors import EXIT_OK
from rota.render import paint, print_document, use_colour
from rota.timefmt import when

EXIT_PROBLEM = 1

HELP = """\
Check what a session needs, each problem with its fix:

  workspace  exists, is a git repository, is writable, and is clean (uncommitted changes mix
             your edits with the agent's when a session is graded)
  store      the state store opens (SQLite file or PostgreSQL), and an SQLite file is owner-only
  timer      rota.timer is installed and active (a warning only: `rota run` works without it)
  harnesses  for each enabled harness: its executable is on PATH, a login is present, its quota
             probe answers (and what it says), and its config is sane

Exit 0 when a session can run (warnings allowed), 1 when something stops it.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="can a session run? workspace, store, timer, harnesses",
        description=HELP,
        formatter_class=Formatter,
    )
    add_config_args(p)
    add_json_arg(p)
    p.set_defaults(func=run)


def _home(env: dict[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def _display(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def check_executable(hc: HarnessConfig, profile: Any, env: dict[str, str]) -> dict[str, str]:
    exe = profile.executable
    path_var = hc.env.get("PATH") or env.get("PATH", "")
    found = shutil.which(exe, path=path_var) if exe else None
    if found:
        return _check("executable", "ok", found)
    key = f"harnesses.{hc.name}"
    hint = getattr(profile, "install_hint", "")
    fix = (f"install it ({hint}), or " if hint else "install it, or ") + (
        f'set executable = "/full/path/to/{exe}" under [{key}]'
    )
    return _check("executable", "fail", f"{exe!r} is not on PATH", fix)


def check_refusal(profile: Any, env: dict[str, str]) -> list[dict[str, str]]:
    """A CLI that would refuse to start here (claude-code as root without IS_SANDBOX=1)."""
    why = profile.refusal(env) if hasattr(profile, "refusal") else None
    if not why:
        return []
    problem, _, fix = why.partition("; ")
    return [_check("start", "fail", problem, fix)]


def check_auth(hc: HarnessConfig, profile: Any, env: dict[str, str]) -> dict[str, str]:
    home = _home(env)
    paths_fn = getattr(profile, "auth_paths", None)
    paths = list(paths_fn(home, env)) if paths_fn else [home / f for f in profile.auth_files]
    for p in paths:
        if p.is_file():
            return _check("auth", "ok", _display(p, home))
    env_vars = list(getattr(profile, "auth_env", ()))
    set_vars = [v for v in env_vars if env.get(v)]
    if set_vars:
        return _check("auth", "ok", f"${set_vars[0]} is set")  # the name only, never the value
    if not paths and not env_vars:
        return _check("auth", "ok", "nothing to check for this harness")
    looked = ", ".join(_display(p, home) for p in paths)
    how = f"log in with `{profile.executable}`" if paths else "set the provider's API key"
    alt = f", or set one of {', '.join('$' + v for v in env_vars)}" if env_vars else ""
    return _check(
        "auth",
        "warn",
        "no login found" + (f" (looked for {looked})" if looked else ""),
        f"{how}{alt} (in [harnesses.{hc.name}.env] if only rota should see it)",
    )


def _pct(u: float | None) -> str:
    return "?" if u is None else f"{u * 100:.0f}%"


def check_probe(hc: HarnessConfig, profile: Any, env: dict[str, str], t: float) -> dict[str, str]:
    from rota.probes import probe_context, run_probe

    if hc.quota.get("source") == "none" or hc.quota.get("enabled") is False:
        return _check("quota", "ok", 'probing disabled in config (quota.source = "none")')
    ctx = probe_context(hc, t, env=env)
    states = run_probe(profile, ctx)
    if not states:
        src = getattr(profile, "quota_source", "none")
        return _check(
            "quota",
            "ok",
            f"no figures yet (source: {src}); rota relies on limit messages and blocks",
        )
    parts: list[str] = []
    unknown: list[str] = []
    unknown_states: list[Any] = []
    for s in states:
        label = s.window or s.scope
        if s.scope_kind == "arm":
            label = f"{s.scope} {s.window}".strip()
        if s.available is None and s.utilization is None:
            unknown.append(f"{label}: {s.reason}" if s.reason else label)
            unknown_states.append(s)
            continue
        text = f"{label} {_pct(s.utilization)} ({s.source}"
        if s.resets_at:
            text += f", resets {when(s.resets_at, t)}"
        text += ")"
        if s.available is False:
            text += " EXHAUSTED"
        parts.append(text)
    if parts:
        # Unknown rows matter only when a primary source failed (e.g. the endpoint said 401).
        failed = [u for s, u in zip(unknown_states, unknown, strict=True) if s.source == "api"]
        return _check("quota", "ok", "; ".join(parts + failed))
    detail = "; ".join(unknown)
    fix = ""
    joined = " ".join(unknown)
    if "401" in joined or "403" in joined:
        fix = f"log in again with `{profile.executable}`"
    elif "unreachable" in joined or "did not answer" in joined:
        fix = "check the network; rota treats the quota as unknown meanwhile"
    return _check("quota", "warn", detail or "no answer", fix)


def check_config(config: Config, hc: HarnessConfig) -> list[dict[str, str]]:
    from rota.harnesses.registry import config_problems

    out = []
    for problem, fix in config_problems(hc):
        # A harness that cannot receive its prompt or has no arms cannot do useful work.
        fatal = "never passes the prompt" in problem or "no command" in problem
        out.append(_check("config", "fail" if fatal else "warn", problem, fix))
    enabled = [m for m in hc.models.values() if m.enabled]
    if hc.models and not enabled:
        out.append(
            _check(
                "config",
                "warn",
                f"every model of harnesses.{hc.name} is disabled",
                "enable a model or disable the harness",
            )
        )
    return out or [_check("config", "ok", f"{len(enabled)} arm(s)")]


def check_extras(hc: HarnessConfig) -> list[dict[str, str]]:
    out = []
    if hc.name == "codex" or hc.quota.get("profile") == "codex":
        try:
            import zstandard  # noqa: F401
        except ImportError:
            out.append(
                _check(
                    "zstd",
                    "warn",
                    "zstandard is not installed: compressed rollout files (.jsonl.zst) are skipped",
                    "pip install zstandard",
                )
            )
    return out


def diagnose(config: Config, t: float, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    from rota.harnesses.registry import profile_for

    env = dict(os.environ if env is None else env)
    report = []
    for hc in config.harnesses.values():
        if not hc.enabled:
            continue
        profile = profile_for(hc.name, hc)
        henv = {**env, **hc.env}
        checks = [check_executable(hc, profile, henv), check_auth(hc, profile, henv)]
        checks.extend(check_refusal(profile, henv))
        checks.append(check_probe(hc, profile, env, t))
        checks.extend(check_config(config, hc))
        checks.extend(check_extras(hc))
        worst = (
            "fail"
            if any(c["level"] == "fail" for c in checks)
            else ("warn" if any(c["level"] == "warn" for c in checks) else "ok")
        )
        report.append(
            {
                "harness": hc.name,
                "executable": profile.executable,
                "can_run": worst != "fail",
                "status": worst,
                "checks": checks,
            }
        )
    return report


def run(args: argparse.Namespace) -> int:
    config = load(args)
    t = now()
    sections = [check_workspace(config), check_store(config), check_timer()]
    report = diagnose(config, t)
    failing = [h for h in report if not h["can_run"]]
    blocked = [s for s in sections if s["status"] == "fail"]
    ok = bool(report) and not failing and not blocked
    if args.json:
        print_document(
            {
                "ok": ok,
                **{s["name"]: s for s in sections},
                "harnesses": report,
            }
        )
        return EXIT_OK if ok else EXIT_PROBLEM
    colour = use_colour()
    colours = {"ok": "green", "warn": "yellow", "fail": "red"}

    def show(title: str, status: str, checks: list[dict[str, str]]) -> None:
        print(paint(f"{title}: {status}", colours[status], colour))
        for c in checks:
            level = paint(c["level"].ljust(4), colours[c["level"]], colour)
            print(f"  {c['check']:<10} {level}  {c['detail']}")
            if c["fix"] and c["level"] != "ok":
                print(f"  {'':<10}       fix: {c['fix']}")

    for s in sections:
        show(s["name"], s["status"], s["checks"])
    if not report:
        print(paint("harnesses: fail", "red", colour))
        print("  no harness is enabled: nothing can run")
        print("  fix: enable one under [harnesses.NAME] (enabled = true), e.g. run `rota init`")
        return EXIT_PROBLEM
    for h in report:
        show(h["harness"], h["status"], h["checks"])
    if failing:
        names = ", ".join(h["harness"] for h in failing)
        print(f"\n{len(failing)} enabled harness(es) cannot run: {names}")
    if blocked:
        print(f"\nno session can run until the {' and '.join(s['name'] for s in blocked)} is fixed")
    return EXIT_OK if ok else EXIT_PROBLEM
