"""`rota run`, one session end to end, one module per step or concern:

run (orchestration only) · plan (the one value carried forward: site, choice, plan) · decide (the
I/O shell of select) · recover (what dead runs left) · lock and fleet (the workspace, locally and
across machines) · prompting (category and prompt) · paths (state dir, session files) · record
(the session's row, started and finished) · launch (running the harness) · argv (the harness's argv) · execute (a child process, its
output and timeout) · groups (process groups) · stop (SIGTERM/SIGINT) ·
interpret (what the session amounts to) · outcome (its rules, pure: shared with the simulator) ·
grading · result (what a run returns)."""
