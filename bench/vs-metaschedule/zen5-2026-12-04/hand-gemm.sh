#!/bin/bash
# gemm-512 by hand on this part: register tile, k panel, B blocked or not.
# Run: bash bench/vs-metaschedule/zen5-2026-12-04/hand-gemm.sh (colt built with cargo build --release)
cd "$(dirname "$0")/../../.."  # the repository root
run() { # label, edits...
  local label=$1; shift
  local args=()
  for e in "$@"; do args+=(--apply "$e"); done
  local out=$(COLT_CACHE_DIR=${COLT_CACHE_DIR:-/tmp/hand-gemm-cache} target/release/colt run gemm-512 --sketch 0 "${args[@]}" --json 2>&1)
  echo "$label: $(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["median_ms"],3), round(d["min_ms"],3), d["runs"], d["verified"])' 2>/dev/null || echo "$out" | tail -3)"
}
base=('vectorize(stage="C", lanes=16)' 'accumulate(stage="C", into="registers")' 'parallel(stage="C", loops=1)')
for tile in "[4,16,8] [1,1,32]" "[2,4,8] [4,4,32]" "[2,8,8] [2,4,32]" "[4,16,8] [1,2,32]" "[4,8,16] [1,1,16]" "[2,6,6] [2,4,32]"; do
  set -- $tile
  for k in 128 256 64; do
    for pack in none blocked; do
      p=(); [ $pack = blocked ] && p=('pack(stage="C", operand="B", layout="blocked")')
      run "i=$1 j=$2 k=$k pack=$pack" "tile(stage=\"C\", axis=\"i\", factors=$1)" "tile(stage=\"C\", axis=\"j\", factors=$2)" "tile(stage=\"C\", axis=\"k\", factors=[$k])" "${base[@]}" "${p[@]}"
    done
  done
done

# second round
for tile in "[2,8,8] [2,4,32]" "[1,16,8] [4,4,32]" "[2,8,8] [4,2,32]" "[4,4,8] [2,4,32]" "[2,16,4] [2,4,32]" "[2,8,8] [1,8,32]"; do set -- $tile
 for k in 256 512; do for par in 1 2; do for u in 0 16; do
  run "i=$1 j=$2 k=$k par=$par unroll=$u" "tile(stage=\"C\", axis=\"i\", factors=$1)" "tile(stage=\"C\", axis=\"j\", factors=$2)" "tile(stage=\"C\", axis=\"k\", factors=[$k])" 'vectorize(stage="C", lanes=16)' 'accumulate(stage="C", into="registers")' "parallel(stage=\"C\", loops=$par)" "unroll(stage=\"C\", depth=$u)"
 done; done; done; done
