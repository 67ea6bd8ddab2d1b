#!/usr/bin/env bash
# Set up, build, and run the seed distributed write into ./dist_write:
# two workers write fragments, one coordinator commits, then it is read back
# with the C API and with the CLI.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
"$ROOT/scripts/setup.sh" --no-npm
cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$ROOT/build" distributed_write clance_cli >/dev/null
rm -rf ./dist_write
"$ROOT/build/examples/distributed_write" ./dist_write
echo "--- clance info ./dist_write"
"$ROOT/build/tools/clance" info ./dist_write
echo "--- clance scan ./dist_write"
"$ROOT/build/tools/clance" scan ./dist_write
