"""Name -> profile. Built-in profiles live one module per CLI; unknown names get a generic profile."""

from __future__ import annotations

from rota.harnesses.base import HarnessProfile


def profile_for(name: str) -> HarnessProfile:
    # Built-in profiles register here as they are added (one module per CLI).
    return HarnessProfile(name=name, executable=name, argv=[name, "{prompt}"])
