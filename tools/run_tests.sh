#!/usr/bin/env bash
# Set up (tools/install.sh, idempotent) and run the test suite. Extra args go to pytest,
# e.g. `bash tools/run_tests.sh -k flip`. With CI=true the long checks run in their short form.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/install.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
exec "$ROOT/.venv/bin/python" -m pytest tests -q -p no:cacheprovider --durations=15 "$@"
