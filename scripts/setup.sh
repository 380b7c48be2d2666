#!/usr/bin/env bash
# Set-up of a Debian machine for Stream Haven, in two layers. Each step checks first and does only
# what is missing, so a second run is quick and prints one line (`nothing missing`).
#
#   bash scripts/setup.sh                 # run layer: what `scripts/start.sh` needs to run an origin or a node
#   bash scripts/setup.sh --lab           # run layer, then the test lab on top (`scripts/test.sh`, CI)
#   bash scripts/setup.sh --plan [--lab]  # print what each layer installs and why; installs nothing
#   HAVEN_SKIP_APT=1 bash scripts/setup.sh   # no system packages (not root, or installed otherwise)
#   HAVEN_BIN_DIR=<dir>                      # where the `haven` command goes (default /usr/local/bin
#                                            # as root, else ~/.local/bin)
# It never runs the tests or the origin itself (no recursion into start.sh/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd -P)

lab=0
plan=0
for a in "$@"; do
  case $a in
    --lab) lab=1 ;;
    --plan) plan=1 ;;
    *) printf '[setup] unknown argument %s (expected --lab, --plan)\n' "$a" >&2; exit 2 ;;
  esac
done

log() { printf '[setup] %s\n' "$*" >&2; }
did=()
cache=${HAVEN_CACHE_DIR:-.cache}

# Whether the kernel has WireGuard (loaded, built in, or a module to load): then running needs no wireguard-go.
kernel_wireguard() {
  [[ -e /sys/module/wireguard ]] && return 0
  local d=/lib/modules/$(uname -r)
  grep -qs '/wireguard.ko' "$d/modules.builtin" "$d/modules.dep"
}

# Debian packages, "<package>|<why>", per layer.
RUN_APT=(
  "ca-certificates|TLS roots for the downloads of the set-up (pnpm, npm, the Go module proxy)"
  "ffmpeg|ffmpeg and ffprobe: the audio fix makes OBS's audio play in VRChat; the VRChat check samples each stream"
  "wireguard-tools|wg: the encrypted VPN between the origin and friends' nodes"
  "iproute2|ip: creates the VPN interface"
)
if ! kernel_wireguard; then
  RUN_APT+=("wireguard-go|WireGuard in userspace: this kernel has no WireGuard module")
fi
LAB_APT=(
  "curl|tests ask the control API and /metrics from inside network namespaces"
  "bsdutils|script: the CLI test gives the CLI a terminal"
  "wireguard-go|the VPN tests run userspace WireGuard even where the kernel has it"
  "haproxy|the splice benchmark's peer (TCP mode)"
  "tcpdump|packet captures in the gateway end-to-end tests"
  "nftables|NAT and packet counters in the private-origin end-to-end test"
  "python3-gi|the GStreamer stand-in node (Python bindings)"
  "gir1.2-gst-rtsp-server-1.0|the GStreamer stand-in node (RTSP server)"
  "gstreamer1.0-tools|GStreamer rtspsrc as a player in the redirect tests"
  "gstreamer1.0-plugins-base|GStreamer test streams"
  "gstreamer1.0-plugins-good|GStreamer RTSP and H.264 payloading"
  "gstreamer1.0-plugins-ugly|GStreamer x264 encoding"
  "chromium|the status page test (a real browser)"
  "libnss3-tools|certutil: gives Chromium the test CA"
  "podman|test/docker builds and runs the Docker image"
  "runc|podman's container runtime"
  "podman-compose|test/docker runs the compose files"
  "debootstrap|test/docker builds its Debian base image offline"
)

installed() { [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]; }
state() { if "$@" >/dev/null 2>&1; then echo installed; else echo missing; fi; }

# The `haven` command (scripts/install-haven.sh says where it goes and what it runs).
bin_dir=${HAVEN_BIN_DIR:-$([[ $(id -u) -eq 0 ]] && echo /usr/local/bin || echo "$HOME/.local/bin")}
shim_ok() { bash scripts/install-haven.sh --check; }

