"""Harness profiles: how each agent CLI runs headless, reports limits, and reports its model.

`get_profile(name)` returns the built-in profile for a known harness, or a generic profile for a
custom command. Profiles are cheap to import: probes import their heavy parts lazily.
"""

from __future__ import annotations

from rota.harnesses.base import HarnessProfile, LimitHit, ProbeContext, SessionOutput

KNOWN_HARNESSES = ("claude-code", "codex", "gptme", "copilot", "gemini", "aider", "opencode")


def get_profile(name: str) -> HarnessProfile:
    """The built-in profile for `name`, or a generic one for a custom harness."""
    from rota.harnesses import registry

    return registry.profile_for(name)


__all__ = [
    "KNOWN_HARNESSES",
    "HarnessProfile",
    "LimitHit",
    "ProbeContext",
    "SessionOutput",
    "get_profile",
]
