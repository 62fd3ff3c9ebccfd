#!/usr/bin/env bash
# Set up (tools/install.sh, idempotent) and run the test suite. Extra args go to pytest,
# e.g. `bash tools/run_tests.sh -k flip`. With CI=true the long checks run in their short form.
# The tests also need what a default install leaves out (both steps skipped when present):
# requirements/tests.txt (the experiment trackers, for tests/test_tracking.py, and pytest-xdist)
# and, when run as root on Debian/Ubuntu, Slurm and munge (apt, for tests/test_slurm.py).
# The suite runs in TEST_WORKERS pytest processes (default: 2 when the machine has >= 2 cores,
# each with its share of the cores as OMP_NUM_THREADS; TEST_WORKERS=0 runs in this process).
# Disk: the suite's temporary files (3000 MiB at most, under TMPDIR) are checked for before it
# starts, and removed when it passes (CLAMP_HAND_SKIP_DISK_CHECK=1 skips the check).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/install.sh
PY="$ROOT/.venv/bin/python"

stamp="$ROOT/.venv/.clamp_hand_tests_stamp"
want=$(cat requirements.txt requirements/tests.txt requirements/tracking.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[run_tests] installing requirements/tests.txt (tensorboard, wandb, mlflow-skinny, clearml, pytest-xdist)"
  # -c requirements.txt: the test tools' dependencies may not move a pinned package
  "$PY" -m pip install --disable-pip-version-check --no-compile -q -r requirements/tests.txt \
    -c requirements.txt 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
  if "$PY" -c 'import tensorboard, wandb, mlflow, clearml, xdist' 2>/dev/null; then echo "$want" > "$stamp"
  else echo "[run_tests] test packages missing (tests/test_tracking.py will skip)" >&2; fi
fi

slurm_missing() {
  local p
  for p in munged slurmctld slurmd srun sbatch sinfo scontrol; do
    command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || return 0
  done
  return 1
}
if slurm_missing && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[run_tests] installing Slurm and munge (apt: slurmctld slurmd slurm-client munge)"
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends slurmctld slurmd slurm-client munge; } >"$log" 2>&1; then
    echo "[run_tests] apt-get failed (tests/test_slurm.py will skip and say why):" >&2
    tail -5 "$log" >&2
  fi
  rm -f "$log"
fi

# The tests' files (tmp_path, and what their tools, launchers and trackers write to the temp
# folder) live under pytest's base temp folder, removed when the run passes (kept when a test
# failed: tmp_path_retention_policy=failed); TMPDIR points the child processes there too
# (tests/conftest.py). Peak use measured: see docs/development.md.
source tools/_disk.sh
tmp=${TMPDIR:-/tmp}
require_free_mb "$tmp" 3000 "the test suite's temporary files in $tmp" \
  "free space there, or set TMPDIR to a folder on a larger disk"
PYTEST_OPTS=(-q -p no:cacheprovider --durations=15 -o tmp_path_retention_policy=failed)

cores=$(nproc)
workers=${TEST_WORKERS:-$(( cores >= 2 ? 2 : 0 ))}
if [ "$workers" -gt 0 ] && "$PY" -c 'import xdist' 2>/dev/null; then
  # whole test files per worker, files that share a session fixture together (tests/conftest.py)
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(( cores / workers > 0 ? cores / workers : 1 ))}
  exec "$PY" -m pytest tests "${PYTEST_OPTS[@]}" -n "$workers" "$@"
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$cores}
exec "$PY" -m pytest tests "${PYTEST_OPTS[@]}" "$@"
