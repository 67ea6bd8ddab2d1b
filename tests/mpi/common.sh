# Sourced by the clance-mpi shell tests (tool_test.sh, add_columns_test.sh):
# their common arguments, NP CLANCE_MPI CLANCE WORKDIR INTEROP_DIR|-, a fresh
# work directory, the dataset path and small helpers.
NP=$1 TOOL=$2 CLANCE=$3 W=$4 INTEROP=$5
MPIRUN="sh $HERE/mpirun.sh"
rm -rf "$W"
mkdir -p "$W"
DS="$W/ds.lance"
fail() { echo "FAIL: $*" >&2; exit 1; }
nfiles() { if [ -d "$DS/data" ]; then ls "$DS/data" | wc -l; else echo 0; fi; }
