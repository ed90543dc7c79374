"""Name -> profile, config overrides, and the pure helpers the runner and policy share.

Built-in profiles live one module per CLI and are imported only when asked for. A harness not
listed here is a custom command: it gets a generic profile whose argv is its `command`.

Config overrides (all optional) under [harnesses.NAME]:
  command = [...]          replaces the argv template (the executable is command[0])
  executable = "..."       replaces the executable (argv[0] too, when it was the default)
  timeout_minutes = N
  quota = { ... }          per-harness options, all optional:
    profile = "claude-code"        reuse a built-in profile under another name (a second account
                                   with its own CLAUDE_CONFIG_DIR in env)
    rate_limit_exit_codes = [75]   exit codes that mean "rate limited"
    limit_patterns = ["Quota gone"]  extra regexes, matched at the start of error lines
    scope = "arm" | "harness"      what a limit blocks (pools covering the arm are added)
    source = "auto" | "api" | "logs" | "none"   claude: endpoint and/or logs; none: no probe
    cache_minutes = 5              how long a probe answer is reused ([quota] cache_minutes)
    backoff_minutes = 15           claude: reuse time after the endpoint said 429
    usage_url = "https://…"        claude: the endpoint ($ROTA_CLAUDE_USAGE_URL wins)
    timeout_seconds = 5            claude: endpoint timeout
    block_token_limit = 0          claude logs: tokens per 5-hour block, for a utilization
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rota.harnesses.base import HarnessProfile, LimitHit
from rota.harnesses.common import BuiltinProfile

if TYPE_CHECKING:
    from rota.config import Config, HarnessConfig

BUILTIN: dict[str, str] = {
    "claude-code": "rota.harnesses.claude_code",
    "codex": "rota.harnesses.codex",
    "gptme": "rota.harnesses.gptme",
    "copilot": "rota.harnesses.copilot",
    "gemini": "rota.harnesses.gemini",
    "aider": "rota.harnesses.aider",
    "opencode": "rota.harnesses.opencode",
}


def builtin_profile(name: str) -> BuiltinProfile | None:
    module = BUILTIN.get(name)
    if module is None:
        return None
    return importlib.import_module(module).profile()  # type: ignore[no-any-return]


def generic_profile(name: str) -> BuiltinProfile:
    return BuiltinProfile(name=name, executable=name, argv=[name, "{prompt}"])


def profile_for(name: str, harness: HarnessConfig | None = None) -> HarnessProfile:
    """The profile for a configured harness: built-in (or `quota.profile`) plus config overrides."""
    quota: Mapping[str, Any] = dict(harness.quota) if harness is not None else {}
    base_name = quota.get("profile") if isinstance(quota.get("profile"), str) else name
    prof = builtin_profile(str(base_name)) or generic_profile(name)
    if prof.name != name:
        prof = dataclasses.replace(prof, name=name)
    if harness is None:
        return prof
    changes: dict[str, Any] = {"default_timeout_minutes": float(harness.timeout_minutes)}
    if harness.command:
        changes["argv"] = list(harness.command)
        changes["executable"] = harness.executable or harness.command[0]
        changes["stdin_argv"] = None  # a command of the user's: its prompt is where it says
    elif harness.executable:
        argv = list(prof.argv)
        if argv and argv[0] == prof.executable:
            argv[0] = harness.executable
        changes["argv"] = argv
        changes["executable"] = harness.executable
        if prof.stdin_argv and prof.stdin_argv[0] == prof.executable:
            changes["stdin_argv"] = [harness.executable, *prof.stdin_argv[1:]]
    codes = quota.get("rate_limit_exit_codes")
    if isinstance(codes, list) and all(
        isinstance(c, int) and not isinstance(c, bool) for c in codes
    ):
        changes["rate_limit_exit_codes"] = tuple(codes)
    pats = quota.get("limit_patterns")
    if isinstance(pats, list) and all(isinstance(p, str) for p in pats):
        changes["limit_patterns"] = tuple(prof.limit_patterns) + tuple(pats)
    scope = quota.get("scope")
    if scope in ("arm", "harness"):
        changes["scope_arm"] = scope == "arm"
    return dataclasses.replace(prof, **changes)


def config_problems(harness: HarnessConfig) -> list[tuple[str, str]]:
    """(problem, fix) pairs for the harness-specific parts the config loader cannot check."""
    out: list[tuple[str, str]] = []
    key = f"harnesses.{harness.name}"
    quota = dict(harness.quota)
    prof_name = quota.get("profile")
    if prof_name is not None and (not isinstance(prof_name, str) or prof_name not in BUILTIN):
        out.append(
            (
                f"{key}.quota.profile = {prof_name!r} is not a built-in profile",
                f"use one of: {', '.join(BUILTIN)}, or remove it",
            )
        )
    for p in quota.get("limit_patterns") or []:
        try:
            re.compile(str(p))
        except re.error as exc:
            out.append(
                (
                    f"{key}.quota.limit_patterns: {p!r} is not a valid regex ({exc})",
                    "fix or remove the pattern",
                )
            )
    for opt, allowed in (
        ("source", ("auto", "api", "logs", "none")),
        ("scope", ("arm", "harness")),
    ):
        if opt in quota and quota[opt] not in allowed:
            out.append(
                (
                    f"{key}.quota.{opt} = {quota[opt]!r} is not one of {', '.join(allowed)}",
                    f"use one of: {', '.join(allowed)}",
                )
            )
    codes = quota.get("rate_limit_exit_codes")
    if codes is not None and not (
        isinstance(codes, list)
        and all(isinstance(c, int) and not isinstance(c, bool) for c in codes)
    ):
        out.append(
            (
                f"{key}.quota.rate_limit_exit_codes must be a list of integers",
                "e.g. rate_limit_exit_codes = [75]",
            )
        )
    if harness.name not in BUILTIN and not harness.command and prof_name is None:
        out.append(
            (
                f"{key} is not a built-in harness and has no command",
                f'add command = ["{harness.name}", "--model", "{{model}}", "{{prompt}}"]',
            )
        )
    argv = list(harness.command or (profile_for(harness.name, harness).argv))
    joined = " ".join(argv)
    if "{prompt}" not in joined and "{prompt_file}" not in joined:
        out.append(
            (
                f"{key}.command never passes the prompt",
                "put {prompt} or {prompt_file} in one of its elements",
            )
        )
    if "{model}" not in joined and len(harness.models) > 1:
        out.append(
            (
                f"{key}.command has no {{model}} but {len(harness.models)} models are configured",
                "add {model} so each arm runs its own model",
            )
        )
    from rota.session.argv import PLACEHOLDERS

    for field in re.findall(r"\{(\w*)\}", joined):
        if field not in PLACEHOLDERS:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            out.append((f"{key}.command uses an unknown placeholder {{{field}}}", f"use {known}"))
    if not harness.models:
        out.append(
            (
                f"{key} has no models, so it has no arms",
                f'add [{key}.models] with e.g. name = {{ tier = "medium", cost = 1.0 }}',
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# The model that ran, in the config's own names

_SPLIT = re.compile(r"[-_./:\s]+")


def _norm(model: str) -> str:
    m = model.strip().lower()
    m = re.sub(r"\[[^\]]*\]$", "", m)  # claude-opus-4-6[1m]
    m = re.sub(r"-\d{8}$", "", m)  # dated snapshots: claude-sonnet-4-5-20250929
    return m.replace(".", "-")


def canonical_model(harness: str, seen: str | None, configured_models: Iterable[str]) -> str | None:
    """Map the model a harness reported (claude-sonnet-4-6) to the configured name (sonnet).

    Tries, in order: the exact name; a normalised match (case, `.` vs `-`, a dated suffix, a
    [1m] suffix, a provider prefix on either side); then a configured alias without digits
    (opus, sonnet, haiku) that is one of the reported name's words. Without a match it returns
    `seen` unchanged, so the caller can tell that an unconfigured model ran. None if seen is None.
    """
    if not seen:
        return None
    conf = list(configured_models)
    if seen in conf:
        return seen
    n = _norm(seen)
    tail = n.rsplit("/", 1)[-1]
    for c in conf:
        cn = _norm(c)
        if cn == n or cn.rsplit("/", 1)[-1] == tail:
            return c
    words = set(_SPLIT.split(tail))
    aliases = [c for c in conf if not any(ch.isdigit() for ch in c) and _norm(c) in words]
    if len(aliases) == 1:
        return aliases[0]
    return seen


# ---------------------------------------------------------------------------------------------
# What a limit hit blocks


def _pools_of(arm: str, config: Config) -> list[str]:
    if arm in config.arms:
        return list(config.arm_scopes(arm).pools)
    harness = arm.split(":", 1)[0]
    return [p.name for p in config.pools.values() if harness in p.harnesses or arm in p.arms]


def limit_scopes(hit: LimitHit, arm: str, config: Config) -> list[tuple[str, str]]:
    """The (scope_kind, scope) pairs a limit hit on `arm` blocks.

    - A vendor-named per-model pool (hit.model_match, e.g. Claude's weekly opus pool) blocks the
      arms of that harness whose model contains the name, and pools that name one of those arms
      explicitly, but not a pool that merely covers the whole harness.
    - Otherwise the hit's own scope (the harness by default, the arm for multi-provider
      harnesses), plus every configured pool covering the arm: one subscription serving several
      harnesses runs out for all of them at once.
    """
    harness = arm.split(":", 1)[0]
    out: list[tuple[str, str]] = []

    def add(kind: str, scope: str) -> None:
        if (kind, scope) not in out:
            out.append((kind, scope))

    if hit.scope_kind == "arm" and hit.model_match:
        fam = hit.model_match.lower()
        hc = config.harnesses.get(harness)
        matched = [f"{harness}:{m}" for m in (hc.models if hc else {}) if fam in m.lower()]
        if not matched:
            matched = [arm]
        for a in matched:
            add("arm", a)
        for p in config.pools.values():
            if any(a in p.arms for a in matched):
                add("pool", p.name)
        return out
    if hit.scope_kind == "pool" and hit.scope:
        add("pool", hit.scope)
    elif hit.scope_kind == "arm":
        add("arm", hit.scope or arm)
    else:
        add("harness", hit.scope or harness)
    for p in _pools_of(arm, config):
        add("pool", p)
    return out
