#!/bin/sh
# The commit Job of commit-job.yaml, started once the Indexed Job is complete
# (kubectl wait --for=condition=complete job/clance-write): commits every
# task's fragments as one new version of $CLANCE_DATASET.
set -eu
: "${CLANCE:=clance}" "${CLANCE_DATASET:?}" "${CLANCE_SCHEMA:?}" "${CLANCE_FRAGS:?}"
: "${CLANCE_OPERATION:=overwrite}" "${CLANCE_READ_VERSION:=0}" "${CLANCE_TASKS:=0}"
n=$(ls "$CLANCE_FRAGS" | grep -c '\.json$' || true)
if [ "$CLANCE_TASKS" -gt 0 ] && [ "$n" -ne "$CLANCE_TASKS" ]; then
  echo "expected $CLANCE_TASKS fragment JSON files in $CLANCE_FRAGS, found $n" >&2
  exit 1
fi
if [ "$CLANCE_OPERATION" = overwrite ]; then
  set -- --schema "$CLANCE_SCHEMA"
else
  set --
fi
version=$("$CLANCE" commit "$CLANCE_DATASET" --operation "$CLANCE_OPERATION" \
  --read-version "$CLANCE_READ_VERSION" "$@" "$CLANCE_FRAGS"/*.json)
echo "committed version $version of $CLANCE_DATASET from $n tasks"
