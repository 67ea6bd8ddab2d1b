#!/usr/bin/env bash
# The slurm recipe of docs/slurm.md run for real: a private munged, slurmctld
# and slurmd on localhost (config, key, state and spool in a temp dir), then
# examples/slurm/submit.sh (array job + dependent commit job), an append with
# a task run twice, and checks of the dataset. Exit 77 (ctest SKIP) when slurm
# is not installed or cannot start here.
#   slurm_test.sh PATH/TO/clance
set -u
CLANCE=$(realpath "$1")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }
for p in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
  command -v "$p" >/dev/null || skip "$p not found (install slurm-wlm and munge: scripts/setup.sh)"
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clance-slurm-XXXXXX")
chmod 711 "$WORK" # munged wants its socket's directories traversable by all
export SLURM_CONF=$WORK/slurm.conf
cleanup() {
  scontrol shutdown >/dev/null 2>&1
  for f in "$WORK/slurmctld.pid" "$WORK/slurmd.pid" "$WORK/munge/munged.pid"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || break
      kill "$(cat "$f")" 2>/dev/null
      sleep 0.3
    done
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
logs() { tail -n 15 "$WORK"/munge/munged.log "$WORK"/log/*.log 2>/dev/null; }

# ---- munge with a private key and socket ----
mkdir -p "$WORK/munge" "$WORK/state" "$WORK/spool" "$WORK/log"
chmod 711 "$WORK/munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$WORK/munge/munge.key"
SOCK=$WORK/munge/munge.sock
munged --key-file="$WORK/munge/munge.key" --socket="$SOCK" --pid-file="$WORK/munge/munged.pid" \
  --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/seed" 2>"$WORK/munge/start.err" ||
  skip "munged cannot start: $(cat "$WORK/munge/start.err")"

# ---- slurm on localhost, on ports of our own ----
PORT=$((20000 + (RANDOM % 2000) * 2))
USER_NAME=$(id -un)
cat > "$SLURM_CONF" <<CONF
ClusterName=clance$$
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=$USER_NAME
SlurmdUser=$USER_NAME
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
NodeName=localhost CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF" 2>"$WORK/log/ctld.err" || skip "slurmctld cannot start: $(cat "$WORK/log/ctld.err"; logs)"
[ "$(id -u)" -eq 0 ] || skip "slurmd needs root to run jobs as their users"
slurmd -f "$SLURM_CONF" -N localhost 2>"$WORK/log/d.err" || skip "slurmd cannot start: $(cat "$WORK/log/d.err"; logs)"
state=""
for _ in $(seq 1 40); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || skip "the slurm node does not come up (state \"$state\"): $(logs)"
echo "slurm is up on port $PORT"

fails=0
ok() { echo "ok   $1"; }
bad() { fails=$((fails + 1)); echo "FAIL $1"; }
expect_eq() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: expected [$2], got [$3]"; fi; }
# wait_job ID: until the job leaves the queue (bounded); prints its final state.
wait_job() {
  local s=""
  for _ in $(seq 1 120); do
    s=$(scontrol -o show job "$1" 2>/dev/null | grep -Eo 'JobState=[A-Z_]+' | head -1 | cut -d= -f2)
    case $s in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) break ;; esac
    sleep 0.5
  done
  echo "$s"
}

cd "$WORK"
SPEC='id:int64,name:string'
mkdir in1 in2
for t in 0 1 2 3; do
  for r in 0 1 2 3 4; do
    i=$((t * 5 + r))
    echo "{\"id\":$i,\"name\":\"n$i\"}"
  done > "in1/part-$t.jsonl"
done
printf '{"id":100,"name":"a"}\n{"id":101,"name":"b"}\n' > in2/part-0.jsonl
printf '{"id":102,"name":"c"}\n' > in2/part-1.jsonl

# ---- 1. the recipe as documented: submit.sh = array + afterok commit ----
export CLANCE
ids=$(CLANCE_FRAGS=$WORK/frags1 "$SRC/examples/slurm/submit.sh" "$WORK/ds" "$SPEC" "$WORK/in1") ||
  bad "submit.sh failed"
read -r array commit <<<"$ids"
expect_eq "commit job completed" COMPLETED "$(wait_job "$commit")"
for t in 0 1 2 3; do
  s=$(scontrol -o show job "${array}_$t" 2>/dev/null | grep -Eo 'JobState=[A-Z_]+' | cut -d= -f2)
  [ -z "$s" ] || [ "$s" = COMPLETED ] || bad "array task $t: $s"
done
expect_eq "four fragment JSON files" "0.json 1.json 2.json 3.json" "$(ls frags1 | sort -V | tr '\n' ' ' | sed 's/ $//')"
expect_eq "count after the overwrite" 20 "$("$CLANCE" count ds)"
expect_eq "rows" "$(cat in1/part-*.jsonl | sort)" "$("$CLANCE" scan ds | sort)"
expect_eq "one version" 1 "$("$CLANCE" info ds | grep -Eo '"version": [0-9]+' | head -1 | grep -Eo '[0-9]+')"
grep -q "committed version 1 of $WORK/ds from 4 tasks" slurm-"$commit".out &&
  ok "commit job output" || bad "commit job output: $(cat slurm-"$commit".out)"

# ---- 2. append where task 1 runs twice (a retry): its output counts once ----
export CLANCE_DATASET=$WORK/ds CLANCE_SCHEMA=$SPEC CLANCE_INPUTS=$WORK/in2 CLANCE_FRAGS=$WORK/frags2
export CLANCE_OPERATION=append CLANCE_READ_VERSION=1 CLANCE_WRITE_ID=append1
a1=$(sbatch --parsable --array=0-1 "$SRC/examples/slurm/worker.sbatch")
a2=$(sbatch --parsable --array=1 --dependency=afterany:"$a1" "$SRC/examples/slurm/worker.sbatch")
c2=$(sbatch --parsable --dependency=afterok:"$a1":"$a2" "$SRC/examples/slurm/commit.sbatch")
expect_eq "append commit job completed" COMPLETED "$(wait_job "$c2")"
expect_eq "count after the append" 23 "$("$CLANCE" count ds)"
expect_eq "appended rows once" "$(cat in1/part-*.jsonl in2/part-*.jsonl | sort)" "$("$CLANCE" scan ds | sort)"
grep -q '"attempt": 2' ds/_clance_tasks/append1-1.json && ok "task 1 ran twice" ||
  bad "task record: $(cat ds/_clance_tasks/append1-1.json)"
expect_eq "the retry replaced its first file" 6 "$(ls ds/data | wc -l | tr -d ' ')"

[ "$fails" -eq 0 ] || { logs; exit 1; }
echo "slurm recipe: all checks passed"
