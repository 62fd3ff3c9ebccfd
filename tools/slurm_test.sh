#!/usr/bin/env bash
# Evaluate a checkpoint on a Slurm cluster: srun, one task per GPU (mmpose's
# tools/slurm_test.sh); prints the metrics of the whole test set (same as tools/test.py).
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# On a partition without GPUs the GPUS tasks run on CPUs with gloo. Variables: tools/_slurm.sh.
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;/^case /d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]" >&2
  exit 2
fi
source "$(dirname "${BASH_SOURCE[0]}")/_slurm.sh"
PARTITION=$1; JOB_NAME=$2; CONFIG=$3; CHECKPOINT=$4; shift 4
slurm_launch "$PARTITION" "$JOB_NAME" test.py "$CONFIG" "$CHECKPOINT" "$@"
