#!/usr/bin/env bash
# The README's test command: whatever set-up is missing (scripts/setup.sh --lab: the run layer and the
# test lab; quick when nothing is),
# then every test (scripts/test.mjs: the typecheck, all vitest projects and the benchmarks in smoke mode).
# Arguments go to vitest, e.g. `bash scripts/test.sh --project unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --lab
exec node scripts/test.mjs "$@"
