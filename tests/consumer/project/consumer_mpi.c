/* clance_mpi.h compiles and libclance_mpi links (built only when the
 * installed clance has its MPI front end). */
#include <clance/clance_mpi.h>

#include <stdio.h>

int main(void) {
  printf("consumer_mpi: ok (%s)\n", clance_mpi_operation_name((clance_mpi_operation)0));
  return 0;
}
