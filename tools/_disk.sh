# Shared by install.sh and run_tests.sh: stop before a step that would run out of disk.
# require_free_mb DIR MB WHAT FIX: exits 1 with a message naming DIR (or its nearest existing
# parent), the free and the needed space, what needs it and how to fix it, when the file system
# holding DIR has less than MB MiB free (df's 1024-byte blocks / 1024: what `df -h` calls M).
# CLAMP_HAND_SKIP_DISK_CHECK=1 skips the check.
# (pip reports a full disk as "OSError: [Errno 28] No space left on device" half-way through
# an install of several GB, with no word of how much it needed.)
require_free_mb() {
  local dir=$1 need=$2 what=$3 fix=$4 free
  [ "${CLAMP_HAND_SKIP_DISK_CHECK:-0}" = 1 ] && return 0
  while [ ! -d "$dir" ] && [ "$dir" != / ]; do dir=$(dirname "$dir"); done
  free=$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 {print int($4 / 1024)}')
  [ -n "$free" ] || return 0  # df cannot tell (unusual file system): let the step try
  if [ "$free" -lt "$need" ]; then
    echo "error: not enough disk space for $what: the file system of $dir has $free MiB free," \
      "about $need MiB are needed." >&2
    echo "  fix: $fix (CLAMP_HAND_SKIP_DISK_CHECK=1 skips this check)" >&2
    exit 1
  fi
}
