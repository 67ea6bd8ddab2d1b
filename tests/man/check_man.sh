#!/bin/sh
# The installed clance(1) must say what --help says:
#   check_man.sh CLANCE MANPAGE
# 1. MANPAGE is exactly what `clance --help-man` prints now (not stale);
# 2. every command of `clance --help` has a section with its summary, and
#    every option of `clance CMD --help` is in that section;
# 3. groff (when installed) renders it without warnings.
set -eu
clance=$1 page=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check_man: $*" >&2; exit 1; }

"$clance" --help-man > "$tmp/fresh.1"
cmp -s "$tmp/fresh.1" "$page" || fail "$page differs from 'clance --help-man' (rebuild the man target)"

# roff back to plain text: \- -> -, \e -> \, \& and font escapes dropped.
sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\&//g' -e 's/\\f[BIR]//g' "$page" > "$tmp/plain"
# The commands: lines "  NAME  summary" between "Commands:" and the blank line.
"$clance" --help | awk '/^Commands:/ {on=1; next} on && /^$/ {exit} on {print $1}' > "$tmp/cmds"
[ -s "$tmp/cmds" ] || fail "no commands in clance --help"
n=0
while read -r cmd; do
  n=$((n + 1))
  # The command's section: from .SS "cmd" to the next .SS/.SH.
  awk -v c="$cmd" '$0 == ".SS \"" c "\"" {on=1; next} on && /^\.S[SH]/ {exit} on' "$tmp/plain" > "$tmp/sec"
  [ -s "$tmp/sec" ] || fail "no section for command $cmd"
  "$clance" "$cmd" --help > "$tmp/help" || fail "clance $cmd --help failed"
  summary=$(sed -n 3p "$tmp/help")
  grep -qxF -- "$summary" "$tmp/sec" || fail "$cmd: summary \"$summary\" not in the man page"
  synopsis=$(sed -n 1p "$tmp/help" | sed "s/^Usage: clance $cmd //")
  grep -qxF -- "$synopsis" "$tmp/sec" || fail "$cmd: synopsis \"$synopsis\" not in the man page"
  # Options: "  --name [ARG]   help" lines, --help excepted.
  awk '/^Options:/ {on=1; next} on && /^  -/ {print}' "$tmp/help" | while read -r opt rest; do
    [ "$opt" = "--help" ] && continue
    grep -q -- "^\.B $opt\( \|\$\)" "$tmp/sec" || fail "$cmd: option $opt not in the man page"
    text=$(printf '%s\n' "$rest" | sed 's/^[^ ]* *//')
    grep -qF -- "$(printf '%s' "$text" | cut -c1-40)" "$tmp/sec" ||
      fail "$cmd: help of $opt not in the man page"
  done
done < "$tmp/cmds"
if command -v groff >/dev/null; then
  groff -man -ww -z "$page" 2> "$tmp/groff" || true
  [ ! -s "$tmp/groff" ] || { cat "$tmp/groff" >&2; fail "groff warnings"; }
fi
echo "check_man: clance(1) matches --help for $n commands"
