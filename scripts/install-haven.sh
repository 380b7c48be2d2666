#!/usr/bin/env bash
# Installs the `haven` command of this clone: a small shim in $HAVEN_BIN_DIR (default /usr/local/bin
# as root, else ~/.local/bin) that runs this clone's CLI (examples/docker-app/dist/cli.js) on the
# folder scripts/start.sh uses, <clone>/.haven ($HAVEN_DIR wins; an explicit --dir wins over both),
# with the MediaMTX the set-up built when neither $MEDIAMTX_BIN nor `mediamtx` on PATH gives one.
#   bash scripts/install-haven.sh           # write it when missing or different; prints its path
#   bash scripts/install-haven.sh --check   # exit 0 when it is there and current, 1 otherwise
# scripts/setup.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)
cache=${HAVEN_CACHE_DIR:-.cache}
mkdir -p "$cache"
mtx=$(cd "$cache" && pwd -P)/mediamtx/current
bin_dir=${HAVEN_BIN_DIR:-$([[ $(id -u) -eq 0 ]] && echo /usr/local/bin || echo "$HOME/.local/bin")}

shim() {
  cat <<SHIM
#!/bin/sh
# The haven command of the Stream Haven clone in $repo (written by its scripts/install-haven.sh).
if [ -z "\${MEDIAMTX_BIN:-}" ] && ! command -v mediamtx >/dev/null 2>&1 && [ -x '$mtx' ]; then
  MEDIAMTX_BIN='$mtx'
  export MEDIAMTX_BIN
fi
if [ ! -f '$repo/examples/docker-app/dist/cli.js' ]; then
  echo "haven: this command runs the Stream Haven clone in $repo, and its CLI (examples/docker-app/dist/cli.js) is not there: run scripts/setup.sh in the clone you use (it points this command there), or build this one" >&2
  exit 127
fi
HAVEN_DIR=\${HAVEN_DIR:-'$repo/.haven'}
export HAVEN_DIR
exec node '$repo/examples/docker-app/dist/cli.js' "\$@"
SHIM
}

current() { [[ -f $bin_dir/haven ]] && [[ "$(cat "$bin_dir/haven")" == "$(shim)" ]]; }

if [[ "${1:-}" == --check ]]; then
  current
  exit
fi
if ! current; then
  mkdir -p "$bin_dir"
  shim > "$bin_dir/haven.new"
  chmod 755 "$bin_dir/haven.new"
  mv -f "$bin_dir/haven.new" "$bin_dir/haven"
  printf '[setup] installed the haven command: %s (this clone'"'"'s CLI, on %s/.haven unless HAVEN_DIR or --dir says otherwise)\n' "$bin_dir/haven" "$repo" >&2
  case ":$PATH:" in *":$bin_dir:"*) ;; *) printf '[setup] %s is not on your PATH: add it (export PATH="%s:$PATH") to type `haven`\n' "$bin_dir" "$bin_dir" >&2 ;; esac
fi
printf '%s\n' "$bin_dir/haven"
