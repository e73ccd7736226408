#!/bin/bash
# deepseek-r1-moe by hand on this part: does colt's space hold a kernel
# under MetaSchedule@64's 0.838 ms? Every matmul (G, U, Y) gets the same
# register tile (rows x vectors) and reduction panel; H is kept (sketch 1,
# `inline()`, as every fast kernel of the bench) and vectorised.
# Run: bash bench/vs-metaschedule/zen5-2026-12-04-pack-prior/hand-deepseek.sh (colt built with cargo build --release)
cd "$(dirname "$0")/../../.."  # the repository root
run() { # label, edits...
  local label=$1; shift
  local args=()
  for e in "$@"; do args+=(--apply "$e"); done
  local out=$(COLT_CACHE_DIR=${COLT_CACHE_DIR:-/tmp/hand-deepseek-cache} target/release/colt run deepseek-r1-moe --sketch 1 "${args[@]}" --json 2>&1)
  echo "$label: $(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["median_ms"],3), round(d["min_ms"],3), d["runs"], d["verified"])' 2>/dev/null || echo "$out" | tail -3)"
}
h=('tile(stage="H", axis="f", factors=[1,1,64])' 'vectorize(stage="H", lanes=16)' 'parallel(stage="H", loops=1)')
for tile in "[1,8,8] [1,1,32] [1,1,32]" "[1,16,4] [1,1,64] [1,1,64]" "[1,16,4] [1,1,64] [1,1,48]" "[1,4,16] [1,1,16] [1,1,16]"; do
  set -- $tile  # rows of every matmul, G's and U's columns (f), Y's columns (h)
  for k in 64 256 1792; do
    for yk in 128 512; do
      mapfile -t GU < <(for s in G U; do echo "tile(stage=\"$s\", axis=\"t\", factors=$1)"; echo "tile(stage=\"$s\", axis=\"f\", factors=$2)"; echo "tile(stage=\"$s\", axis=\"h\", factors=[$k])"; echo "vectorize(stage=\"$s\", lanes=16)"; echo "accumulate(stage=\"$s\", into=\"registers\")"; echo "parallel(stage=\"$s\", loops=2)"; done)
      mapfile -t Y < <(echo "tile(stage=\"Y\", axis=\"t\", factors=$1)"; echo "tile(stage=\"Y\", axis=\"h\", factors=$3)"; echo "tile(stage=\"Y\", axis=\"f\", factors=[$yk])"; echo 'vectorize(stage="Y", lanes=16)'; echo 'accumulate(stage="Y", into="registers")'; echo 'parallel(stage="Y", loops=2)')
      run "t=$1 f=$2 h=$3 k=$k yk=$yk" "${GU[@]}" "${h[@]}" "${Y[@]}"
    done
  done
done
