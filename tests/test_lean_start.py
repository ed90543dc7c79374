"""`rota select` starts lean: what a decision does not use is not imported.

Each check runs a real `rota select` in a fresh interpreter and reads the modules it loaded.
Timing itself belongs to bench/select_latency.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import RotaEnv

PROBE = """
import io, json, sys
from rota.cli import main
out, sys.stdout = sys.stdout, io.StringIO()  # not contextlib: what rota imports is measured
code = main(["select", "--json"])
got, sys.stdout = sys.stdout.getvalue(), out
print(json.dumps({"code": code, "arm": json.loads(got)["arm"], "modules": sorted(sys.modules)}))
"""

# Loaded by rota select at some point and never needed for a decision.
UNUSED = (
    "argparse",  # a plain select is parsed by hand (rota.commands.select.plain_args)
    "gettext",  # through argparse
    "locale",  # through argparse's gettext
    "zlib",  # the config cache's file name
    "typing",
    "pathlib",
    "dataclasses",
    "tomllib",  # the parsed config is cached
    "shutil",
    "contextlib",  # the store's transactions are small classes
    "rota.learning.step",  # learning is the write path: a decision only reads
    "rota.learning.change",
    "rota.procs",  # fleet leases only
    "rota.harnesses",  # cached probe answers: no profile is imported
)


def test_select_loads_nothing_it_does_not_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = RotaEnv(tmp_path)
    env.write_config()
    for _ in range(2):  # the second run reads the config and the probe answers from caches
        proc = subprocess.run(
            [sys.executable, "-c", PROBE], env=env.env, capture_output=True, text=True, check=True
        )
    got = json.loads(proc.stdout)
    assert got["code"] == 0 and got["arm"]
    loaded = set(got["modules"])
    assert sorted(m for m in UNUSED if m in loaded) == []


def test_a_parsed_command_gets_gettext_from_the_stand_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Commands that build a parser load argparse; its translations come from the stand-in (no
    catalog search, messages unchanged)."""
    env = RotaEnv(tmp_path)
    env.write_config()
    probe = PROBE.replace('["select", "--json"]', '["select", "--json", "--cat", "code"]')
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=env.env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(proc.stdout)["modules"])
    assert {"argparse", "gettext"} <= loaded and "locale" not in loaded


def test_the_gettext_stand_in_answers_like_gettext() -> None:
    code = """
import sys
import rota.lean_argparse
import gettext
stand_in = gettext
print(gettext.gettext("usage: "), gettext.ngettext("an arg", "args", 1), gettext.ngettext("an arg", "args", 2))
t = gettext.translation("rota-no-such-domain", fallback=True)  # the real module, loaded on demand
print(type(t).__name__, sys.modules["gettext"] is not stand_in, t.gettext("x"))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["usage:  an arg args", "NullTranslations True x"]


def test_an_already_loaded_gettext_is_left_alone() -> None:
    code = """
import gettext, sys
real = gettext
import rota.lean_argparse
print(sys.modules["gettext"] is real)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
