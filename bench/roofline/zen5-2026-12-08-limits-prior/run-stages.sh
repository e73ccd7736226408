#!/bin/bash
# The limits prior, the register block fix and the tile features read from
# every stage (COLT_STAGES: this commit with ../zen5-2026-12-07-mlp-search/
# patches/all-stage-features.patch applied), on the same six workloads and
# seeds as run.sh's, after it, with the limits run.sh measured. Run from
# this folder.
set -e
COLT_STAGES=${COLT_STAGES:-/tmp/colt-bin/colt-stages}
export COLT_CACHE_DIR=/tmp/cache-zen5-limits-prior    # run.sh's: its limits and kernels
for seed in 1 3; do
  date -u >> started.txt
  $COLT_STAGES bench --workloads all --strategies evolutionary --trials 16,32,64 --seed $seed --repeats 2 \
    --out stages-seed$seed > stages-seed$seed.txt 2>&1
done
date -u >> started.txt
