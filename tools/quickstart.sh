#!/usr/bin/env bash
# The main job on the embedded default, on a CPU, from nothing:
#   1. set up .venv (tools/install.sh),
#   2. render a synthetic one-hand dataset (tools/dataset_converters/make_synthhands.py
#      --difficulty easy: near-frontal, upright, untruncated hands),
#   3. train a tiny randomly initialised CLAMP on it (configs/synthhands/...),
#   4. evaluate on the held-out synthetic split and print AP / AP50 / PCK@0.2 / AUC / EPE,
#   5. draw predictions (skeletons + prompt similarity maps) and the training curves.
# Outputs in work_dirs/quickstart/. Knobs (environment): NUM_TRAIN, NUM_VAL, EPOCHS,
# DATA_DIR, WORK_DIR, SEED. The defaults are the figures the docs report. Each phase prints
# "[quickstart] N s: ..." (seconds since the start): the split of the run time.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
start=$(date +%s)
stamp() { echo "[quickstart] $(( $(date +%s) - start )) s: $*"; }
bash tools/install.sh
stamp "installed"
PY="$ROOT/.venv/bin/python"
CFG=configs/synthhands/clamp_vit-tiny-convstem_1xb32-10e_synthhands-easy-1hand-64x64.py
NUM_TRAIN=${NUM_TRAIN:-4000}
NUM_VAL=${NUM_VAL:-200}
EPOCHS=${EPOCHS:-10}
SEED=${SEED:-0}
DATA=${DATA_DIR:-data/synthhands_easy_1hand}
WORK=${WORK_DIR:-work_dirs/quickstart}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

# 2. data (kept between runs when the same arguments made it)
want="train=$NUM_TRAIN val=$NUM_VAL size=128 seed=$SEED hands=1 difficulty=easy"
if [ "$(cat "$DATA/.made_with" 2>/dev/null)" != "$want" ]; then
  rm -rf "$DATA"
  "$PY" tools/dataset_converters/make_synthhands.py --out "$DATA" --hands 1 \
    --num-train "$NUM_TRAIN" --num-val "$NUM_VAL" --size 128 --seed "$SEED" --difficulty easy
  echo "$want" > "$DATA/.made_with"
fi
stamp "data ready in $DATA"

# 3. train (validation at every third of the run feeds the curves)
rm -rf "$WORK"
"$PY" tools/train.py "$CFG" --work-dir "$WORK" --cfg-options \
  data_root="$DATA/" train_dataloader.dataset.data_root="$DATA/" \
  val_dataloader.dataset.data_root="$DATA/" test_dataloader.dataset.data_root="$DATA/" \
  train_cfg.max_epochs="$EPOCHS" train_cfg.val_interval=$(( EPOCHS >= 3 ? EPOCHS / 3 : 1 )) \
  default_hooks.checkpoint.interval="$EPOCHS" param_scheduler.1.end="$EPOCHS"
stamp "trained"

# 4. evaluate on the held-out split: the metrics table
"$PY" tools/test.py "$CFG" "$WORK/epoch_$EPOCHS.pth" --work-dir "$WORK" \
  --out "$WORK/predictions.json" --cfg-options \
  test_dataloader.dataset.data_root="$DATA/"
stamp "evaluated"

# 5. pictures: skeletons and prompt maps on a few validation images, and the curves
mkdir -p "$WORK/samples"
ls "$DATA/images/val" | head -n 6 | while read -r f; do
  cp "$DATA/images/val/$f" "$WORK/samples/"
done
"$PY" tools/infer.py "$WORK/epoch_$EPOCHS.pth" "$WORK/samples" \
  --bboxes "$DATA/annotations/val.json" --out-dir "$WORK/predictions" --show-prompt-maps
"$PY" tools/analysis/plot_curves.py "$WORK" --out "$WORK/training_curves.png"
stamp "done: $WORK/predictions/ (skeletons, prompt maps), $WORK/training_curves.png"
