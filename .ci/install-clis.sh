#!/usr/bin/env bash
# Install pinned versions of the seven real agent CLIs into a cache folder, for the `realcli` tests.
#
#   bash .ci/install-clis.sh            # all seven
#   bash .ci/install-clis.sh codex aider  # only these
#
# Folder: $ROTA_REALCLI_DIR, else ${XDG_CACHE_HOME:-~/.cache}/rota-realcli. Idempotent: a CLI whose
# pinned version is installed already is left alone (a changed pin installs beside the old one).
# Each CLI gets $DIR/bin/<name>, an executable that runs its real entry point (the native binary where
# the npm package ships one, so no postinstall step is needed), and $DIR/bin/<name>.version.
# The tests find the CLIs there, never on PATH. Needs: node and npm (Node.js >= 20), python3 >= 3.10.
set -euo pipefail

# The pins: what CI tests. Change one here and in tests/fixtures/realcli/README.md together.
CLAUDE_VERSION=2.1.197     # npm @anthropic-ai/claude-code (native binary in the per-platform package)
CODEX_VERSION=0.171.0      # npm @openai/codex (native binary inside its npm package)
GEMINI_VERSION=0.61.0      # npm @google/gemini-cli (a JavaScript bundle, run by node)
OPENCODE_VERSION=1.18.33   # npm opencode-ai (native binary in the per-platform package)
COPILOT_VERSION=1.0.102    # npm @github/copilot (native binary in the per-platform package)
GPTME_VERSION=0.35.1       # PyPI gptme, own venv
AIDER_VERSION=0.86.2       # PyPI aider-chat, own venv

dir="${ROTA_REALCLI_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rota-realcli}"
mkdir -p "$dir/bin" "$dir/pkg"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf 'install-clis: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

case "$(uname -m)" in
  x86_64) arch=x64; rust_triple=x86_64-unknown-linux-musl ;;
  aarch64) arch=arm64; rust_triple=aarch64-unknown-linux-musl ;;
  *) die "unsupported machine $(uname -m): the CLIs ship linux x64 and arm64 binaries" ;;
esac
[[ "$(uname -s)" == Linux ]] || die "Linux only (the per-platform packages chosen here are linux-*)"

installed() {  # name version -> true when bin/<name> runs that pinned version already
  [[ -x "$dir/bin/$1" && -f "$dir/bin/$1.version" && "$(cat "$dir/bin/$1.version")" == "$2" ]]
}

link_bin() {  # name version target [interpreter]: write bin/<name> that execs target
  local name=$1 version=$2 target=$3 interp=${4:-}
  [[ -f "$target" ]] || die "$name $version: entry point $target is missing after install"
  local tmp="$dir/bin/.$name.tmp"
  if [[ -n "$interp" ]]; then
    printf '#!/bin/sh\nexec %q %q "$@"\n' "$interp" "$target" >"$tmp"
  else
    chmod +x "$target"
    printf '#!/bin/sh\nexec %q "$@"\n' "$target" >"$tmp"
  fi
  chmod 755 "$tmp"
  mv -f "$tmp" "$dir/bin/$name"
  printf '%s\n' "$version" >"$dir/bin/$name.version"
  log "$name $version -> $target"
}

npm_install() {  # prefix spec...: install packages into prefix (scripts off: nothing runs at install)
  local prefix=$1; shift
  mkdir -p "$prefix"
  [[ -f "$prefix/package.json" ]] || printf '{"private": true}\n' >"$prefix/package.json"
  npm install --prefix "$prefix" --no-save --ignore-scripts --no-audit --no-fund \
    --loglevel=error "$@" >&2
}

node_bin() {
  command -v node >/dev/null 2>&1 || die "node not found: install Node.js >= 20 (Debian: apt-get install nodejs npm)"
  command -v node
}

install_claude() {
  local v=$CLAUDE_VERSION p="$dir/pkg/claude-code-$CLAUDE_VERSION"
  installed claude "$v" && return 0
  # The launcher's postinstall would copy the native binary into place; run it from its own package.
  npm_install "$p" "@anthropic-ai/claude-code@$v" "@anthropic-ai/claude-code-linux-$arch@$v"
  link_bin claude "$v" "$p/node_modules/@anthropic-ai/claude-code-linux-$arch/claude"
}

