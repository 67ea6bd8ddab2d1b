#!/usr/bin/env bash
# Submit a clance distributed write to slurm: one array task per input file,
# then the commit as a job that runs only when every task succeeded.
#   submit.sh DATASET SCHEMA INPUT_DIR [overwrite|append] [sbatch options...]
# Environment: CLANCE (the clance binary, default: clance on PATH),
# CLANCE_FRAGS (directory for the fragment JSON, default: DATASET.frags; must
# be empty or absent), CLANCE_WRITE_ID (names this write's tasks in the
# dataset's task records, default: a timestamp; resubmit failed tasks with the
# same value so that they replace their earlier output).
# Prints "<array job id> <commit job id>".
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,11p' "$0" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
export CLANCE_DATASET=$1 CLANCE_SCHEMA=$2 CLANCE_INPUTS=$3
export CLANCE_OPERATION=${4:-overwrite}
shift $(($# >= 4 ? 4 : 3))
export CLANCE=${CLANCE:-clance}
export CLANCE_FRAGS=${CLANCE_FRAGS:-$CLANCE_DATASET.frags}
export CLANCE_WRITE_ID=${CLANCE_WRITE_ID:-$(date -u +%Y%m%dT%H%M%S)-$$}
case $CLANCE_OPERATION in overwrite|append) ;; *) echo "operation must be overwrite or append" >&2; exit 2 ;; esac
n=$(ls "$CLANCE_INPUTS" | wc -l)
[ "$n" -gt 0 ] || { echo "no input files in $CLANCE_INPUTS" >&2; exit 1; }
if [ -d "$CLANCE_FRAGS" ] && [ -n "$(ls -A "$CLANCE_FRAGS")" ]; then
  echo "$CLANCE_FRAGS is not empty (fragments of an earlier write?); remove it or set CLANCE_FRAGS" >&2
  exit 1
fi
mkdir -p "$CLANCE_FRAGS"
# The version the write is prepared against: the latest now (0 = no dataset).
CLANCE_READ_VERSION=0
if [ -d "$CLANCE_DATASET/_versions" ]; then
  CLANCE_READ_VERSION=$("$CLANCE" info "$CLANCE_DATASET" | grep -Eo '"version": [0-9]+' | head -1 | grep -Eo '[0-9]+')
fi
export CLANCE_READ_VERSION
array=$(sbatch --parsable --array=0-$((n - 1)) "$@" "$here/worker.sbatch")
array=${array%%;*}
commit=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes "$@" "$here/commit.sbatch")
echo "write $CLANCE_WRITE_ID: array job $array, commit job ${commit%%;*}" >&2
echo "${array} ${commit%%;*}"
