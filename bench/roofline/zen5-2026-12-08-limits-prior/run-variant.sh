#!/bin/bash
# One more variant after run.sh, on the same six workloads and seeds, with
# the limits run.sh measured: ./run-variant.sh NAME BINARY. Run from this
# folder. The variants run so:
#   ./run-variant.sh regblock /tmp/colt-bin/colt-regblock   # this commit (kept)
#   ./run-variant.sh stages /tmp/colt-bin/colt-stages       # this commit with
#       ../zen5-2026-12-07-mlp-search/patches/all-stage-features.patch applied
set -e
NAME=${1:?variant name}
BIN=${2:?colt binary}
export COLT_CACHE_DIR=/tmp/cache-zen5-limits-prior    # run.sh's: its limits and kernels
for seed in 1 3; do
  date -u >> started.txt
  $BIN bench --workloads all --strategies evolutionary --trials 16,32,64 --seed $seed --repeats 2 \
    --out $NAME-seed$seed > $NAME-seed$seed.txt 2>&1
done
date -u >> started.txt
