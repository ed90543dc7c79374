"""Any harness that prints plain text (a custom command, Copilot without its session file): the
last lines as the final message, and a pull request when the output shows the command that opened
it and the URL it printed (rota.trajectory.prs.note_text). Nothing else is guessed."""

from __future__ import annotations

from rota.trajectory.prs import note_text
from rota.trajectory.record import Trajectory
from rota.trajectory.source import HarnessOutput

SOURCE = "text output"
FINAL_LINES = 20


def read(out: HarnessOutput) -> Trajectory:
    text = out.text()
    t = Trajectory(source=SOURCE if text.strip() else "none")
    lines = [x for x in text.splitlines() if x.strip()]
    t.set_final("\n".join(lines[-FINAL_LINES:]))
    note_text(t, text)
    return t


__all__ = ["SOURCE", "read"]
