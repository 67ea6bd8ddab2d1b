#!/usr/bin/env bash
# Runs the Kubernetes example (examples/k8s) locally: the commands and
# environment of the Indexed Job and the commit Job are read from the YAML
# (a tiny parser for the fields used there), the volume mount /data becomes a
# temp dir, each pod is a process with JOB_COMPLETION_INDEX set (index 2 runs
# twice, as a retried pod), then the commit pod runs; the dataset is checked.
#   k8s_test.sh PATH/TO/clance
set -u
CLANCE=$(realpath "$1")
K8S=$(cd "$(dirname "$0")/../../examples/k8s" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clance-k8s-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { fails=$((fails + 1)); echo "FAIL $1"; }
expect_eq() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: expected [$2], got [$3]"; fi; }

# yaml_env FILE: the container's env as NAME=VALUE lines, /data -> $WORK/data.
yaml_env() {
  awk '/^ *- name: [A-Z_]+$/ { n = $3; next }
       n != "" && /^ *value: / { v = $0; sub(/^ *value: */, "", v); gsub(/^"|"$/, "", v); print n "=" v }
       { n = "" }' "$1" | sed "s#=/data#=$WORK/data#"
}
# yaml_field FILE KEY: the first scalar value of KEY.
yaml_field() { grep -E "^ *$2: " "$1" | head -1 | sed -E "s/^ *$2: *//; s/^\"|\"$//g"; }
# yaml_script FILE: the script the container runs (command: [sh, /scripts/X]).
yaml_script() { grep -E '^ *command:' "$1" | grep -Eo '/scripts/[A-Za-z0-9_.-]+' | sed "s#^/scripts#$K8S#"; }

W=$K8S/write-job.yaml C=$K8S/commit-job.yaml
expect_eq "Indexed Job" Indexed "$(yaml_field "$W" completionMode)"
expect_eq "shared volume mounted at /data" "/data" "$(grep -Eo 'mountPath: /data' "$W" | head -1 | cut -d' ' -f2)"
n=$(yaml_field "$W" completions)
wscript=$(yaml_script "$W") cscript=$(yaml_script "$C")
[ -f "$wscript" ] && [ -f "$cscript" ] && ok "scripts found" || bad "scripts: [$wscript] [$cscript]"
mapfile -t wenv < <(yaml_env "$W")
mapfile -t cenv < <(yaml_env "$C")
expect_eq "commit job expects every task" "$n" "$(printf '%s\n' "${cenv[@]}" | sed -n 's/^CLANCE_TASKS=//p')"

# The input files the pods read, one per index.
inputs=$(printf '%s\n' "${wenv[@]}" | sed -n 's/^CLANCE_INPUTS=//p')
mkdir -p "$inputs"
for t in $(seq 0 $((n - 1))); do
  for r in 0 1 2; do echo "{\"id\":$((t * 3 + r)),\"name\":\"p$t\"}"; done > "$inputs/part-$t.jsonl"
done
# Like the image: clance on PATH.
mkdir -p "$WORK/bin" && ln -s "$CLANCE" "$WORK/bin/clance"
export PATH=$WORK/bin:$PATH

pids=()
for t in $(seq 0 $((n - 1))); do
  env "${wenv[@]}" JOB_COMPLETION_INDEX="$t" sh "$wscript" > "$WORK/pod-$t.log" 2>&1 &
  pids+=($!)
done
pf=0
for p in "${pids[@]}"; do wait "$p" || pf=$((pf + 1)); done
expect_eq "all $n pods succeeded" 0 "$pf"
env "${wenv[@]}" JOB_COMPLETION_INDEX=2 sh "$wscript" > "$WORK/pod-2b.log" 2>&1 && ok "retried pod" || bad "retried pod: $(cat "$WORK/pod-2b.log")"
out=$(env "${cenv[@]}" sh "$cscript" 2>&1) && ok "commit pod" || bad "commit pod: $out"
expect_eq "commit output" "committed version 1 of $WORK/data/table from $n tasks" "$out"
expect_eq "count" "$((n * 3))" "$("$CLANCE" count "$WORK/data/table")"
expect_eq "rows" "$(cat "$inputs"/*.jsonl | sort)" "$("$CLANCE" scan "$WORK/data/table" | sort)"
expect_eq "one data file per pod (the retry replaced its first one)" "$n" "$(ls "$WORK/data/table/data" | wc -l | tr -d ' ')"
rm "$WORK/data/frags/1.json"
out=$(env "${cenv[@]}" sh "$cscript" 2>&1)
[ $? -ne 0 ] && grep -q "expected $n fragment JSON files" <<<"$out" && ok "commit refuses missing pod output" ||
  bad "missing pod output: $out"

[ "$fails" -eq 0 ] && echo "k8s example: all checks passed"
[ "$fails" -eq 0 ]
