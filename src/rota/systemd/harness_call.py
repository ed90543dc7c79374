"""Which harness a unit runs: the agent CLI behind an ExecStart= line.

Found directly, through launchers (env, nice, timeout, flock, sudo, …), through `sh -c`, or
through a wrapper script read one level deep: the script's own commands, or its arguments when
it runs `"$@"`. Reading is all this module does; it never runs anything.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "fish"}
# Launchers that run their arguments as a command: name -> (options that take a value, operands
# before the command). The harness is the command they launch.
LAUNCHERS: dict[str, tuple[frozenset[str], int]] = {
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "flock": (frozenset({"-w", "--wait", "--timeout", "-E", "--conflict-exit-code"}), 1),
    "nohup": (frozenset(), 0),
    "setsid": (frozenset(), 0),
    "stdbuf": (frozenset(), 0),
    "chrt": (frozenset(), 1),
    "taskset": (frozenset(), 1),
    "systemd-cat": (frozenset({"-t", "-p"}), 0),
    "systemd-inhibit": (frozenset(), 0),
    "systemd-run": (frozenset({"-u", "-p", "-E"}), 0),
    "sudo": (frozenset({"-u", "--user", "-g", "--group", "-C", "-D", "-h", "-p", "-r", "-t"}), 0),
    "runuser": (frozenset({"-u", "-g", "-G", "-s", "--user", "--group"}), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "exec": (frozenset({"-a"}), 0),
    "time": (frozenset({"-f", "-o"}), 0),
    "command": (frozenset(), 0),
    "caffeinate": (frozenset(), 0),
    "xvfb-run": (frozenset({"-n", "-s", "-e", "-f"}), 0),
}
MODEL_FLAGS = ("--model", "-m")
SCRIPT_MAX_BYTES = 256 * 1024


@functools.cache
def known_clis() -> dict[str, str]:
    """CLI executable name -> rota harness name, from the built-in profiles."""
    from rota.harnesses import KNOWN_HARNESSES, get_profile

    return {get_profile(name).executable: name for name in KNOWN_HARNESSES}


def _duration(text: str) -> float | None:
    """`timeout`'s DURATION (45m, 2h, 90) in seconds; None when it is not one."""
    from rota.timefmt import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class HarnessCall:
    harness: str  # rota's name (claude-code, …)
    executable: str  # as written (claude, /usr/local/bin/claude, …)
    argv: tuple[str, ...]
    model: str | None = None
    via: str | None = None  # the wrapper script it was found in, if any
    timeout_s: float | None = None  # from a `timeout DURATION` launcher


def _base(word: str) -> str:
    return os.path.basename(word)


def _harness_of(word: str) -> str | None:
    return known_clis().get(_base(word))


_VAR = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*|[0-9@*])(?:(:?[-=])([^}]*))?\}?$")


def resolve_word(word: str, env: Mapping[str, str]) -> str | None:
    """`$X`, `${X}`, `${X:-default}` -> value; None when it cannot be known here."""
    if "$" not in word:
        return word
    m = _VAR.match(word)
    if not m:
        return None
    name, op, default = m.group(1), m.group(2), m.group(3)
    if name in env and (env[name] or not op or not op.startswith(":")):
        return env[name]
    return default if op else None


