! Fortran bindings (iso_c_binding) for the part of <clance/clance.h> a
! simulation needs to write a Lance dataset: the Arrow C Data Interface
! structures, errors, fragments, the Overwrite/Append commit and a read-back.
! Every clance function returns a clance_status (an enum, so integer(c_int));
! CLANCE_OK is 0. Strings passed in must end with c_null_char.
module clance_f
  use, intrinsic :: iso_c_binding
  implicit none
  private :: c_int, c_int64_t, c_ptr, c_funptr, c_char, c_size_t

  integer(c_int), parameter :: CLANCE_OK = 0

  type, bind(C) :: ArrowSchema
    type(c_ptr) :: format, name, metadata
    integer(c_int64_t) :: flags, n_children
    type(c_ptr) :: children, dictionary
    type(c_funptr) :: release
    type(c_ptr) :: private_data
  end type

  type, bind(C) :: ArrowArray
    integer(c_int64_t) :: length, null_count, offset, n_buffers, n_children
    type(c_ptr) :: buffers, children, dictionary
    type(c_funptr) :: release
    type(c_ptr) :: private_data
  end type

  type, bind(C) :: ArrowArrayStream
    type(c_funptr) :: get_schema, get_next, get_last_error, release
    type(c_ptr) :: private_data
  end type

  type, bind(C) :: clance_error
    integer(c_int) :: code
    character(kind=c_char) :: message(1024)
  end type

  interface
    function clance_schema_parse(spec, out, err) bind(C, name="clance_schema_parse")
      import :: c_int, c_char, ArrowSchema, clance_error
      character(kind=c_char), dimension(*), intent(in) :: spec
      type(ArrowSchema), intent(out) :: out
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_schema_parse
    end function
    function clance_write_fragments(uri, schema, stream, options, out, err) &
        bind(C, name="clance_write_fragments")
      import :: c_int, c_char, c_ptr, ArrowArrayStream, clance_error
      character(kind=c_char), dimension(*), intent(in) :: uri
      type(c_ptr), value :: schema, options
      type(ArrowArrayStream), intent(inout) :: stream
      type(c_ptr), intent(out) :: out
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_write_fragments
    end function
    function clance_fragments_to_json(fragments, out, err) bind(C, name="clance_fragments_to_json")
      import :: c_int, c_ptr, clance_error
      type(c_ptr), value :: fragments
      type(c_ptr), intent(out) :: out
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_fragments_to_json
    end function
    function clance_fragments_from_json(json, len, source, out, err) &
        bind(C, name="clance_fragments_from_json")
      import :: c_int, c_ptr, c_size_t, c_char, clance_error
      type(c_ptr), value :: json
      integer(c_size_t), value :: len
      character(kind=c_char), dimension(*), intent(in) :: source
      type(c_ptr), intent(out) :: out
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_fragments_from_json
    end function
    function clance_fragments_new(out, err) bind(C, name="clance_fragments_new")
      import :: c_int, c_ptr, clance_error
      type(c_ptr), intent(out) :: out
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_fragments_new
    end function
    function clance_fragments_extend(dst, src, err) bind(C, name="clance_fragments_extend")
      import :: c_int, c_ptr, clance_error
      type(c_ptr), value :: dst, src
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_fragments_extend
    end function
    subroutine clance_fragments_free(fragments) bind(C, name="clance_fragments_free")
      import :: c_ptr
      type(c_ptr), value :: fragments
    end subroutine
    subroutine clance_free(p) bind(C, name="clance_free")
      import :: c_ptr
      type(c_ptr), value :: p
    end subroutine
    function clance_operation_overwrite(schema, fragments, out, err) &
        bind(C, name="clance_operation_overwrite")
      import :: c_int, c_ptr, ArrowSchema, clance_error
      type(ArrowSchema), intent(in) :: schema
      type(c_ptr), value :: fragments
      type(c_ptr), intent(out) :: out
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_operation_overwrite
    end function
    subroutine clance_operation_free(op) bind(C, name="clance_operation_free")
      import :: c_ptr
      type(c_ptr), value :: op
    end subroutine
    function clance_commit(uri, op, read_version, options, out_version, err) &
        bind(C, name="clance_commit")
      import :: c_int, c_char, c_ptr, c_int64_t, clance_error
      character(kind=c_char), dimension(*), intent(in) :: uri
      type(c_ptr), value :: op, options
      integer(c_int64_t), value :: read_version   ! uint64_t in C
      integer(c_int64_t), intent(out) :: out_version
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_commit
    end function
    function clance_dataset_open(uri, version, out, err) bind(C, name="clance_dataset_open")
      import :: c_int, c_char, c_ptr, c_int64_t, clance_error
      character(kind=c_char), dimension(*), intent(in) :: uri
      integer(c_int64_t), value :: version
      type(c_ptr), intent(out) :: out
      type(clance_error), intent(out) :: err
      integer(c_int) :: clance_dataset_open
    end function
    subroutine clance_dataset_close(ds) bind(C, name="clance_dataset_close")
      import :: c_ptr
      type(c_ptr), value :: ds
    end subroutine
    function clance_dataset_version(ds) bind(C, name="clance_dataset_version")
      import :: c_ptr, c_int64_t
      type(c_ptr), value :: ds
      integer(c_int64_t) :: clance_dataset_version
    end function
    function clance_dataset_count_rows(ds) bind(C, name="clance_dataset_count_rows")
      import :: c_ptr, c_int64_t
      type(c_ptr), value :: ds
      integer(c_int64_t) :: clance_dataset_count_rows
    end function
    function clance_dataset_num_fragments(ds) bind(C, name="clance_dataset_num_fragments")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: ds
      integer(c_size_t) :: clance_dataset_num_fragments
    end function
    function c_strlen(s) bind(C, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: c_strlen
    end function
  end interface

contains

  ! The message of an error as a Fortran string.
  function error_message(err) result(msg)
    type(clance_error), intent(in) :: err
    character(len=1024) :: msg
    integer :: i
    msg = ' '
    do i = 1, 1024
      if (err%message(i) == c_null_char) exit
      msg(i:i) = err%message(i)
    end do
  end function

  subroutine check(status, what, err)
    integer(c_int), intent(in) :: status
    character(len=*), intent(in) :: what
    type(clance_error), intent(in) :: err
    if (status /= CLANCE_OK) then
      write (*, '(a, ": error ", i0, ": ", a)') what, status, trim(error_message(err))
      error stop 1
    end if
  end subroutine
end module clance_f
