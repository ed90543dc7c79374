"""The environment a harness runs with: what it needs, not every secret rota was given.

rota's own environment often holds API keys for several vendors. A harness gets:
- every variable that does not look like a credential (PATH, HOME, LANG, proxies, its config
  folders such as CLAUDE_CONFIG_DIR or CODEX_HOME, ...);
- its own credentials: the variables its profile declares (`auth_env`), those named in
  `[harnesses.X] pass_env`, and any other named for its vendor (VENDOR_PREFIXES: claude-code
  gets ANTHROPIC_AUTH_TOKEN, copilot COPILOT_PROVIDER_API_KEY, ...);
- `[harnesses.X] env`, as written; then rota's ROTA_SESSION_ID, ROTA_ARM, ...
It does not get another harness's declared credentials, nor any other variable whose name says it
is a secret (…_API_KEY, …_TOKEN, …_SECRET, PASSWORD, CREDENTIALS, …) or whose value is a URL with
a password. `pass_env = ["*"]` passes everything through, as rota did before. Pure, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

PASS_ALL = "*"
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:API_?KEY|ACCESS_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PASS|"
    r"CREDENTIALS?|AUTH|COOKIE|PRIVATE_?KEY|OAUTH)(?:_|$)",
    re.IGNORECASE,
)
# Names that match the pattern but hold no secret, and that tools need.
_NOT_SECRET = frozenset({"SSH_AUTH_SOCK", "GPG_AGENT_INFO", "XAUTHORITY", "KRB5CCNAME"})
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@", re.IGNORECASE)


# The names a vendor's own variables start with: a variable that looks like a secret but is named
# for the harness's vendor (and is not another harness's declared credential) is its own.
VENDOR_PREFIXES: dict[str, tuple[str, ...]] = {
    "claude-code": ("ANTHROPIC_", "CLAUDE_"),
    "codex": ("CODEX_", "OPENAI_"),
    "gemini": ("GEMINI_", "GOOGLE_"),
    "copilot": ("COPILOT_",),
    "opencode": ("OPENCODE_",),
    "gptme": ("GPTME_",),
    "aider": ("AIDER_",),
}


def looks_secret(name: str, value: str = "") -> bool:
    """A variable that probably holds a credential: by its name, or a URL with a password."""
    if name in _NOT_SECRET:
        return False
    return bool(_SECRET_NAME.search(name) or _URL_WITH_PASSWORD.search(value or ""))


def harness_environment(
    base: Mapping[str, str],
    *,
    own: Iterable[str] = (),
    others: Iterable[str] = (),
    config_env: Mapping[str, str] | None = None,
    pass_env: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
    prefixes: Iterable[str] = (),
) -> tuple[dict[str, str], list[str]]:
    """(environment, names withheld). `own`: this harness's declared credential variables;
    `others`: every other harness's; `pass_env`: names from [harnesses.X] pass_env ("*": all);
    `prefixes`: its vendor's (VENDOR_PREFIXES)."""
    passed = set(pass_env)
    mine = set(own) | passed
    theirs = set(others) - mine
    vendor = tuple(prefixes)
    env: dict[str, str] = {}
    withheld: list[str] = []
    for name, value in base.items():
        if PASS_ALL in passed or name in mine:
            env[name] = value
        elif name in theirs:
            withheld.append(name)
        elif vendor and name.startswith(vendor):
            env[name] = value
        elif looks_secret(name, value):
            withheld.append(name)
        else:
            env[name] = value
    env.update({str(k): str(v) for k, v in (config_env or {}).items()})
    env.update(extra or {})
    return env, sorted(withheld)


def for_harness(
    base: Mapping[str, str],
    *,
    profile: str,
    name: str,
    auth_env: Iterable[str],
    config_env: Mapping[str, str] | None = None,
    pass_env: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """(environment, names withheld) for a harness named `name` on the built-in `profile`: the
    one place a session's harness and the judge get their environment from."""
    others = [v for h, vs in declared_credentials().items() if h not in (profile, name) for v in vs]
    return harness_environment(
        base,
        own=auth_env,
        others=others,
        config_env=config_env,
        pass_env=pass_env,
        extra=extra,
        prefixes=VENDOR_PREFIXES.get(profile, ()),
    )


def declared_credentials() -> dict[str, tuple[str, ...]]:
    """Every built-in profile's credential variables (`auth_env`), by harness name."""
    from rota.harnesses.registry import BUILTIN, builtin_profile

    out: dict[str, tuple[str, ...]] = {}
    for name in BUILTIN:
        prof = builtin_profile(name)
        if prof is not None:
            out[name] = tuple(prof.auth_env)
    return out


__all__ = [
    "PASS_ALL",
    "VENDOR_PREFIXES",
    "declared_credentials",
    "for_harness",
    "harness_environment",
    "looks_secret",
]
