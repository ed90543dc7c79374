"""aider: what it prints -> a Trajectory.

aider prints, per model reply, "Tokens: 2.6k sent, 1.1k cache write, 3k cache hit, 34 received.
Cost: $0.0068 message, $0.0068 session."; "Applied edit to FILE" for each edit it made;
"Commit <sha> <message>" for each commit it made itself; and edit failures ("Failed to apply
edit", "did not conform to the edit format", "SearchReplaceNoExactMatch"). "Main model: X" names
the model.
"""

from __future__ import annotations

import re

from rota.trajectory.record import Trajectory, Usage
from rota.trajectory.source import HarnessOutput

SOURCE = "aider output"
_TOKENS = re.compile(r"^Tokens:\s*(.*?)(?:\.\s*Cost:\s*\$([0-9.]+)\s*message,\s*\$([0-9.]+)\s*session)?\.?\s*$")
_AMOUNT = re.compile(r"([0-9.]+)\s*([kKmM]?)\s+(sent|received|cache write|cache hit)")
_APPLIED = re.compile(r"^Applied edit to (.+?)\s*$")
_COMMIT = re.compile(r"^Commit ([0-9a-f]{7,40}) (.+)$")
_MODEL = re.compile(r"^(?:Main )?[Mm]odel:\s+(\S+)")
_EDIT_FAILED = re.compile(
    r"^(?:Failed to apply edit|The LLM did not conform to the edit format|"
    r"# \d+ SEARCH/REPLACE blocks? failed to match|SearchReplaceNoExactMatch)"
)
_MARKERS = ("<<<<<<< SEARCH", "=======", ">>>>>>> REPLACE", "```")
# aider's start-up banner: the reply starts after it
_BANNER = ("Aider v", "Main model:", "Weak model:", "Model:", "Git repo:", "Repo-map:", "Added ")


def _tokens(amount: str, unit: str) -> int:
    scale = {"k": 1_000, "m": 1_000_000}.get(unit.lower(), 1)
    try:
        return int(float(amount) * scale)
    except ValueError:
        return 0


def read(out: HarnessOutput) -> Trajectory:
    t = Trajectory(source=SOURCE)
    usage = Usage()
    edited: set[str] = set()
    turns = 0
    block: list[str] = []
    last_block: list[str] = []
    seen = False
    for raw in out.lines():
        line = raw.rstrip()
        m = _TOKENS.match(line)
        if m:
            seen = True
            turns += 1
            for amount, unit, kind in _AMOUNT.findall(m.group(1)):
                n = _tokens(amount, unit)
                if kind == "sent":
                    usage.input_tokens += n
                elif kind == "received":
                    usage.output_tokens += n
                elif kind == "cache write":
                    usage.cache_write_tokens += n
                else:
                    usage.cache_read_tokens += n
            if m.group(3):
                t.cost_usd = float(m.group(3))  # the running session total
            last_block, block = block, []
            continue
        if (m := _APPLIED.match(line)) is not None:
            seen = True
            edited.add(m.group(1))
            t.tool("edit", True)
        elif _EDIT_FAILED.match(line):
            seen = True
            t.tool("edit", False)
        elif (m := _COMMIT.match(line)) is not None:
            seen = True
            t.harness_commits.append(f"{m.group(1)} {m.group(2)}"[:200])
        elif line.startswith(_BANNER):
            if (m := _MODEL.match(line)) is not None and t.model is None:
                t.model = m.group(1)
            block = []
        else:
            block.append(line)
    if not seen:
        t.source = "none"
        t.notes.append("no aider token, edit or commit line in the output")
        return t
    # The reply before the last "Tokens:" line, without its edit blocks, is the final message.
    prose = [x for x in last_block if x.strip() and not x.startswith(_MARKERS)]
    t.set_final("\n".join(prose[-20:]))
    t.turns = turns
    if t.tool_calls is None:
        t.tool_calls, t.tool_errors = 0, 0
    if usage.total:
        t.usage = usage
    t.files_edited = len(edited)
    return t


__all__ = ["SOURCE", "read"]
