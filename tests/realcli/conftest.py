"""Fixtures for the `realcli` tests: the installed CLIs and a loopback-only namespace.

A test that needs a real CLI asks for `real_cli("codex")`. Without the CLI (or without root for
the network namespace) it is skipped with the one command that enables it, except where
$ROTA_REQUIRE_REALCLI is set (`.ci/run` sets it): there a skip would hide the tests, so it fails.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable

import pytest

from realcli.clis import CLI, CLIS, INSTALL_COMMAND
from realcli.netns import why_unavailable

_NS_REASON: list[str | None] = []


def _skip_or_fail(message: str) -> None:
    if os.environ.get("ROTA_REQUIRE_REALCLI"):
        pytest.fail(message + " ($ROTA_REQUIRE_REALCLI is set: a skip would hide it)", pytrace=False)
    print(f"\n*** {message} -- SKIPPING ***", file=sys.__stderr__)
    warnings.warn(message, pytest.PytestWarning, stacklevel=2)
    pytest.skip(message)


def require_namespace() -> None:
    if not _NS_REASON:
        _NS_REASON.append(why_unavailable())
    if _NS_REASON[0]:
        _skip_or_fail(f"real-CLI tests cannot run: {_NS_REASON[0]}")


def require_cli(name: str) -> CLI:
    cli = CLIS[name]
    if not cli.installed():
        _skip_or_fail(
            f"real-CLI tests need {name} ({cli.executable()} is missing): run {INSTALL_COMMAND}"
        )
    require_namespace()
    return cli


@pytest.fixture
def real_cli() -> Callable[[str], CLI]:
    return require_cli
