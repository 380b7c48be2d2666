#!/usr/bin/env bash
# The README's start command: whatever set-up running needs is missing (scripts/setup.sh: no test lab;
# quick when nothing is),
# then an origin on this machine from ./.haven (created on first run with generated secrets, the
# embedded GeoIP database and no nodes). Extra arguments go to `haven start`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ -z "${MEDIAMTX_BIN:-}" ]] && ! command -v mediamtx >/dev/null 2>&1; then
  MEDIAMTX_BIN=$(bash scripts/get-mediamtx.sh 2>/dev/null | tail -n 1)
  export MEDIAMTX_BIN
fi
exec node examples/docker-app/dist/cli.js --dir "${HAVEN_DIR:-.haven}" start --init origin "$@"