install_codex() {
  local v=$CODEX_VERSION p="$dir/pkg/codex-$CODEX_VERSION"
  installed codex "$v" && return 0
  # The per-platform build is published as a version suffix of the same package name.
  npm_install "$p" "@openai/codex@$v" "@openai/codex-linux-$arch@npm:@openai/codex@$v-linux-$arch"
  local target
  target=$(find "$p/node_modules/@openai" -type f -name codex -path "*vendor/$rust_triple/*" | head -n1)
  link_bin codex "$v" "${target:-$p/node_modules/@openai/codex-linux-$arch/vendor/$rust_triple/codex/codex}"
}

install_gemini() {
  local v=$GEMINI_VERSION p="$dir/pkg/gemini-cli-$GEMINI_VERSION"
  installed gemini "$v" && return 0
  local node; node=$(node_bin)
  npm_install "$p" "@google/gemini-cli@$v"
  link_bin gemini "$v" "$p/node_modules/@google/gemini-cli/bundle/gemini.js" "$node"
}

install_opencode() {
  local v=$OPENCODE_VERSION p="$dir/pkg/opencode-$OPENCODE_VERSION"
  installed opencode "$v" && return 0
  npm_install "$p" "opencode-ai@$v" "opencode-linux-$arch@$v"
  link_bin opencode "$v" "$p/node_modules/opencode-linux-$arch/bin/opencode"
}

install_copilot() {
  local v=$COPILOT_VERSION p="$dir/pkg/copilot-$COPILOT_VERSION"
  installed copilot "$v" && return 0
  npm_install "$p" "@github/copilot@$v" "@github/copilot-linux-$arch@$v"
  local target="$p/node_modules/@github/copilot-linux-$arch/copilot"
  if [[ -f "$target" ]]; then
    link_bin copilot "$v" "$target"
  else  # older layouts: the JavaScript loader picks the platform build itself
    link_bin copilot "$v" "$p/node_modules/@github/copilot/npm-loader.js" "$(node_bin)"
  fi
}

pick_python() {  # a python3 between 3.10 and 3.12 (aider-chat 0.86 refuses 3.13)
  local c
  for c in "${ROTA_REALCLI_PYTHON:-}" python3.12 python3.11 python3.10 python3; do
    [[ -n "$c" ]] || continue
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  die "no python3.10-3.12 found for gptme/aider (set ROTA_REALCLI_PYTHON)"
}

quiet_pip() {  # pip, without its notes about index folders this machine lacks (pipefail: pip's status)
  "$@" 2>&1 | { grep -v '^WARNING: Location .* is ignored' >&2 || true; }
}

pip_venv() {  # name version dist script: one venv per CLI
  local name=$1 v=$2 dist=$3 script=$4 venv="$dir/pkg/$1-$2"
  installed "$name" "$v" && return 0
  [[ -x "$venv/bin/python" ]] || "$(pick_python)" -m venv "$venv"
  quiet_pip "$venv/bin/python" -m pip install -q --upgrade pip
  quiet_pip "$venv/bin/python" -m pip install -q "$dist==$v"
  link_bin "$name" "$v" "$venv/bin/$script"
}

all=(claude codex gemini opencode copilot gptme aider)
want=("$@")
[[ ${#want[@]} -gt 0 ]] || want=("${all[@]}")
for name in "${want[@]}"; do
  case "$name" in
    claude|claude-code) install_claude ;;
    codex) install_codex ;;
    gemini) install_gemini ;;
    opencode) install_opencode ;;
    copilot) install_copilot ;;
    gptme) pip_venv gptme "$GPTME_VERSION" gptme gptme ;;
    aider) pip_venv aider "$AIDER_VERSION" aider-chat aider ;;
    *) die "unknown CLI '$name' (known: ${all[*]})" ;;
  esac
done
printf '%s\n' "$dir"
