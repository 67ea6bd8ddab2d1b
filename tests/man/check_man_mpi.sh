#!/bin/sh
# clance-mpi(1) must be what cmake/help2man.sh makes of clance-mpi --help now,
# and carry every option of it:  check_man_mpi.sh CLANCE_MPI MANPAGE
set -eu
prog=$1 page=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
here=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^\.TH [^ ]* 1 "" "clance \([^"]*\)".*/\1/p' "$page")
summary=$(sed -n '/^\.SH NAME/{n;s/^[^ ]* \\- //;s/\\-/-/g;p;}' "$page")
sh "$here/cmake/help2man.sh" "$prog" clance-mpi "$summary" "$version" "$tmp/fresh.1"
cmp -s "$tmp/fresh.1" "$page" || { echo "check_man_mpi: $page is stale" >&2; exit 1; }
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$prog" --help |
  awk '/^Options:/ {on=1; next} on && /^  -/ {print $1}' | while read -r opt; do
    esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
    grep -q "^\.B $esc" "$page" || { echo "check_man_mpi: $opt missing" >&2; exit 1; }
  done
echo "check_man_mpi: clance-mpi(1) matches --help"
