"""Record what each real CLI does in each scenario, as fixtures under tests/fixtures/realcli/.

    python tests/realcli/record.py                      # every CLI, every scenario it can meet
    python tests/realcli/record.py --cli codex --scenario commit-one --scenario text
    python tests/realcli/record.py --print --cli gemini --scenario rate-limit   # show, keep nothing

Needs root (a loopback-only network namespace) and the CLIs from `bash .ci/install-clis.sh`.
Each recording is a folder <cli>/<scenario>/ with `recording.json` (argv, the CLI's own env,
exit code, timing, commits, git status, changed files, the requests it sent the mock),
`stdout.txt`, `stderr.txt`, and `artifacts/` (the session logs and rollout files it wrote under
its HOME). Machine-specific paths are replaced by <WORKSPACE>, <HOME> and <URL>; JSON strings
longer than 4,000 characters (system prompts, tool schemas) are shortened.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from mockapi.plan import SCENARIOS, scenarios_for  # noqa: E402
from realcli.clis import CLI, CLIS, INSTALL_COMMAND  # noqa: E402
from realcli.netns import why_unavailable  # noqa: E402
from realcli.session import Recording, run_scenario  # noqa: E402

OUT = TESTS / "fixtures" / "realcli"
LONG = 4000


def scrub(text: str, rec: Recording) -> str:
    for placeholder, real in sorted(rec.paths.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(real, placeholder)
        if placeholder == "<WORKSPACE>":  # claude names its project folder after the path
            text = text.replace(real.replace("/", "-").replace(".", "-").replace("_", "-"),
                                "<WORKSPACE-SLUG>")
    return text


def _shorten(obj):
    if isinstance(obj, str) and len(obj) > LONG:
        return obj[:LONG] + f"…[{len(obj) - LONG} more characters not recorded]"
    if isinstance(obj, list):
        return [_shorten(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _shorten(v) for k, v in obj.items()}
    return obj


def shorten_jsonl(text: str) -> str:
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            out.append(line[:LONG] if len(line) > LONG else line)
            continue
        out.append(json.dumps(_shorten(obj), ensure_ascii=False))
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def write(rec: Recording, out: Path) -> Path:
    folder = out / rec.cli / rec.scenario
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "artifacts").mkdir(parents=True)
    data = rec.to_json()
    for key in ("stdout", "stderr", "artifacts", "paths"):
        data.pop(key)
    data["argv"] = [scrub(a, rec) for a in rec.argv]
    data["env"] = {k: scrub(v, rec) for k, v in rec.env.items()}
    (folder / "recording.json").write_text(
        scrub(json.dumps(data, indent=2, ensure_ascii=False), rec) + "\n", encoding="utf-8"
    )
    (folder / "stdout.txt").write_text(scrub(rec.stdout, rec), encoding="utf-8")
    (folder / "stderr.txt").write_text(scrub(rec.stderr, rec), encoding="utf-8")
    for rel, text in rec.artifacts.items():
        dest = folder / "artifacts" / scrub(rel, rec)
        dest.parent.mkdir(parents=True, exist_ok=True)
        body = shorten_jsonl(text) if rel.endswith((".jsonl", ".json")) else text
        dest.write_text(scrub(body, rec), encoding="utf-8")
    return folder


def record(cli: CLI, scenario_name: str, out: Path | None) -> Recording:
    with tempfile.TemporaryDirectory(prefix=f"rota-realcli-{cli.name}-") as tmp:
        rec = run_scenario(cli, SCENARIOS[scenario_name], Path(tmp))
        if out is not None:
            write(rec, out)
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cli", action="append", choices=sorted(CLIS), help="default: all")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all")
    ap.add_argument("--jobs", type=int, default=3, help="CLIs run at once (default 3)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    ap.add_argument("--print", action="store_true", help="print a summary, write nothing")
    args = ap.parse_args(argv)
    reason = why_unavailable()
    if reason:
        print(f"record.py: {reason}", file=sys.stderr)
        return 2
    jobs = []
    for name in args.cli or sorted(CLIS):
        cli = CLIS[name]
        if not cli.installed():
            print(f"record.py: {name} is not installed; run {INSTALL_COMMAND}", file=sys.stderr)
            return 2
        for scn in scenarios_for(cli.provider):
            if not args.scenario or scn.name in args.scenario:
                jobs.append((cli, scn.name))

    def one(job: tuple[CLI, str]) -> str:
        cli, scn = job
        rec = record(cli, scn, None if args.print else args.out)
        line = (
            f"{cli.name:12} {scn:20} exit={rec.exit_code!s:5} timeout={rec.timed_out!s:5} "
            f"{rec.seconds:6.1f}s commits={len(rec.commits)} requests={len(rec.requests)}"
        )
        if args.print:
            line += "\n" + rec.stdout[-1500:] + "\n--- stderr\n" + rec.stderr[-1500:]
        return line

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for line in pool.map(one, jobs):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
