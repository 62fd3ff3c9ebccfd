#!/usr/bin/env bash
# Distributed training on torchrun (gloo on CPU-only machines, nccl with CUDA).
#   bash tools/dist_train.sh CONFIG GPUS [GPU_IDS] [train.py args]
#   e.g. bash tools/dist_train.sh CONFIG 4 "0,1,2,3" --amp
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on every node.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0;; esac  # the header above
if [ $# -lt 2 ]; then echo "usage: bash tools/dist_train.sh CONFIG GPUS [GPU_IDS] [args]" >&2; exit 2; fi
source "$(dirname "${BASH_SOURCE[0]}")/_launch.sh"
CONFIG=$1; GPUS=$2; shift 2
if take_gpu_ids "${1:-}"; then shift; fi
launch train.py "$GPUS" "$CONFIG" "$@"
