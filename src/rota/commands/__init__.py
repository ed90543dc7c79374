"""The command-line layer: one module per command, each parse -> call one function -> render.

COMMANDS is the table of commands (rota.cli dispatches on it; rota.command_line builds the
argparse parser from it); EPILOG ends `rota --help`.
"""

# command -> (module, one-line summary). Each module has register(subparsers) that adds its parser
# and sets `func(args) -> int` as the handler default.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("rota.commands.init", "write a commented starter config"),
    "select": ("rota.commands.select", "choose the harness:model arm for the next session"),
    "run": ("rota.commands.run", "run one session end to end: lock, select, execute, grade, learn"),
    "loop": ("rota.commands.loop", "run sessions back to back (for machines without systemd)"),
    "status": ("rota.commands.status", "posteriors, blocks, quota and recent sessions"),
    "sessions": ("rota.commands.sessions", "list recorded sessions, or show one"),
    "grade": ("rota.commands.grade", "set or correct a session's grade"),
    "block": ("rota.commands.block", "block an arm, harness or pool until a time"),
    "unblock": ("rota.commands.block", "remove blocks from an arm, harness or pool"),
    "quota": ("rota.commands.quota", "quota left per harness, pool and window, and why"),
    "doctor": ("rota.commands.doctor", "can a session run? workspace, store, timer, harnesses"),
    "systemd": ("rota.commands.systemd", "install, inspect or retire systemd timers"),
    "health": ("rota.commands.health", "health check for monitoring"),
    "simulate": ("rota.commands.simulate", "replay scenarios against rota and baseline policies"),
    "store": ("rota.commands.store", "state store maintenance (migrate between stores)"),
    "report": ("rota.commands.report", "write an HTML report of what rota learnt and ran"),
    "metrics": ("rota.commands.metrics", "write Prometheus metrics (text exposition format)"),
    "config": ("rota.commands.config", "check the config file: every error at once"),
    "completion": ("rota.commands.completion", "shell completion for bash, zsh and fish"),
    "man": ("rota.commands.man", "the manual page, generated from this command line"),
}

EPILOG = """\
global options (before or after the command): --config PATH, --json, --workspace DIR

exit codes:
  0   a session ran (or, for select, an arm was chosen)
  2   command-line usage error
  69  the state store cannot be reached
  70  the harness crashed or timed out; the session is recorded
  75  the workspace is busy: another session holds the lock
  76  every arm is exhausted or blocked; the output says when the earliest resets
  78  configuration error

config: --config PATH, else $ROTA_CONFIG, else $XDG_CONFIG_HOME/rota/rota.toml
state:  $ROTA_STATE_DIR/rota.db, else $XDG_STATE_HOME/rota/rota.db
"""
