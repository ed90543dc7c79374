#!/usr/bin/env bash
# Decision quality: every policy on the public scenarios (and, with --all, bench/scenarios/*.toml).
# Usage: bench/decision_quality.sh [--all] [extra `rota simulate` options, e.g. --json --plot out.png]
# The public scenarios are examples/scenarios/ (format: docs/scenarios.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
dir="$repo/examples/scenarios"
files=("$dir/steady.toml" "$dir/drift.toml")
if [[ "${1:-}" == "--all" ]]; then
  shift
  files+=("$here"/scenarios/*.toml)
fi
for f in "${files[@]}"; do
  [[ -f "$f" ]] || { echo "decision_quality: scenario not found: $f" >&2; exit 78; }
done
if command -v rota >/dev/null 2>&1; then
  exec rota simulate "${files[@]}" "$@"
fi
exec env PYTHONPATH="$repo/src${PYTHONPATH:+:$PYTHONPATH}" python3 -m rota.cli simulate "${files[@]}" "$@"