def model_from_argv(argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    for i, w in enumerate(argv):
        for flag in MODEL_FLAGS:
            if w == flag and i + 1 < len(argv):
                return resolve_word(argv[i + 1], env) or argv[i + 1]
            if flag.startswith("--") and w.startswith(flag + "="):
                v = w[len(flag) + 1 :]
                return resolve_word(v, env) or v
    return None


@dataclass(slots=True)
class _Stripped:
    words: list[str]
    timeout_s: float | None = None
    shell_text: str | None = None  # `sh -c TEXT` / `flock FILE -c TEXT`


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
_SHELL_C = re.compile(r"-[a-zA-Z]*c[a-zA-Z]*")


def _strip_launchers(argv: Sequence[str]) -> _Stripped:
    """Drop VAR=x prefixes and launchers (with their options and operands) in front of the
    command that does the work."""
    words = list(argv)
    out = _Stripped(words)
    while words:
        if _ASSIGNMENT.fullmatch(words[0]):
            words.pop(0)
            continue
        name = _base(words[0])
        spec = LAUNCHERS.get(name)
        if spec is None:
            break
        with_value, operands = spec
        words.pop(0)
        while words and words[0].startswith("-") and words[0] != "-":
            opt = words.pop(0)
            if opt == "--":
                break
            if opt in with_value and words:
                words.pop(0)
            elif name == "flock" and opt in ("-c", "--command") and words:
                out.shell_text = words.pop(0)
                return out
        if name == "env":
            while words and _ASSIGNMENT.fullmatch(words[0]):
                words.pop(0)
        for _ in range(operands):
            if not words:
                break
            operand = words.pop(0)
            if name == "timeout":
                out.timeout_s = _duration(operand)
        if name == "flock" and len(words) >= 2 and words[0] in ("-c", "--command"):
            out.shell_text = words[1]
            return out
    if words and _base(words[0]) in SHELLS:
        for i, w in enumerate(words[1:], start=1):
            if _SHELL_C.fullmatch(w) and i + 1 < len(words):
                out.shell_text = words[i + 1]
                return out
            if not w.startswith("-"):
                break
    return out


def _call(
    words: Sequence[str], env: Mapping[str, str], via: str | None, timeout_s: float | None
) -> HarnessCall | None:
    if not words:
        return None
    harness = _harness_of(words[0])
    if harness is None:
        return None
    return HarnessCall(
        harness=harness,
        executable=words[0],
        argv=tuple(words),
        model=model_from_argv(words[1:], env),
        via=via,
        timeout_s=timeout_s,
    )


def _shell_commands(text: str) -> Iterator[list[str]]:
    """Simple commands of a shell script (lines joined, split on ; && || | &), comments dropped."""
    logical: list[str] = []
    buf = ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        logical.append(buf + raw)
        buf = ""
    if buf:
        logical.append(buf)
    for line in logical:
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lex.whitespace_split = True
        lex.commenters = "#"
        try:
            tokens = list(lex)
        except ValueError:
            continue
        cmd: list[str] = []
        for tok in [*tokens, ";"]:
            if tok and set(tok) <= set(";&|()"):
                if cmd:
                    yield cmd
                cmd = []
                continue
            if not cmd and tok in _SHELL_KEYWORDS:
                continue
            cmd.append(tok)


_SHELL_KEYWORDS = {
    "if",
    "then",
    "else",
    "elif",
    "do",
    "while",
    "until",
    "!",
    "{",
    "}",
    "fi",
    "done",
}


def _script_assignments(text: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """NAME=value lines of a script, resolved against `base` (the unit's Environment=)."""
    env: dict[str, str] = dict(base or {})
    for cmd in _shell_commands(text):
        words = cmd[1:] if cmd and cmd[0] in ("export", "local", "readonly", "declare") else cmd
        for w in words:
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", w)
            if not m:
                break
            value = m.group(2)
            env[m.group(1)] = resolve_word(value, env) or value
    return env


def _read_script(path: str) -> str | None:
    p = Path(path).expanduser()
    try:
        if not p.is_file() or p.stat().st_size > SCRIPT_MAX_BYTES:
            return None
        data = p.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:4096]:
        return None  # a binary, not a script
    return data.decode("utf-8", errors="replace")


def _runs_args(text: str) -> bool:
    """Does the script run its own arguments (`exec "$@"`, `"$@"`)?"""
    return any(w in ("$@", "${@}", "$*") for cmd in _shell_commands(text) for w in cmd)


def _find_in_text(
    text: str, env: Mapping[str, str], via: str | None, timeout_s: float | None
) -> HarnessCall | None:
    senv = _script_assignments(text, env)
    for cmd in _shell_commands(text):
        st = _strip_launchers(cmd)
        t = st.timeout_s or timeout_s
        if st.shell_text is not None:
            call = _find_in_text(st.shell_text, senv, via, t)
        else:
            call = _call(st.words, senv, via, t) or _handed_to_wrapper(st.words, senv, via, t)
        if call:
            return call
    return None


def _handed_to_wrapper(
    words: Sequence[str], env: Mapping[str, str], via: str | None, timeout_s: float | None
) -> HarnessCall | None:
    """`some-wrapper claude -p …`: a harness command passed as arguments to another program.
    Only when options follow the harness name, so `notify-send claude done` is not a match."""
    for i in range(1, len(words)):
        if _harness_of(words[i]) and any(w.startswith("-") for w in words[i + 1 :]):
            return _call(words[i:], env, via, timeout_s)
    return None


def find_harness(argv: Sequence[str], env: Mapping[str, str]) -> HarnessCall | None:
    """The harness an ExecStart argv runs: directly, via launchers, `sh -c`, or a wrapper script
    (one level: the script's own commands, or its arguments when it runs `"$@"`)."""
    st = _strip_launchers(argv)
    if st.shell_text is not None:
        return _find_in_text(st.shell_text, env, None, st.timeout_s)
    words = st.words
    if not words:
        return None
    direct = _call(words, env, None, st.timeout_s)
    if direct:
        return direct
    if _base(words[0]) in SHELLS:  # `bash /path/script.sh ARGS`
        words = words[1:]
        while words and words[0].startswith("-"):
            words.pop(0)
        if not words:
            return None
    script, args = words[0], words[1:]
    text = _read_script(script)
    if text is not None:
        senv = dict(env)
        senv.update({str(i): a for i, a in enumerate(args, start=1)})
        senv = _script_assignments(text, senv)
        if _runs_args(text):
            inner = _strip_launchers(args)
            call = _call(inner.words, senv, script, inner.timeout_s or st.timeout_s)
            if call:
                return call
        call = _find_in_text(text, senv, script, st.timeout_s)
        if call:
            return call
    # A wrapper we cannot read (or that hides it): the harness may be among its arguments.
    return _handed_to_wrapper(words, env, script if text is not None else None, st.timeout_s)
