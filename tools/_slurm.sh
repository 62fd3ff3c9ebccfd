# Shared by slurm_train.sh and slurm_test.sh (mmpose's conventions): pick the Python, choose GPU
# or CPU tasks for the partition, and run one srun task per GPU with --launcher slurm.
#   GPUS           tasks in all (default 8): one per GPU; on a partition without GPUs, CPU
#                  processes that train with gloo (as tools/dist_train.sh does without CUDA)
#   GPUS_PER_NODE  tasks (and GPUs) per node (default: GPUS, at most 8)
#   CPUS_PER_TASK  CPU cores per task (default 5); also each task's OMP_NUM_THREADS
#   SRUN_ARGS      extra srun options, e.g. "--time=2-00:00:00 --qos=high"
# Inside an allocation (sbatch, salloc) srun starts a job step in it; otherwise a new job.
source "$(dirname "${BASH_SOURCE[0]}")/_launch.sh"  # ROOT and PY

# partition_gpus PARTITION: prints the partition's GPU gres ("gpu:8", ...) or nothing
partition_gpus() {
  sinfo -h -p "$1" -o '%G' 2>/dev/null | tr ',' '\n' | grep -m1 '^gpu' || true
}

slurm_launch() {
  local partition=$1 job_name=$2 script=$3; shift 3
  GPUS=${GPUS:-8}
  GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
  CPUS_PER_TASK=${CPUS_PER_TASK:-5}
  SRUN_ARGS=${SRUN_ARGS:-}
  if ! command -v srun >/dev/null || ! command -v sinfo >/dev/null; then
    echo "srun/sinfo not found: run this on a Slurm login node (Slurm's client tools)" >&2
    exit 2
  fi
  if [ -z "$(sinfo -h -p "$partition" -o '%P' 2>/dev/null)" ]; then
    echo "Slurm partition '$partition' not found; sinfo lists:" >&2; sinfo -h -o '%P' >&2 || true
    exit 2
  fi
  local gres=()
  if [ -n "$(partition_gpus "$partition")" ]; then
    gres=(--gres="gpu:$GPUS_PER_NODE")
  else
    echo "[slurm] partition '$partition' has no GPUs: $GPUS CPU processes with gloo," \
         "$GPUS_PER_NODE per node, $CPUS_PER_TASK cores each" >&2
  fi
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$CPUS_PER_TASK}
  export PYTHONPATH="$ROOT:${PYTHONPATH:-}"
  # shellcheck disable=SC2086  # SRUN_ARGS is a list of options
  exec srun -p "$partition" --job-name="$job_name" "${gres[@]}" \
    --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 $SRUN_ARGS \
    "$PY" -u "$ROOT/tools/$script" "$@" --launcher slurm
}
