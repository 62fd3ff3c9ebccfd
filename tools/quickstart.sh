#!/usr/bin/env bash
# The main job on the embedded default, on a CPU: set up .venv, train a tiny randomly
# initialised CLAMP on the real hand images of ../shared/data/hand_samples, evaluate it and
# print AP / AP50 / AP75 / AR / PCK@0.2 / AUC / EPE. Outputs in work_dirs/quickstart/.
# (Interim version: the synthetic-hands quickstart of issue 3 will replace the data.)
# EPOCHS=N shortens or lengthens the run (default 15 epochs x 20 iterations, a few minutes).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/install.sh
PY="$ROOT/.venv/bin/python"
CFG=configs/hand_samples/clamp_vit-tiny_1xb12-40e_hand-samples-128x128.py
WORK=${WORK_DIR:-work_dirs/quickstart}
EPOCHS=${EPOCHS:-15}
if [ ! -d ../shared/data/hand_samples ]; then
  echo "quickstart: ../shared/data/hand_samples not found (the embedded real hand samples)" >&2
  exit 1
fi
"$PY" tools/train.py "$CFG" --work-dir "$WORK" --cfg-options \
  max_epochs="$EPOCHS" train_cfg.max_epochs="$EPOCHS" train_cfg.val_interval="$EPOCHS" \
  default_hooks.checkpoint.interval="$EPOCHS" param_scheduler.1.end="$EPOCHS"
"$PY" tools/test.py "$CFG" "$WORK/epoch_$EPOCHS.pth" --work-dir "$WORK" \
  --out "$WORK/predictions.json"
