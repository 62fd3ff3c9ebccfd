# Shared by dist_train.sh and dist_test.sh: pick the Python and run torchrun.
# launch SCRIPT GPUS ARGS...;  take_gpu_ids ARG: exports CUDA_VISIBLE_DEVICES when ARG is a
# device list such as "0,1,2,3" (the seed's third argument) and returns 0, else returns 1.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -z "${VIRTUAL_ENV:-}" ] && [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python
else PY=python3; fi

take_gpu_ids() {
  if [[ "${1:-}" =~ ^[0-9]+(,[0-9]+)*$ ]]; then export CUDA_VISIBLE_DEVICES=$1; return 0; fi
  return 1
}

launch() {
  local script=$1 gpus=$2; shift 2
  # Without CUDA each process runs on the CPU with gloo; give each an equal share of cores
  # (asking torch about CUDA costs a second of imports: only when OMP_NUM_THREADS is unset).
  if [ -z "${OMP_NUM_THREADS:-}" ] &&
     ! "$PY" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    export OMP_NUM_THREADS=$(( $(nproc) / gpus > 0 ? $(nproc) / gpus : 1 ))
  fi
  PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PY" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$gpus" "$ROOT/tools/$script" "$@" --launcher pytorch
}
