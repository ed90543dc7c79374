"""Codex rollout files as codex-rs writes them across versions (tests/fixtures/codex/variants/).

Each variant is a CODEX_HOME (`home/sessions/YYYY/MM/DD/rollout-*.jsonl`) with `expected.json`:
the windows a reader should report at `now`, labelled by their length (five_hour, seven_day,
monthly), the harness-wide ones apart from per-model ones (`model_windows`, keyed by the limit's
model name). README.md in that directory says what each variant stands for.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

VARIANTS = Path(__file__).resolve().parent / "fixtures" / "codex" / "variants"


def names() -> list[str]:
    return sorted(p.name for p in VARIANTS.iterdir() if (p / "expected.json").is_file())


def expected(name: str) -> dict[str, Any]:
    return json.loads((VARIANTS / name / "expected.json").read_text())


def epoch(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def install(name: str, dest: Path) -> Path:
    """Copy the variant's CODEX_HOME to dest and give each file the mtime codex would have left
    (its last line's timestamp: git keeps no mtimes). Returns the home directory."""
    home = dest / "codex-home"
    shutil.copytree(VARIANTS / name / "home", home)
    for path in home.rglob("rollout-*.jsonl"):
        last = path.read_text().splitlines()[-1]
        t = epoch(json.loads(last)["timestamp"])
        os.utime(path, (t, t))
    return home
