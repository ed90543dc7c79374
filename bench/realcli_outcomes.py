"""What rota makes of each recorded real-CLI session (tests/fixtures/realcli/): per CLI, how many
scenarios it reads as expected (a limit as a limit, an infrastructure failure as `unavailable` of
its kind, a good session as neither, the served model credited).

    python bench/realcli_outcomes.py            # the rota this Python imports
    python bench/realcli_outcomes.py --detail   # one line per recording

To compare with another revision (e.g. 15ab3dd, main before issue 12), import its `src` first:

    mkdir -p /tmp/rota-main && git archive 15ab3dd src | tar -x -C /tmp/rota-main
    PYTHONPATH=/tmp/rota-main/src python bench/realcli_outcomes.py

Works with rota versions without `detect_infra` / `model_ran` (they read as "none"). Files only:
no CLI, no network.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "realcli"
LIMITS = {"rate-limit", "insufficient-quota", "limit-session", "limit-weekly-opus",
          "usage-limit-today", "usage-limit-days", "quota-exhausted", "capacity-exhausted"}
INFRA = {"auth": "auth", "unknown-model": "model", "server-500": "provider",
         "unavailable-503": "provider", "overloaded-529": "provider", "throttled": "throttled",
         "root-without-sandbox": "cli"}
SERVED = "mock-other-model-2"
SHOWS_MODEL = {"claude-code", "codex", "gemini", "gptme"}  # the others print no served model


def expected(scenario: str) -> str:
    if scenario in LIMITS:
        return "rate_limited"
    if scenario in INFRA:
        return f"unavailable:{INFRA[scenario]}"
    if scenario == "hang":
        return "timed_out"
    return "completed"


def read(cli: str, scenario: str) -> tuple[str, str | None]:
    """(outcome as rota classifies it, the model it credits)."""
    from rota.harnesses import base
    from rota.harnesses.registry import builtin_profile

    folder = FIXTURES / cli / scenario
    rec = json.loads((folder / "recording.json").read_text(encoding="utf-8"))
    home = folder / "artifacts"
    ended = rec.get("ended_at") or time.time()
    fields = {
        "exit_code": rec["exit_code"],
        "stdout": (folder / "stdout.txt").read_text(encoding="utf-8"),
        "stderr": (folder / "stderr.txt").read_text(encoding="utf-8"),
        "ended_at": ended,
        "started_at": rec.get("started_at") or ended - rec["seconds"],
        "timed_out": rec["timed_out"],
        "env": {"HOME": str(home), "CODEX_HOME": str(home / ".codex")},
    }
    known = inspect.signature(base.SessionOutput).parameters
    out = base.SessionOutput(**{k: v for k, v in fields.items() if k in known})
    profile = builtin_profile(cli)
    assert profile is not None, cli
    if profile.detect_limit(out) is not None:
        status = "rate_limited"
    elif rec["timed_out"]:
        status = "timed_out"
    else:
        infra = profile.detect_infra(out) if hasattr(profile, "detect_infra") else None
        if infra is not None:
            status = f"unavailable:{infra.kind}"
        else:
            status = "completed" if rec["exit_code"] == 0 else "crashed"
    if hasattr(profile, "model_ran"):
        model = profile.model_ran(out)
    else:
        model = profile.model_seen(out.stdout)
    return status, model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detail", action="store_true", help="one line per recording")
    args = ap.parse_args(argv)
    import rota

    print(f"rota from {Path(rota.__file__).parent}")
    rows = []
    for cli_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        cli = cli_dir.name
        right = total = 0
        wrong: list[str] = []
        for sc in sorted(p.name for p in cli_dir.iterdir() if (p / "recording.json").is_file()):
            status, model = read(cli, sc)
            ok = status == expected(sc)
            if sc == "other-model" and cli in SHOWS_MODEL:
                ok = ok and model == SERVED
            total += 1
            right += ok
            if not ok:
                wrong.append(f"{sc}->{status}" + (f" ({model})" if sc == "other-model" else ""))
            if args.detail:
                print(f"  {cli:12} {sc:20} {status:22} model={model}  {'ok' if ok else 'WRONG'}")
        rows.append((cli, right, total, wrong))
    print(f"{'CLI':12} {'right':>7}  wrong (scenario->outcome)")
    for cli, right, total, wrong in rows:
        print(f"{cli:12} {right:>3}/{total:<3}  {', '.join(wrong) or '-'}")
    print(f"{'all':12} {sum(r[1] for r in rows):>3}/{sum(r[2] for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
