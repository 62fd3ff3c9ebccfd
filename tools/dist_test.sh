#!/usr/bin/env bash
# Distributed evaluation on torchrun (gloo on CPU-only machines, nccl with CUDA).
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [GPU_IDS] [test.py args]
# Multi-node: NNODES / NODE_RANK / MASTER_ADDR / PORT as for dist_train.sh.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
if [ $# -lt 3 ]; then echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [GPU_IDS] [args]" >&2; exit 2; fi
source "$(dirname "${BASH_SOURCE[0]}")/_launch.sh"
CONFIG=$1; CHECKPOINT=$2; GPUS=$3; shift 3
if take_gpu_ids "${1:-}"; then shift; fi
launch test.py "$GPUS" "$CONFIG" "$CHECKPOINT" "$@"
