#!/usr/bin/env bash
# Obtain a real MediaMTX binary and print its absolute path as the LAST line of stdout.
# All progress output goes to stderr.
#
# Order:
#   1. $MEDIAMTX_BIN (if set and executable), else `mediamtx` on PATH.
#   2. For each tag, newest first: its cached build in ${HAVEN_CACHE_DIR:-<repo>/.cache}/mediamtx/<tag>/mediamtx,
#      else a build from the Go module github.com/bluenviron/mediamtx@<tag>; so a cache that holds only
#      an older tag gets the newest one built (without a Go toolchain, the newest cached tag is used),
#      providing the gitignored embedded files (internal/core/VERSION and
#      internal/servers/hls/hls.min.js from the npm package hls.js) instead of `go generate`,
#      which would need GitHub access.
# Needs >= v1.19.1 (rtspTrustedProxies / PROXY protocol).
set -euo pipefail

TAGS=(v1.21.0 v1.20.1 v1.20.0 v1.19.3 v1.19.2 v1.19.1)
MODULE=github.com/bluenviron/mediamtx

log() { printf '[get-mediamtx] %s\n' "$*" >&2; }

abspath() {
  local p=$1
  if command -v realpath >/dev/null 2>&1; then
    realpath "$p"
  else
    (cd "$(dirname "$p")" && printf '%s/%s\n' "$(pwd -P)" "$(basename "$p")")
  fi
}

# 1. Explicit binary or PATH.
if [[ -n "${MEDIAMTX_BIN:-}" ]]; then
  if [[ -x "${MEDIAMTX_BIN}" && -f "${MEDIAMTX_BIN}" ]]; then
    abspath "${MEDIAMTX_BIN}"
    exit 0
  fi
  log "MEDIAMTX_BIN=${MEDIAMTX_BIN} is not an executable file; ignoring it"
fi
if onpath=$(command -v mediamtx 2>/dev/null) && [[ -n "$onpath" ]]; then
  abspath "$onpath"
  exit 0
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
CACHE_ROOT=${HAVEN_CACHE_DIR:-$REPO_ROOT/.cache}
mkdir -p "$CACHE_ROOT/mediamtx"
CACHE_DIR=$(cd "$CACHE_ROOT/mediamtx" && pwd -P)

# Returns 0 if "$1 --version" prints exactly the tag $2.
version_ok() {
  local bin=$1 tag=$2 out
  [[ -x "$bin" ]] || return 1
  out=$(timeout 20 "$bin" --version 2>/dev/null | tr -d '\r' | head -n1) || return 1
  [[ "$out" == "$tag" ]]
}

set_current() {
  local tag=$1
  ln -sfn "$tag/mediamtx" "$CACHE_DIR/current"
}

# Uses the cached build of tag $1 if there is one.
use_cached() {
  local bin="$CACHE_DIR/$1/mediamtx"
  version_ok "$bin" "$1" || return 1
  log "using cached $bin ($1)"
  set_current "$1"
  printf '%s\n' "$bin"
  exit 0
}

# 2. The newest tag, cached.
use_cached "${TAGS[0]}" || true

# 3. Build from the Go module (an older cached tag is taken only when building a newer one fails).
# shellcheck source=lib/go-module.sh
source "$SCRIPT_DIR/lib/go-module.sh"
if [[ -z "${GO:-}" ]] && ! command -v go >/dev/null 2>&1 && [[ ! -x /usr/local/go/bin/go ]]; then
  for tag in "${TAGS[@]}"; do use_cached "$tag" || true; done
fi
find_go "set MEDIAMTX_BIN or GO"
command -v npm >/dev/null 2>&1 || { log "npm is required to fetch hls.js"; exit 1; }
command -v tar >/dev/null 2>&1 || { log "tar is required"; exit 1; }

make_work_dir get-mediamtx

declare -a FAILURES=()

# Builds tag $1; on failure prints the error message to stdout of this function's
# error channel (variable ERR) and returns 1.
ERR=""
build_tag() {
  local tag=$1 src hlsver hlsdir tgz out dest
  ERR=""
  src="$WORK/$tag/src"
  copy_module "$MODULE" "$tag" "$src" || return 1

  # Embedded file 1: version string, no trailing newline.
  printf '%s' "$tag" > "$src/internal/core/VERSION"

  # Embedded file 2: hls.min.js from the npm package at the version the module pins.
  local verfile="$src/internal/servers/hls/hlsjsdownloader/VERSION"
  if [[ ! -f "$verfile" ]]; then
    ERR="cannot find $verfile in module to learn the hls.js version"
    return 1
  fi
  hlsver=$(tr -d ' \r\n' < "$verfile")
  hlsver=${hlsver#v}
  if [[ -z "$hlsver" ]]; then
    ERR="empty hls.js version in $verfile"
    return 1
  fi
  hlsdir="$WORK/$tag/hlsjs"
  mkdir -p "$hlsdir"
  log "[$tag] npm pack hls.js@$hlsver"
  if ! out=$(cd "$hlsdir" && npm pack --silent "hls.js@$hlsver" 2>&1); then
    ERR="npm pack hls.js@$hlsver failed: $out"
    return 1
  fi
  tgz=$(ls "$hlsdir"/*.tgz 2>/dev/null | head -n1 || true)
  if [[ -z "$tgz" ]]; then
    ERR="npm pack hls.js@$hlsver produced no tarball: $out"
    return 1
  fi
  if ! out=$(tar -xzf "$tgz" -C "$hlsdir" package/dist/hls.min.js 2>&1); then
    ERR="extracting dist/hls.min.js from $tgz failed: $out"
    return 1
  fi
  if [[ ! -s "$hlsdir/package/dist/hls.min.js" ]]; then
    ERR="dist/hls.min.js missing or empty in hls.js@$hlsver"
    return 1
  fi
  cp "$hlsdir/package/dist/hls.min.js" "$src/internal/servers/hls/hls.min.js"

  # Build.
  dest="$CACHE_DIR/$tag"
  mkdir -p "$dest"
  log "[$tag] CGO_ENABLED=0 go build (hls.js $hlsver) ..."
  go_build "$src" . "$dest/mediamtx" || return 1

  if ! version_ok "$dest/mediamtx" "$tag"; then
    out=$(timeout 20 "$dest/mediamtx" --version 2>&1 || true)
    ERR="built binary --version printed '$out', expected '$tag'"
    return 1
  fi
  return 0
}

for tag in "${TAGS[@]}"; do
  use_cached "$tag" || true
  if build_tag "$tag"; then
    set_current "$tag"
    bin="$CACHE_DIR/$tag/mediamtx"
    log "ok: $bin ($tag)"
    printf '%s\n' "$bin"
    exit 0
  fi
  log "[$tag] FAILED: $ERR"
  FAILURES+=("$tag: $ERR")
done

{
  echo "[get-mediamtx] could not obtain a MediaMTX binary. Tried:"
  for f in "${FAILURES[@]}"; do
    printf '  - %s\n' "$f"
  done
  echo "Set MEDIAMTX_BIN to an existing mediamtx >= v1.19.1 to skip building."
} >&2
exit 1
