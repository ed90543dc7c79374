"""Every message of the limit corpus (tests/fixtures/limits/corpus.toml) read as rota reads it.

- Through the harness profile, on the channel that CLI really uses, with the machine's zone and
  the session's end as the entry says: every limit is detected, no look-alike is, and every stated
  reset is exact (to the second the message gives).
- Through `rota run`, with a stand-in executable (tests/fakes/limit-standin) that prints the
  entry's bytes and exits with its code: a limit ends as a rate_limited session whose reset is the
  profile's answer for that session's end, a look-alike never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from limits_corpus import Entry, load, outputs, reset_ok
from rota.harnesses.base import SessionOutput
from rota.harnesses.registry import builtin_profile
from run_support import RunEnv, new_run_env

ENTRIES = load()


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set this process's zone (TZ) for one test."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


def profile_answer(e: Entry, ended_at: float):
    stdout, stderr, code = outputs(e)
    return builtin_profile(e.harness).detect_limit(
        SessionOutput(exit_code=code, stdout=stdout, stderr=stderr, ended_at=ended_at)
    )


@pytest.mark.parametrize("e", ENTRIES, ids=lambda e: e.id)
def test_the_profile_reads_the_entry(e: Entry, zone: Callable[[str], None]) -> None:
    zone(e.zone)
    hit = profile_answer(e, e.at)
    if not e.is_limit:
        assert hit is None, f"a look-alike taken for a limit: {hit}"
        return
    assert hit is not None, "a real limit not recognised"
    assert reset_ok(e, hit.resets_at), f"reset {hit.resets_at} (want {e.reset})"


STANDIN_CONFIG = """
categories = ["code"]
default_category = "code"

[workspace]
path = "{{workspace}}"

[harnesses.{harness}]
command = ["limit-standin", "{{{{model}}}}", "{{{{prompt}}}}"]
timeout_minutes = 1
env = {{{{ LIMIT_ENTRY = "{entry}" }}}}
[harnesses.{harness}.models]
m1 = {{{{ tier = "medium" }}}}

[rules.code]
pin = ["{harness}:m1"]
"""


@pytest.fixture
def run_env(tmp_path: Path) -> RunEnv:
    return new_run_env(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("e", ENTRIES, ids=lambda e: e.id)
def test_rota_run_reads_the_entry(
    e: Entry, run_env: RunEnv, zone: Callable[[str], None]
) -> None:
    run_env.write_config(STANDIN_CONFIG.format(harness=e.harness, entry=e.id))
    run_env.env["TZ"] = e.zone
    code, out, err = run_env.run_json("run")
    s = out["session"]
    assert s["exit_code"] == e.exit_code, err
    if not e.is_limit:
        assert s["status"] in ("completed", "crashed"), s["detail"]
        assert code in (0, 70), err  # 70: the session crashed, as it did
        assert run_env.blocks() == []
        return
    assert code == 0, err  # a limit is not a failure of the run
    assert s["status"] == "rate_limited", (s["status"], err)
    zone(e.zone)
    want = profile_answer(e, s["ended_at"])
    assert want is not None
    got = s["detail"]["limit"].get("resets_at")
    if want.resets_at is None:
        assert got is None
        assert {b["source"] for b in run_env.blocks()} == {"backoff"}
    else:
        assert got is not None and abs(got - want.resets_at) < 1.0, (got, want.resets_at)
        assert all(abs(b["until_ts"] - got) < 1.0 for b in run_env.blocks() if got > time.time())
