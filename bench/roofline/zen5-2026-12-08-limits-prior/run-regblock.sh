#!/bin/bash
# The limits prior with the register block's sums counted once per
# reduction (COLT_REGBLOCK) on the same six workloads and seeds as
# run.sh's, after it, with the limits run.sh measured. Run from this folder.
set -e
COLT_REGBLOCK=${COLT_REGBLOCK:-/tmp/colt-bin/colt-regblock}
export COLT_CACHE_DIR=/tmp/cache-zen5-limits-prior    # run.sh's: its limits and kernels
for seed in 1 3; do
  date -u >> started.txt
  $COLT_REGBLOCK bench --workloads all --strategies evolutionary --trials 16,32,64 --seed $seed --repeats 2 \
    --out regblock-seed$seed > regblock-seed$seed.txt 2>&1
done
date -u >> started.txt
