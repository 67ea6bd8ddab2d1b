#!/bin/sh
# Run the two phases in order on the current kubectl context.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kubectl create configmap clance-scripts --from-file="$here/worker.sh" \
  --from-file="$here/commit.sh" --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f "$here/write-job.yaml"
kubectl wait --for=condition=complete job/clance-write --timeout=24h
kubectl apply -f "$here/commit-job.yaml"
kubectl wait --for=condition=complete job/clance-commit --timeout=1h
kubectl logs job/clance-commit
