#!/usr/bin/env bash
# Train on a Slurm cluster: srun, one task per GPU (mmpose's tools/slurm_train.sh).
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#     bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
#   e.g. GPUS=16 bash tools/slurm_train.sh gpu clamp CONFIG work_dirs/run1 --amp
# On a partition without GPUs the GPUS tasks train on CPUs with gloo. A requeued job (sbatch
# --requeue, preemption) resumes from the work dir's latest checkpoint with the same command;
# a batch job: tools/slurm_sbatch.sh. Variables: see tools/_slurm.sh.
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;/^case /d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]" >&2
  exit 2
fi
source "$(dirname "${BASH_SOURCE[0]}")/_slurm.sh"
PARTITION=$1; JOB_NAME=$2; CONFIG=$3; shift 3
ARGS=()
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then ARGS=(--work-dir "$1"); shift; fi
slurm_launch "$PARTITION" "$JOB_NAME" train.py "$CONFIG" "${ARGS[@]}" "$@"
