#!/usr/bin/env bash
# One-time set-up of a fresh Debian machine for Stream Haven: system tools, pnpm, dependencies,
# build, and a MediaMTX binary. Safe to run again (each step skips what is already there).
#   bash scripts/setup.sh            # everything
#   HAVEN_SKIP_APT=1 bash scripts/setup.sh   # no system packages (not root, or already installed)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n[setup] %s\n' "$*" >&2; }

# Tools the runtime and the tests use (Debian package names):
#   ffmpeg (publisher/viewer in tests), wireguard-tools + wireguard-go + iproute2 (VPN),
#   haproxy (splice benchmark peer), GStreamer RTSP server (stand-in node), chromium (status page test).
APT_PACKAGES=(
  ca-certificates curl git
  ffmpeg
  wireguard-tools wireguard-go iproute2 iputils-ping
  haproxy
  tcpdump
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  chromium
)

if [[ -z "${HAVEN_SKIP_APT:-}" ]]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "[setup] missing system packages: ${missing[*]}; run as root or install them with apt-get" >&2
      exit 1
    fi
    log "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 10.* ]]; then
  log "installing pnpm 10"
  npm install -g pnpm@10 >/dev/null
fi

log "installing dependencies"
pnpm install --frozen-lockfile

log "building packages"
pnpm -r build

log "obtaining MediaMTX"
bash scripts/get-mediamtx.sh >/dev/null
log "done: run 'pnpm test' for the tests, 'pnpm start' for an origin on this machine"
