#!/bin/sh
# One pod of the Indexed Job in write-job.yaml: pod i writes the i-th input
# file (in `ls | sort -V` order) of $CLANCE_INPUTS into $CLANCE_DATASET on the
# shared volume, without committing, and leaves its FragmentMetadata in
# $CLANCE_FRAGS/<i>.json. A retried pod (backoffLimitPerIndex) has the same
# index, so --task-id makes it replace its earlier output.
set -eu
: "${CLANCE:=clance}" "${CLANCE_DATASET:?}" "${CLANCE_SCHEMA:?}" "${CLANCE_INPUTS:?}"
: "${CLANCE_FRAGS:?}" "${CLANCE_OPERATION:=overwrite}" "${CLANCE_WRITE_ID:=write}"
id=${JOB_COMPLETION_INDEX:?run this in an Indexed Job (completionMode: Indexed)}
input=$(ls "$CLANCE_INPUTS" | sort -V | sed -n "$((id + 1))p")
[ -n "$input" ] || { echo "index $id: no input file number $((id + 1)) in $CLANCE_INPUTS" >&2; exit 1; }
mode=create
[ "$CLANCE_OPERATION" = append ] && mode=append
mkdir -p "$CLANCE_FRAGS"
exec "$CLANCE" write-fragments "$CLANCE_DATASET" --schema "$CLANCE_SCHEMA" \
  --input "$CLANCE_INPUTS/$input" --mode "$mode" --no-progress \
  --task-id "$CLANCE_WRITE_ID-$id" --output "$CLANCE_FRAGS/$id.json"
