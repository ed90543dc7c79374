"""The rota(1) manual page in roff, generated from the argparse parser (the same tree as the shell
completion), so the page and `--help` never disagree."""

from __future__ import annotations

import argparse
import os
import time

from rota.completion import CommandNode, command_tree


def _esc(text: str) -> str:
    """Plain text -> roff: backslashes, leading dots and quotes, and hyphens in option names."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    """Hand-written help text: blank lines separate paragraphs; indented lines stay as they are."""
    out: list[str] = []
    block: list[str] = []
    literal = False
    for line in text.strip("\n").split("\n"):
        if not line.strip():
            if block:
                out.append(_flush(block, literal))
            block, literal = [], False
            continue
        if line.startswith("  ") and not block:
            literal = True
        block.append(line)
    if block:
        out.append(_flush(block, literal))
    return out


def _flush(block: list[str], literal: bool) -> str:
    if literal:
        return ".PP\n.nf\n" + _esc("\n".join(block)) + "\n.fi"
    return ".PP\n" + _esc(" ".join(b.strip() for b in block))


def _option(parser: argparse.ArgumentParser, node: CommandNode) -> list[str]:
    lines = []
    by_flags = {tuple(a.option_strings): a for a in parser._actions if a.option_strings}
    for o in node.options:
        action = by_flags.get(o.flags)
        metavar = ""
        if o.takes_value and action is not None:
            mv = action.metavar or (
                "{" + ",".join(o.choices) + "}" if o.choices else action.dest.upper()
            )
            metavar = " \\fI" + _esc(str(mv)) + "\\fR"
        flags = ", ".join("\\fB" + _esc(f) + "\\fR" + metavar for f in o.flags)
        lines += [".TP", flags, _esc(o.help or "")]
    return lines


def _synopsis(parser: argparse.ArgumentParser) -> str:
    # A fixed width: the page must not depend on the terminal it was generated in.
    f = argparse.HelpFormatter(prog=parser.prog, width=78)
    f.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    usage = f.format_help().strip()
    return usage[len("usage: ") :] if usage.startswith("usage: ") else usage


def render(parser: argparse.ArgumentParser, version: str, epilog: str) -> str:
    nodes = command_tree(parser)
    parsers = {("rota",): parser}
    _index(parser, ("rota",), parsers)
    root = nodes[0]
    # SOURCE_DATE_EPOCH: the same page from the same source, for reproducible packages.
    stamp = os.environ.get("SOURCE_DATE_EPOCH", "")
    date = time.strftime("%Y-%m-%d", time.gmtime(int(stamp) if stamp.isdigit() else None))
    out = [
        f'.TH ROTA 1 "{date}" "rota {_esc(version)}" "User Commands"',
        ".SH NAME",
        "rota \\- " + _esc("one timer, one decision: the best AI coding agent for each session"),
        ".SH SYNOPSIS",
        ".B rota",
        "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
        ".SH DESCRIPTION",
        *_paragraphs(root.help),
        ".SH GLOBAL OPTIONS",
        ".PP",
        "Accepted before or after the command, in the same meaning everywhere.",
        *_option(parser, root),
        ".SH COMMANDS",
    ]
    for node in nodes[1:]:
        p = parsers[node.path]
        out += [".SS " + _esc(" ".join(node.path)), ".PP", ".nf", _esc(_synopsis(p)), ".fi"]
        out += _paragraphs(p.description or node.help)
        if node.options:
            out += _option(p, node)
        if node.commands:
            out += [".PP", "Commands:"]
            for name, help_text in node.commands:
                out += [".TP", "\\fB" + _esc(name) + "\\fR", _esc(help_text)]
    sections = _epilog_sections(epilog)
    if "exit codes" in sections:
        out += [".SH EXIT STATUS"]
        for line in sections["exit codes"]:
            code, _, meaning = line.strip().partition(" ")
            out += [".TP", "\\fB" + code + "\\fR", _esc(meaning.strip())]
    out += [
        ".SH ENVIRONMENT",
        ".TP",
        "\\fBROTA_CONFIG\\fR",
        "The config file, when \\fB\\-\\-config\\fR is not given.",
        ".TP",
        "\\fBROTA_STATE_DIR\\fR",
        "Where the SQLite store and the session logs live.",
        ".TP",
        "\\fBROTA_STORE_URL\\fR",
        "A shared PostgreSQL store for a fleet.",
        ".TP",
        "\\fBNO_COLOR\\fR",
        "When set, output is never coloured.",
        ".SH FILES",
        ".TP",
        "\\fI$XDG_CONFIG_HOME/rota/rota.toml\\fR",
        "The config (written by \\fBrota init\\fR; checked by \\fBrota config check\\fR).",
        ".TP",
        "\\fI$XDG_STATE_HOME/rota/rota.db\\fR",
        "The SQLite store.",
        ".SH SEE ALSO",
        "\\fBsystemd.timer\\fR(5), \\fBsystemctl\\fR(1)",
        "",
    ]
    return "\n".join(out)


def _index(
    parser: argparse.ArgumentParser,
    path: tuple[str, ...],
    into: dict[tuple[str, ...], argparse.ArgumentParser],
) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                sub = action.choices[choice.dest]
                into[(*path, choice.dest)] = sub
                _index(sub, (*path, choice.dest), into)


def _epilog_sections(epilog: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in epilog.split("\n"):
        if line and not line.startswith(" ") and line.endswith(":"):
            current = sections.setdefault(line[:-1], [])
        elif current is not None and line.startswith(" ") and line.strip():
            current.append(line)
        elif not line.strip():
            current = None
    return sections
