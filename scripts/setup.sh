#!/usr/bin/env bash
# Set-up of a Debian machine for Stream Haven: system tools, pnpm, dependencies, build, and a
# MediaMTX binary. Each step checks first and does only what is missing, so a second run is quick
# and prints one line. `scripts/start.sh` and `scripts/test.sh` run it before anything else.
#   bash scripts/setup.sh                    # whatever is missing
#   HAVEN_SKIP_APT=1 bash scripts/setup.sh   # no system packages (not root, or installed otherwise)
# It never runs the tests or the origin itself (no recursion into start.sh/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
did=()

# Tools the runtime and the tests use (Debian package names):
#   ffmpeg (publisher/viewer in tests), wireguard-tools + wireguard-go + iproute2 (VPN),
#   haproxy (splice benchmark peer), bsdutils (`script`: the CLI test gives the CLI a terminal),
#   GStreamer RTSP server (stand-in node), chromium (status page test; libnss3-tools gives it a test CA),
#   podman + runc + podman-compose + debootstrap (test/docker builds and runs the Docker image).
APT_PACKAGES=(
  ca-certificates curl git bsdutils
  ffmpeg
  wireguard-tools wireguard-go iproute2 iputils-ping
  haproxy
  tcpdump nftables
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  chromium libnss3-tools
  podman runc podman-compose debootstrap
)

# Node 20.11+ is the one thing this script cannot bring (Debian 12 ships Node 18).
if ! command -v node >/dev/null 2>&1 || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=11)?0:1)'; then
  log "Node.js 20.11 or newer is needed (found: $(node --version 2>/dev/null || echo none)); install it (Debian 13: apt-get install nodejs npm) and run again"
  exit 1
fi

if [[ -z "${HAVEN_SKIP_APT:-}" ]]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" == installed ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      log "missing system packages: ${missing[*]}; run as root, or install them with apt-get"
      exit 1
    fi
    log "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    did+=("system packages")
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 10.* ]]; then
  log "installing pnpm 10"
  npm install -g pnpm@10 >/dev/null
  did+=("pnpm")
fi

# pnpm keeps a copy of the lockfile it installed from: equal means the install is complete.
if ! cmp -s pnpm-lock.yaml node_modules/.pnpm/lock.yaml; then
  log "installing dependencies"
  pnpm install --frozen-lockfile
  did+=("dependencies")
fi

# Build when a package has no dist, or a source, config or manifest is newer than the last build.
stamp=.cache/build-stamp
needs_build() {
  [[ -f $stamp ]] || return 0
  for d in packages/* examples/*; do
    [[ -f $d/package.json ]] || continue
    grep -q '"build"' "$d/package.json" || continue
    [[ -d $d/dist ]] || return 0
  done
  [[ -z $(find packages examples tsup.shared.ts pnpm-lock.yaml -newer "$stamp" -not -path '*/node_modules/*' -not -path '*/dist/*' -type f -print -quit) ]] && return 1
  return 0
}
if needs_build; then
  log "building packages"
  mkdir -p .cache
  touch "$stamp.new"
  pnpm -r build >/dev/null
  mv "$stamp.new" "$stamp"
  did+=("build")
fi

# get-mediamtx.sh takes $MEDIAMTX_BIN, `mediamtx` on PATH, or its cached build, in that order.
if ! { [[ -n "${MEDIAMTX_BIN:-}" && -x "${MEDIAMTX_BIN}" ]] || command -v mediamtx >/dev/null 2>&1 || [[ -x "${HAVEN_CACHE_DIR:-.cache}/mediamtx/current" ]]; }; then
  log "obtaining MediaMTX (built from its Go module when there is no cached binary)"
  bash scripts/get-mediamtx.sh >/dev/null
  did+=("MediaMTX")
fi

# Pebble (Let's Encrypt's ACME test server) for test/tls: built from its Go module, cached like MediaMTX.
if [[ ! -x "${HAVEN_CACHE_DIR:-.cache}/pebble/current/pebble" ]]; then
  log "obtaining Pebble (ACME test server, built from its Go module)"
  bash scripts/get-pebble.sh >/dev/null
  did+=("Pebble")
fi

if ((${#did[@]})); then
  log "done (${did[*]}): \`pnpm start\` runs an origin, \`pnpm test\` runs every test"
else
  log "nothing missing"
fi
