"""rota: one timer for many AI coding-agent harnesses."""

__version__ = "0.1.0"


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _quiet_start_up() -> None:
    """A Ctrl-C while the `rota` command is still starting (importing) exits 130 without a
    traceback; rota.cli.main puts Python's usual handler back once it runs. Only for the
    command itself: a program that imports rota keeps its own handler."""
    import sys

    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 != "-m" and argv0.rsplit("/", 1)[-1] != "rota":
        return
    import _signal  # built in: costs nothing on the `rota select` path

    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, _exit_quietly)


_quiet_start_up()
