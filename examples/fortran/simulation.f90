! A simulation that writes its results as a Lance dataset with clance, from
! Fortran through iso_c_binding (module clance_f).
!
!   fortran_simulation DATASET
!
! Two "ranks" each simulate 4 time steps of 5 particles; each writes its rows
! {rank: int32, step: int32, particle: int32, energy: float64} as fragments
! and hands them on as FragmentMetadata JSON. The coordinator commits one
! Overwrite at read version 0 and reopens the dataset: version 1, 40 rows.
! The rows reach clance as an Arrow C stream whose callbacks are Fortran
! procedures (bind(C)) over Fortran arrays.
module particle_stream
  use, intrinsic :: iso_c_binding
  use clance_f
  implicit none
  integer, parameter :: NROWS = 20, NCOLS = 4
  ! The one batch of the stream: columns and Arrow structures (target: their
  ! addresses are handed to C).
  integer(c_int32_t), target :: col_rank(NROWS), col_step(NROWS), col_particle(NROWS)
  real(c_double), target :: col_energy(NROWS)
  type(ArrowArray), target :: children(NCOLS)
  type(c_ptr), target :: child_ptrs(NCOLS), bufs(2, NCOLS), top_bufs(1)
  logical :: done = .false.
contains
  subroutine simulate(rank)
    integer, intent(in) :: rank
    integer :: step, p, i
    i = 0
    do step = 1, 4
      do p = 1, 5
        i = i + 1
        col_rank(i) = rank
        col_step(i) = step
        col_particle(i) = p
        col_energy(i) = 0.5d0 * (rank * 10 + p)**2 / step
      end do
    end do
    done = .false.
  end subroutine

  function get_schema(stream, out) bind(C) result(rc)
    type(ArrowArrayStream), intent(inout) :: stream
    type(ArrowSchema), intent(out) :: out
    integer(c_int) :: rc
    type(clance_error) :: err
    rc = 0
    if (clance_schema_parse("rank:int32,step:int32,particle:int32,energy:float64"//c_null_char, &
                            out, err) /= CLANCE_OK) rc = 22
  end function

  subroutine release_child(arr) bind(C)
    type(ArrowArray), intent(inout) :: arr
    arr%release = c_null_funptr
  end subroutine

  subroutine release_batch(arr) bind(C)
    type(ArrowArray), intent(inout) :: arr
    integer :: k
    do k = 1, NCOLS
      children(k)%release = c_null_funptr
    end do
    arr%release = c_null_funptr
  end subroutine

  function get_next(stream, out) bind(C) result(rc)
    type(ArrowArrayStream), intent(inout) :: stream
    type(ArrowArray), intent(out) :: out
    integer(c_int) :: rc
    integer :: k
    rc = 0
    out%length = 0; out%null_count = 0; out%offset = 0
    out%n_buffers = 0; out%n_children = 0
    out%buffers = c_null_ptr; out%children = c_null_ptr; out%dictionary = c_null_ptr
    out%release = c_null_funptr; out%private_data = c_null_ptr
    if (done) return            ! release == NULL: end of the stream
    done = .true.
    bufs(2, 1) = c_loc(col_rank)
    bufs(2, 2) = c_loc(col_step)
    bufs(2, 3) = c_loc(col_particle)
    bufs(2, 4) = c_loc(col_energy)
    do k = 1, NCOLS
      bufs(1, k) = c_null_ptr   ! no validity bitmap: no nulls
      children(k) = ArrowArray(NROWS, 0, 0, 2, 0, c_loc(bufs(1, k)), c_null_ptr, c_null_ptr, &
                               c_funloc(release_child), c_null_ptr)
      child_ptrs(k) = c_loc(children(k))
    end do
    top_bufs(1) = c_null_ptr
    out = ArrowArray(NROWS, 0, 0, 1, NCOLS, c_loc(top_bufs), c_loc(child_ptrs), c_null_ptr, &
                     c_funloc(release_batch), c_null_ptr)
  end function

  function get_last_error(stream) bind(C) result(msg)
    type(ArrowArrayStream), intent(inout) :: stream
    type(c_ptr) :: msg
    msg = c_null_ptr
  end function

  subroutine release_stream(stream) bind(C)
    type(ArrowArrayStream), intent(inout) :: stream
    stream%release = c_null_funptr
  end subroutine
end module particle_stream

program simulation
  use, intrinsic :: iso_c_binding
  use clance_f
  use particle_stream
  implicit none
  character(len=4096) :: dataset
  type(ArrowArrayStream) :: stream
  type(ArrowSchema) :: schema
  type(clance_error) :: err
  type(c_ptr) :: frags, json(0:1), all, gathered, op, ds
  integer(c_int64_t) :: version, rows
  integer :: rank
  procedure(release_schema_i), pointer :: schema_release
  abstract interface
    subroutine release_schema_i(s) bind(C)
      import :: ArrowSchema
      type(ArrowSchema), intent(inout) :: s
    end subroutine
  end interface

  if (command_argument_count() /= 1) then
    write (*, '(a)') 'usage: fortran_simulation DATASET'
    error stop 2
  end if
  call get_command_argument(1, dataset)

  ! Phase 1: every rank simulates and writes fragments (no commit).
  do rank = 0, 1
    call simulate(rank)
    stream = ArrowArrayStream(c_funloc(get_schema), c_funloc(get_next), &
                              c_funloc(get_last_error), c_funloc(release_stream), c_null_ptr)
    call check(clance_write_fragments(trim(dataset)//c_null_char, c_null_ptr, stream, &
                                      c_null_ptr, frags, err), 'write_fragments', err)
    call check(clance_fragments_to_json(frags, json(rank), err), 'to_json', err)
    call clance_fragments_free(frags)
    write (*, '(a, i0, a, i0, a)') 'rank ', rank, ': ', c_strlen(json(rank)), &
      ' bytes of FragmentMetadata JSON'
  end do

  ! Phase 2: the coordinator gathers the JSON and commits one Overwrite.
  call check(clance_fragments_new(all, err), 'fragments_new', err)
  do rank = 0, 1
    call check(clance_fragments_from_json(json(rank), c_strlen(json(rank)), &
                                          'rank'//c_null_char, gathered, err), 'from_json', err)
    call check(clance_fragments_extend(all, gathered, err), 'extend', err)
    call clance_fragments_free(gathered)
    call clance_free(json(rank))
  end do
  call check(clance_schema_parse("rank:int32,step:int32,particle:int32,energy:float64" &
                                 //c_null_char, schema, err), 'schema', err)
  call check(clance_operation_overwrite(schema, all, op, err), 'overwrite', err)
  call check(clance_commit(trim(dataset)//c_null_char, op, 0_c_int64_t, c_null_ptr, version, &
                           err), 'commit', err)
  call clance_operation_free(op)
  call clance_fragments_free(all)
  call c_f_procpointer(schema%release, schema_release)
  call schema_release(schema)

  ! Read back.
  call check(clance_dataset_open(trim(dataset)//c_null_char, 0_c_int64_t, ds, err), 'open', err)
  version = clance_dataset_version(ds)
  rows = clance_dataset_count_rows(ds)
  write (*, '(a, i0, a, i0, a, i0, a)') 'committed version ', version, ': ', &
    clance_dataset_num_fragments(ds), ' fragments, ', rows, ' rows'
  if (version /= 1 .or. rows /= 40) error stop 1
  call clance_dataset_close(ds)
end program simulation
