# The per-use C examples as one distributed write: two workers
# (write_fragments), an Overwrite at read version 0 (commit), a third worker
# and an Append at read version 1, a stale Overwrite refused (exit 3), then
# the read back (scan).   -DBIN=<dir of the examples> -DWORK=<scratch dir>
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(DS ${WORK}/pipeline)
function(run expect_rc expect_out)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL expect_rc)
    message(FATAL_ERROR "${ARGN}: exit ${rc} (expected ${expect_rc})\n${out}${err}")
  endif()
  string(FIND "${out}${err}" "${expect_out}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${ARGN}: expected \"${expect_out}\" in:\n${out}${err}")
  endif()
  message(STATUS "${out}${err}")
endfunction()
run(0 "worker 0: 2 fragments, 1000 rows" ${BIN}/write_fragments ${DS} 0 ${WORK}/f0.json)
run(0 "worker 1: 2 fragments, 1000 rows" ${BIN}/write_fragments ${DS} 1 ${WORK}/f1.json)
run(0 "version 1" ${BIN}/commit ${DS} overwrite 0 ${WORK}/f0.json ${WORK}/f1.json)
run(0 "worker 2: 2 fragments, 1000 rows" ${BIN}/write_fragments ${DS} 2 ${WORK}/f2.json)
run(0 "version 2" ${BIN}/commit ${DS} append 1 ${WORK}/f2.json)
run(3 "ECONFLICT_RETRYABLE" ${BIN}/commit ${DS} overwrite 1 ${WORK}/f0.json)
run(0 "version 2: 3000 rows in 6 fragments" ${BIN}/scan ${DS})
# ids 0..2999, x = id/2: sum = 2999*3000/4
run(0 "3000 rows in 9 batches (count: 3000), sum(x) = 2249250.0" ${BIN}/scan ${DS})
run(0 "first: w0-0, last: w2-999" ${BIN}/scan ${DS})
run(0 "filter \"id >= 2500 AND name IS NOT NULL\": 500 rows" ${BIN}/scan ${DS} "id >= 2500 AND name IS NOT NULL")
