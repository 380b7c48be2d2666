#!/usr/bin/env bash
# Obtain Pebble, Let's Encrypt's ACME test server, and print the absolute path of its directory
# as the LAST line of stdout (it holds `pebble` and `test/` with Pebble's own test config/certs).
# All progress output goes to stderr. Used only by tests (test/tls/): Pebble is not a runtime piece.
#
# Order:
#   1. Cached build in ${HAVEN_CACHE_DIR:-<repo>/.cache}/pebble/<tag>/pebble.
#   2. Build from the Go module github.com/letsencrypt/pebble/v2@<tag> (newest tag first).
# Needs a Pebble with IP identifiers and certificate profiles (`shortlived`), i.e. >= v2.7.
set -euo pipefail

TAGS=(v2.10.3 v2.10.2 v2.10.1 v2.10.0)
MODULE=github.com/letsencrypt/pebble/v2

log() { printf '[get-pebble] %s\n' "$*" >&2; }

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
CACHE_ROOT=${HAVEN_CACHE_DIR:-$REPO_ROOT/.cache}
mkdir -p "$CACHE_ROOT/pebble"
CACHE_DIR=$(cd "$CACHE_ROOT/pebble" && pwd -P)

cached_ok() {
  local dir=$1
  [[ -x "$dir/pebble" && -f "$dir/test/config/pebble-config.json" && -f "$dir/test/certs/localhost/cert.pem" ]]
}

for tag in "${TAGS[@]}"; do
  if cached_ok "$CACHE_DIR/$tag"; then
    log "using cached $CACHE_DIR/$tag/pebble ($tag)"
    ln -sfn "$tag" "$CACHE_DIR/current"
    printf '%s\n' "$CACHE_DIR/$tag"
    exit 0
  fi
done

# shellcheck source=lib/go-module.sh
source "$SCRIPT_DIR/lib/go-module.sh"
find_go "install Go to build Pebble"
make_work_dir get-pebble

declare -a FAILURES=()
ERR=""
build_tag() {
  local tag=$1 src dest
  ERR=""
  src="$WORK/$tag/src"
  copy_module "$MODULE" "$tag" "$src" || return 1
  dest="$CACHE_DIR/$tag"
  mkdir -p "$dest"
  log "[$tag] CGO_ENABLED=0 go build ./cmd/pebble ..."
  go_build "$src" ./cmd/pebble "$dest/pebble" || return 1
  rm -rf "$dest/test"
  cp -R "$src/test" "$dest/test"
  cached_ok "$dest" || { ERR="module has no test/config/pebble-config.json or test/certs/localhost"; return 1; }
  return 0
}

for tag in "${TAGS[@]}"; do
  if build_tag "$tag"; then
    ln -sfn "$tag" "$CACHE_DIR/current"
    log "ok: $CACHE_DIR/$tag/pebble ($tag)"
    printf '%s\n' "$CACHE_DIR/$tag"
    exit 0
  fi
  log "[$tag] FAILED: $ERR"
  FAILURES+=("$tag: $ERR")
done
{
  echo "[get-pebble] could not obtain Pebble. Tried:"
  for f in "${FAILURES[@]}"; do printf '  - %s\n' "$f"; done
} >&2
exit 1
