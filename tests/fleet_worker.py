"""One "machine" of the multi-process fleet test: runs `rota run`'s code path (runner.run_once,
the same function the CLI calls) until it has completed its share of sessions.

usage: python fleet_worker.py CONFIG SESSIONS OUT_JSON
env: ROTA_MACHINE, ROTA_STATE_DIR, ROTA_STORE_URL (set by the test)
"""

from __future__ import annotations

import json
import random
import sys
import time


def main() -> int:
    from rota.config import load_config
    from rota.session.run import RunOptions, run_once
    from rota.session.stop import StopFlag

    cfg_path, want, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    config = load_config(cfg_path)
    done: list[int] = []
    outcomes: dict[str, int] = {}
    rng = random.Random()
    deadline = time.monotonic() + 120  # bounded: the test fails rather than hangs
    while len(done) < want and time.monotonic() < deadline:
        result = run_once(config, RunOptions(), StopFlag())
        outcomes[result.status] = outcomes.get(result.status, 0) + 1
        if result.session is not None:
            done.append(result.session.id)
            if result.status != "completed":
                break  # unexpected: let the test report it
        else:
            # busy (another machine has the workspace) or every pool full: try again shortly
            time.sleep(rng.uniform(0.005, 0.03))
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"sessions": done, "outcomes": outcomes}, fh)
    return 0 if len(done) == want else 1


if __name__ == "__main__":
    sys.exit(main())
