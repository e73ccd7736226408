#!/bin/bash
# gemm-512 by hand on this part (a Zen 4, 2 vCPUs): which register tiles,
# reduction depths and orders reach MetaSchedule@64's 1.180 ms (97% of the
# measured 234 GFLOP/s peak) in colt's space.
# Run: bash bench/vs-metaschedule/zen4-2026-12-05/hand-gemm.sh (colt built with cargo build --release)
cd "$(dirname "$0")/../../.."  # the repository root
run() { # label, edits...
  local label=$1; shift
  local args=()
  for e in "$@"; do args+=(--apply "$e"); done
  local out=$(COLT_CACHE_DIR=${COLT_CACHE_DIR:-/tmp/hand-gemm-cache} target/release/colt run gemm-512 --sketch 0 "${args[@]}" --json 2>&1)
  echo "$label: $(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["median_ms"],3), round(d["min_ms"],3), d["runs"], d["verified"])' 2>/dev/null || echo "$out" | tail -3)"
}
# i and j are [f1,f2,f3]; the register tile is i's f3 rows by j's f3 columns.
for tile in "[32,1,4] [2,1,64]" "[8,1,4] [1,8,64]" "[2,8,4] [2,4,64]" "[4,4,6] [2,2,64]" "[2,8,8] [2,4,32]" "[1,16,8] [4,4,32]" "[2,4,12] [2,4,32]" "[4,4,8] [2,2,48]" "[2,8,4] [1,4,48]"; do
  set -- $tile
  for k in 4 64 256 512; do
    for pack in none blocked; do
      p=(); [ $pack = blocked ] && p=('pack(stage="C", operand="B", layout="blocked")')
      run "i=$1 j=$2 k=$k pack=$pack" "tile(stage=\"C\", axis=\"i\", factors=$1)" "tile(stage=\"C\", axis=\"j\", factors=$2)" "tile(stage=\"C\", axis=\"k\", factors=[$k])" 'vectorize(stage="C", lanes=16)' 'accumulate(stage="C", into="registers")' 'parallel(stage="C", loops=2)' 'unroll(stage="C", depth=16)' "${p[@]}"
    done
  done
done
