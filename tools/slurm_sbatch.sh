#!/usr/bin/env bash
# Batch training on a Slurm cluster. Submit from the CLAMP-Hand checkout:
#   sbatch [sbatch options] tools/slurm_sbatch.sh CONFIG [WORK_DIR] [train.py args]
#   e.g. sbatch -p gpu tools/slurm_sbatch.sh configs/onehand10k/CONFIG.py work_dirs/run1
# The #SBATCH lines below are the defaults (one node with 8 GPUs, one task per GPU, 5 cores
# each); options on the sbatch command line override them:
#   two nodes:            sbatch -p gpu --nodes=2 tools/slurm_sbatch.sh CONFIG WORK_DIR
#   4 GPUs:               sbatch -p gpu --ntasks-per-node=4 --gres=gpu:4 tools/slurm_sbatch.sh ...
#   CPU-only partition:   sbatch -p cpu --gres=none --ntasks-per-node=2 --cpus-per-task=8 ...
#                         (the tasks then train on CPUs with gloo)
# Requeued jobs (preemption, node failure, `scontrol requeue JOBID`) start this script again
# with the same arguments; tools/train.py sees SLURM_RESTART_COUNT > 0 and resumes from the
# latest checkpoint in WORK_DIR (give WORK_DIR, or the default work_dirs/<config name> is used).
# The log (both runs, appended) goes to slurm-<job name>-<job id>.out in the submit directory.
#SBATCH --job-name=clamp-hand
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=8
#SBATCH --gres=gpu:8
#SBATCH --cpus-per-task=5
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=slurm-%x-%j.out
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;/^case /d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: sbatch [options] tools/slurm_sbatch.sh CONFIG [WORK_DIR] [train.py args]" >&2
  exit 2
fi
# Slurm runs a copy of this script from its spool folder: find the checkout from where
# sbatch was called (or CLAMP_HAND_ROOT).
ROOT=${CLAMP_HAND_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
if [ ! -f "$ROOT/tools/train.py" ]; then
  echo "$ROOT is not a CLAMP-Hand checkout: run sbatch from the checkout's root or set" \
       "CLAMP_HAND_ROOT=/path/to/clamp-hand" >&2
  exit 2
fi
cd "$ROOT"
source tools/_launch.sh  # PY: the checkout's .venv unless PYTHON or an active venv says otherwise
CONFIG=$1; shift
ARGS=()
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then ARGS=(--work-dir "$1"); shift; fi
echo "[slurm_sbatch] job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}) on" \
     "${SLURM_JOB_NODELIST:-?}: ${SLURM_NTASKS:-?} tasks, $(date -u '+%F %T') UTC"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}
export PYTHONPATH="$ROOT:${PYTHONPATH:-}"
srun --kill-on-bad-exit=1 "$PY" -u tools/train.py "$CONFIG" "${ARGS[@]}" "$@" --launcher slurm
