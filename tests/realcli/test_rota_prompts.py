"""Prompts that an argv cannot carry as they are, through `rota run` and each real CLI: one that
starts with "-" (a Markdown list) is still the prompt, and one too long for an argument reaches
the model whole (on standard input, or by file for aider)."""

from __future__ import annotations

import dataclasses
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mockapi.plan import SCENARIOS
from realcli.clis import CLIS
from realcli.conftest import require_cli
from realcli.rota_run import RotaRun, rota_session

pytestmark = [pytest.mark.realcli, pytest.mark.slow]

LONG = "Read every line of this before you answer. " * 4000 + "\nWhat is 2 + 2?"  # 176 KB
_RESULTS: dict[str, RotaRun | BaseException] = {}


def _long_prompt_runs(root: Path) -> dict[str, RotaRun | BaseException]:
    if not _RESULTS:
        scenario = dataclasses.replace(SCENARIOS["text"], prompt=LONG)
        names = [n for n, c in sorted(CLIS.items()) if c.installed()]

        def one(name: str) -> RotaRun | BaseException:
            try:
                folder = Path(tempfile.mkdtemp(prefix=f"{name}-long-", dir=root))
                return rota_session(CLIS[name], scenario, folder)
            except BaseException as exc:
                return exc

        with ThreadPoolExecutor(max_workers=4) as pool:
            _RESULTS.update(zip(names, pool.map(one, names), strict=True))
    return _RESULTS


@pytest.mark.parametrize("cli", sorted(CLIS))
def test_a_prompt_too_long_for_one_argument_reaches_the_model(
    cli: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require_cli(cli)
    run = _long_prompt_runs(tmp_path_factory.mktemp("realcli-prompts"))[cli]
    if isinstance(run, BaseException):
        raise run
    assert run.session is not None, run.proc.stderr[-2000:]
    assert run.session.status == "completed", (dict(run.session.detail), run.log[-2000:])
    biggest = max(r.get("bytes", 0) for r in run.requests)
    assert biggest > len(LONG), f"the model got at most {biggest} bytes"
    argv = run.result.get("argv") or []
    assert not any(LONG[:100] in a for a in argv)  # not as an argument
