#!/usr/bin/env bash
# Create or update the project virtual environment (.venv/) with every pinned dependency.
# Idempotent: a second run with unchanged requirements only re-checks the stamp and exits.
# A new environment takes ~6.5 GB (torch's CUDA wheel: 5.5 GB): with less than 7000 MiB free
# where it goes the script stops before installing anything (CLAMP_HAND_SKIP_DISK_CHECK=1
# skips that check). CLAMP_HAND_VENV=DIR puts the environment in DIR instead of .venv/ (the
# other tools look for .venv/: make .venv a link to DIR).
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${CLAMP_HAND_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
cd "$ROOT"
PY="$VENV/bin/python"
stamp="$VENV/.clamp_hand_install_stamp"
want=$(cat requirements.txt tools/install.sh setup.py | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[install] $VENV is up to date"; exit 0
fi
# torch 2.14.1's wheel (a CUDA build, requirements.txt) is 5.5 GB installed; the whole .venv
# with the test packages 6.5 GB (measured on x86_64, Python 3.11). Checked before the venv is
# made, so that nothing is left to remove before linking .venv to a larger disk.
source tools/_disk.sh
if [ ! -x "$PY" ] ||
   "$PY" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is not None)'; then
  require_free_mb "$VENV" 7000 "installing the pinned requirements into $VENV" \
    "free space there, or make $VENV a link to an empty folder on a larger disk (ln -s)"
fi
[ -x "$PY" ] || "$PYTHON" -m venv "$VENV"
# pip's notices about local find-links folders that do not exist on this machine are noise.
# --no-compile: pip would byte-compile every one of the venv's ~19k .py files (torch, sympy,
# transformers, ...), measured 8.8 of the 13.8 CPU s of installing the torch wheel alone;
# Python compiles only the ~4k modules a training run imports, on first import (~10 CPU s,
# once: the .pyc files are kept).
pip_q() {
  local rc=0 log
  log=$(mktemp)
  "$PY" -m pip install --disable-pip-version-check --no-compile -q "$@" >"$log" 2>&1 || rc=$?
  grep -v "is ignored: it is neither a file nor a directory" "$log" || true
  rm -f "$log"
  return $rc
}
# Pins that need flags pip cannot express in requirements.txt live there as tagged comments.
tagged() { sed -n "s/^# $1: *//p" requirements.txt; }
echo "[install] 1/4 pinned requirements -> $VENV"
pip_q -r requirements.txt
echo "[install] 2/4 --no-deps: $(tagged no-deps)"
# mmcv-lite declares plain mmengine (which would overwrite onedl-mmengine) and mmpose declares
# chumpy (which fails to build); their real runtime deps are already in requirements.txt.
# pip may then report that mmpose "requires chumpy, which is not installed": harmless.
pip_q --no-deps $(tagged no-deps)
echo "[install] 3/4 source build: $(tagged source-build)"
# The xtcocotools wheel is built against numpy 1 and crashes under numpy 2; its sdist imports
# numpy in setup.py without declaring it, hence no build isolation.
pip_q --no-build-isolation --no-binary xtcocotools $(tagged source-build)
echo "[install] 4/4 clamp_hand (editable)"
pip_q --no-deps --no-build-isolation -e .
"$PY" - <<'PY'
import mmengine, mmpose, open_clip, torch, xtcocotools  # noqa: F401
assert mmengine.__version__.startswith('0.10.') and int(mmengine.__version__.split('.')[2]) >= 8, (
    f'mmengine {mmengine.__version__} is not onedl-mmengine; rerun tools/install.sh')
print(f'[install] ok: torch {torch.__version__}, mmengine {mmengine.__version__}, '
      f'mmpose {mmpose.__version__}, open_clip {open_clip.__version__}')
PY
echo "$want" > "$stamp"
