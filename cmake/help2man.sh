#!/bin/sh
# Turn a program's --help text into a manual page, so the two never disagree:
#   help2man.sh PROGRAM NAME SUMMARY VERSION OUT
# The --help text is expected in clance's layout: "Usage: ..." first, prose
# paragraphs, an "Options:" block of "  --opt ARG   text" lines (continuation
# lines indented), and a paragraph starting "Exit status:".
set -eu
prog=$1 name=$2 summary=$3 version=$4 out=$5
# MPI programs may need these to print their help as root (in containers).
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$prog" --help > "$out.help"
upper=$(printf '%s' "$name" | tr 'a-z' 'A-Z')
awk -v name="$name" -v upper="$upper" -v summary="$summary" -v version="$version" '
function esc(s) {
  gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s)
  if (s ~ /^[.\047]/) s = "\\&" s
  return s
}
BEGIN {
  print ".\\\" Generated from \"" name " --help\" by cmake/help2man.sh; do not edit."
  print ".TH " upper " 1 \"\" \"clance " version "\" \"User Commands\""
  print ".SH NAME"; print esc(name) " \\- " esc(summary)
  state = "start"
}
state == "start" && /^Usage: / { sub(/^Usage: /, ""); print ".SH SYNOPSIS"; print esc($0); state = "desc"; next }
state == "start" { next }
/^Options:/ { print ".SH OPTIONS"; state = "opts"; next }
/^Exit status:/ { print ".SH EXIT STATUS"; state = "exit" }
state == "desc" && /^$/ { if (!started) { print ".SH DESCRIPTION"; started = 1 } else print ".PP"; next }
state == "opts" && /^  -/ {
  line = $0; sub(/^ +/, "", line)
  n = match(line, /  +/)
  if (n) { opt = substr(line, 1, n - 1); text = substr(line, n); sub(/^ +/, "", text) }
  else { opt = line; text = "" }
  split(opt, w, " "); arg = substr(opt, length(w[1]) + 2)
  print ".TP"
  if (arg != "") print ".B " esc(w[1]) " \\fI" esc(arg) "\\fR"; else print ".B " esc(w[1])
  if (text != "") print esc(text)
  next
}
state == "opts" && /^ +/ { t = $0; sub(/^ +/, "", t); print esc(t); next }
state == "opts" && /^$/ { state = "after"; next }
/^$/ { print ".PP"; next }
{ if (state == "desc" && !started) { print ".SH DESCRIPTION"; started = 1 } print esc($0) }
END {
  print ".SH SEE ALSO"
  print ".BR clance (1),"
  print ".BR mpirun (1)"
}' "$out.help" > "$out.tmp"
rm -f "$out.help"
mv "$out.tmp" "$out"
