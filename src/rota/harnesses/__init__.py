"""Harness profiles: how each agent CLI runs headless, reports limits, and reports its model.

`get_profile(name, harness_config)` returns the built-in profile for a known harness (with the
config's overrides), or a generic profile for a custom command. Profiles are cheap to import:
probes import their heavy parts (urllib, zstandard) lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rota.harnesses.base import HarnessProfile, LimitHit, ProbeContext, SessionOutput

if TYPE_CHECKING:
    from rota.config import Config, HarnessConfig

KNOWN_HARNESSES = ("claude-code", "codex", "gptme", "copilot", "gemini", "aider", "opencode")


def get_profile(name: str, harness: HarnessConfig | None = None) -> HarnessProfile:
    """The built-in profile for `name` (with config overrides), or a generic one."""
    from rota.harnesses import registry

    return registry.profile_for(name, harness)


def canonical_model(harness: str, seen: str | None, configured_models: Any) -> str | None:
    """The configured model name for a reported one (claude-sonnet-4-6 -> sonnet)."""
    from rota.harnesses import registry

    return registry.canonical_model(harness, seen, configured_models)


def limit_scopes(hit: LimitHit, arm: str, config: Config) -> list[tuple[str, str]]:
    """The (scope_kind, scope) pairs a limit hit on `arm` blocks (its harness or arm, and pools)."""
    from rota.harnesses import registry

    return registry.limit_scopes(hit, arm, config)


__all__ = [
    "KNOWN_HARNESSES",
    "HarnessProfile",
    "LimitHit",
    "ProbeContext",
    "SessionOutput",
    "canonical_model",
    "get_profile",
    "limit_scopes",
]
