#!/bin/sh
# Run a program under a real mpirun on this machine, in a container too:
#   mpirun.sh NP PROGRAM [ARGS...]
# No hostfile is needed (more ranks than cores are allowed, no binding), root
# is allowed when we are root, only shared-memory transports are used, and a
# hung run is stopped after CLANCE_MPI_TIMEOUT seconds (default 120).
set -eu
np=$1
shift
MPIEXEC=${MPIEXEC:-mpirun}
flags="--oversubscribe --bind-to none"
if [ "$(id -u)" = 0 ]; then
  flags="$flags --allow-run-as-root"
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
# More ranks than cores: waiting ranks must yield the CPU, not spin.
export OMPI_MCA_mpi_yield_when_idle=1
# Containers often forbid the cross-memory attach the vader BTL uses by default.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_btl=self,vader
# No InfiniBand/UCX probing (warnings and slow start-up on machines without it).
export OMPI_MCA_pml=ob1 OMPI_MCA_osc=pt2pt
export PMIX_MCA_gds=hash
exec timeout --kill-after=10 "${CLANCE_MPI_TIMEOUT:-120}" "$MPIEXEC" $flags -np "$np" "$@"