newest_mediamtx() { sed -n 's/^TAGS=(\([^ )]*\).*/\1/p' scripts/get-mediamtx.sh; }
# A given binary, one on PATH, or the cache's `current` at the newest tag get-mediamtx.sh names (a
# cache holding only an older tag gets the newest built).
mediamtx_ok() {
  [[ -n "${MEDIAMTX_BIN:-}" && -x "${MEDIAMTX_BIN}" ]] || command -v mediamtx >/dev/null 2>&1 \
    || { [[ -x "$cache/mediamtx/current" ]] && [[ "$(readlink "$cache/mediamtx/current")" == "$(newest_mediamtx)/mediamtx" ]]; }
}
pebble_ok() { [[ -x "$cache/pebble/current/pebble" ]]; }
newest_pebble() { sed -n 's/^TAGS=(\([^ )]*\).*/\1/p' scripts/get-pebble.sh; }

if ((plan)); then
  # One line a step: "<layer> <kind> <name>: <why> (installed|missing)". Nothing is installed.
  echo "# run layer: what \`bash scripts/start.sh\` needs"
  echo "run node nodejs: Node.js 20.11+ runs the Haven; install it yourself (Debian 13: apt-get install nodejs npm) ($(state node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=11)?0:1)' 2>/dev/null))"
  for e in "${RUN_APT[@]}"; do echo "run apt ${e%%|*}: ${e#*|} ($(state installed "${e%%|*}"))"; done
  echo "run tool pnpm: installs the Node dependencies (npm install -g pnpm@10) ($(state command -v pnpm))"
  echo "run deps node_modules: the workspace's dependencies, from pnpm-lock.yaml ($(state cmp -s pnpm-lock.yaml node_modules/.pnpm/lock.yaml))"
  echo "run build packages: the SDK, plugins and the haven CLI (pnpm -r build)"
  echo "run bin mediamtx: MediaMTX $(newest_mediamtx), the media server, built from its Go module when none is cached or given ($(state mediamtx_ok))"
  echo "run bin haven: the haven command in $bin_dir, running this clone's CLI on $repo/.haven ($(state shim_ok))"
  if ((lab)); then
    echo "# test lab: what \`bash scripts/test.sh\` and CI need on top"
    for e in "${LAB_APT[@]}"; do echo "lab apt ${e%%|*}: ${e#*|} ($(state installed "${e%%|*}"))"; done
    echo "lab bin pebble: Pebble $(newest_pebble), Let's Encrypt's ACME test server for test/tls, built from its Go module ($(state pebble_ok))"
  fi
  exit 0
fi

# Node 20.11+ is the one thing this script cannot bring (Debian 12 ships Node 18).
if ! command -v node >/dev/null 2>&1 || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=11)?0:1)'; then
  log "Node.js 20.11 or newer is needed (found: $(node --version 2>/dev/null || echo none)); install it (Debian 13: apt-get install nodejs npm) and run again"
  exit 1
fi

if [[ -z "${HAVEN_SKIP_APT:-}" ]]; then
  wanted=("${RUN_APT[@]}")
  ((lab)) && wanted+=("${LAB_APT[@]}")
  missing=()
  why=()
  for e in "${wanted[@]}"; do
    p=${e%%|*}
    installed "$p" || [[ " ${missing[*]} " == *" $p "* ]] || { missing+=("$p"); why+=("  $p: ${e#*|}"); }
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      log "missing system packages: ${missing[*]}; run as root, or install them with apt-get"
      exit 1
    fi
    log "installing system packages ($( ((lab)) && echo 'run layer and test lab' || echo 'run layer')):"
    printf '%s\n' "${why[@]}" >&2
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
if ! mediamtx_ok; then
  log "obtaining MediaMTX $(newest_mediamtx) (built from its Go module when there is no cached binary)"
  bash scripts/get-mediamtx.sh >/dev/null
  did+=("MediaMTX")
fi

if ! shim_ok; then
  bash scripts/install-haven.sh >/dev/null
  did+=("haven command")
fi

# Pebble (Let's Encrypt's ACME test server) for test/tls: built from its Go module, cached like MediaMTX.
if ((lab)) && ! pebble_ok; then
  log "obtaining Pebble (ACME test server, built from its Go module)"
  bash scripts/get-pebble.sh >/dev/null
  did+=("Pebble")
fi

if ((${#did[@]})); then
  log "done (${did[*]}): \`bash scripts/start.sh\` runs an origin, \`haven --help\` lists the commands$( ((lab)) && echo ', `bash scripts/test.sh` runs every test')"
else
  log "nothing missing"
fi
