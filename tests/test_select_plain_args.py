"""A plain `rota select` is parsed by hand (rota.commands.select.plain_args); everything else by
argparse. Both paths must give the same answer: the same namespace to the command, the same
output, the same exit code, for plain invocations and for help, errors and suggestions alike.

Each argument list runs through rota.cli.main twice, once as it is and once with the hand parser
turned off, with the command's handler replaced by one that records what it was given.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RotaEnv
from rota import cli
from rota.commands import select

PLAIN = [
    [],
    ["--json"],
    ["--explain"],
    ["--json", "--explain", "--json"],
    ["--category", "code"],
    ["--category=code"],
    ["-c", "code"],
    ["-c", "code", "--category", "docs"],  # the last one counts
    ["--seed", "7"],
    ["--seed=7"],
    ["--seed", " 7"],
    ["--seed", "1_000"],
    ["--seed", "1", "--seed", "2"],
    ["--config", "x.toml"],
    ["--config=x.toml"],
    ["--config", "a=b"],
    ["--config=a=b"],
    ["--workspace", "/tmp/w"],
    ["--workspace=/tmp/w"],
    ["--category", "code x"],
    ["--json", "--category", "code", "--seed", "3", "--config", "c.toml", "--workspace", "w"],
]
# Left to argparse: help, errors, abbreviations, values that look like options, ...
OTHER = [
    ["--help"],
    ["-h"],
    ["--seed", "x"],
    ["--seed", "1.5"],
    ["--seed"],
    ["--seed", "-3"],
    ["--seed=-3"],
    ["--category"],
    ["-c"],
    ["-ccode"],
    ["-c=code"],
    ["--cat", "code"],
    ["--jsn"],
    ["--explian"],
    ["--json=1"],
    ["extra"],
    ["--", "x"],
    ["--config="],
    ["--config", ""],
    ["--config", "--json"],
    ["-x"],
    ["--version"],
]


def outcome(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], *, hand: bool
) -> tuple[dict[str, object] | None, object, str, str, bool]:
    """(what the handler got, exit code, stdout, stderr, whether the hand parser answered)."""
    got: list[dict[str, object]] = []
    answered: list[bool] = []
    real_plain = select.plain_args

    def handler(args: object) -> int:
        got.append(dict(vars(args)))
        return 0

    def plain(args: list[str]) -> object:
        ns = real_plain(args) if hand else None
        answered.append(ns is not None)
        return ns

    monkeypatch.setattr(select, "run", handler)
    monkeypatch.setattr(select, "plain_args", plain)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code: object = cli.main(argv)
        except SystemExit as exc:  # argparse's help and errors
            code = exc.code
    monkeypatch.undo()
    args = got[0] if got else None
    if args is not None:
        assert args.pop("func") is handler
    return args, code, out.getvalue(), err.getvalue(), any(answered)


def same_both_ways(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> bool:
    by_hand = outcome(monkeypatch, argv, hand=True)
    by_argparse = outcome(monkeypatch, argv, hand=False)
    assert by_hand[:4] == by_argparse[:4], argv
    return by_hand[4]


@pytest.mark.parametrize("args", PLAIN, ids=" ".join)
def test_a_plain_select_is_parsed_by_hand_as_argparse_parses_it(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    assert same_both_ways(monkeypatch, ["select", *args])


@pytest.mark.parametrize("args", OTHER, ids=" ".join)
def test_anything_else_is_left_to_argparse(
    monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    assert not same_both_ways(monkeypatch, ["select", *args])


def test_global_options_before_the_command_take_the_same_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert same_both_ways(monkeypatch, ["--json", "select"])
    assert same_both_ways(monkeypatch, ["--config", "x.toml", "select", "--seed", "3"])
    assert not same_both_ways(monkeypatch, ["--help", "select"])
    assert not same_both_ways(monkeypatch, ["--version", "select"])


def test_errors_keep_argparse_message_and_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    _, code, _, err, _ = outcome(monkeypatch, ["select", "--explian"], hand=True)
    assert code == 2 and "did you mean --explain?" in err
    _, code, _, err, _ = outcome(monkeypatch, ["select", "--seed", "x"], hand=True)
    assert code == 2 and "argument --seed: invalid int value: 'x'" in err
    _, code, out, _, _ = outcome(monkeypatch, ["select", "--help"], hand=True)
    assert code == 0 and out.startswith("usage: rota select")


TOKENS = [
    "--config", "--workspace", "--category", "-c", "--seed", "--json", "--explain", "--cat",
    "--seed=5", "--config=", "--category=docs", "-cdocs", "-h", "--", "code", "docs", "7",
    "-3", "x.toml", "", "a=b", " 8", "1.5", "--jsn",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=6))
def test_any_mix_of_options_gets_the_same_answer_both_ways(args: list[str]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        same_both_ways(mp, ["select", *args])


def test_a_real_plain_select_loads_no_argparse_and_decides_as_before(rota_env: RotaEnv) -> None:
    """End to end in a fresh interpreter: the same decision with the same seed both ways."""
    rota_env.write_config()
    code = (
        "import io, json, sys\n"
        "from rota import cli\n"
        "from rota.commands import select\n"
        "if sys.argv[1] == 'argparse':\n"
        "    select.plain_args = lambda args: None\n"
        "out, sys.stdout = sys.stdout, io.StringIO()\n"
        "rc = cli.main(['select', '--json', '--seed', '5', '-c', 'code'])\n"
        "got, sys.stdout = json.loads(sys.stdout.getvalue()), out\n"
        "got.pop('decided_at'); got.pop('decided_at_iso')\n"
        "print(json.dumps([rc, 'argparse' in sys.modules, got]))\n"
    )
    runs = {}
    for way in ("hand", "argparse"):
        proc = subprocess.run(
            [sys.executable, "-c", code, way],
            env=rota_env.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        runs[way] = json.loads(proc.stdout)
    assert runs["hand"][:2] == [0, False]
    assert runs["argparse"][:2] == [0, True]
    assert runs["hand"][2] == runs["argparse"][2] and runs["hand"][2]["arm"]
