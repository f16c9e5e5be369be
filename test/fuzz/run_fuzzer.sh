#!/usr/bin/env bash
# run_fuzzer.sh FUZZER SEED_DIR SCRATCH_DIR SECONDS: replays every seed, then fuzzes for SECONDS.
# Exits non-zero on any crash, leak, sanitizer report or timeout, which fails the ctest case.
set -euo pipefail
fuzzer=$(realpath "$1") seeds=$(realpath "$2") scratch=$3 seconds=$4
[ -x "$fuzzer" ] || { echo "fuzzer binary $fuzzer was not built" >&2; exit 1; }
n=$(find "$seeds" -type f | wc -l)
[ "$n" -gt 0 ] || { echo "no seeds in $seeds" >&2; exit 1; }
rm -rf "$scratch" && mkdir -p "$scratch"
scratch=$(realpath "$scratch")
cd "$scratch"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=16384 \
  -print_final_stats=1 "$scratch" "$seeds"
