#!/bin/bash
# The cost model's prior on this machine's measured limits (COLT_LIMITS,
# this commit) against its generic constants (COLT_MAIN, the commit
# before), evolutionary on the six suite workloads, seeds 1-4, the two
# binaries alternating in blocks of two seeds. Run from this folder.
set -e
COLT_MAIN=${COLT_MAIN:-/tmp/colt-bin/colt-main}
COLT_LIMITS=${COLT_LIMITS:-/tmp/colt-bin/colt-limits}
ROOT=../../..
export COLT_CACHE_DIR=/tmp/cache-zen5-limits-prior    # a fresh kernel cache; limits measured anew
rm -rf $COLT_CACHE_DIR
date -u > started.txt
lscpu > lscpu.txt
gcc -O3 -march=native -fopenmp $ROOT/../shared/peers/peak.c -o /tmp/peak && /tmp/peak 2 100000000 > peak.txt
# Both binaries' benches take these limits (kept beside the kernel cache).
$COLT_LIMITS machine --db /tmp/zen5-limits-prior-machine.db --remeasure > machine.txt
for seed in 1 3; do
  for variant in main limits; do
    bin=$COLT_MAIN; [ $variant = limits ] && bin=$COLT_LIMITS
    date -u >> started.txt
    $bin bench --workloads all --strategies evolutionary --trials 16,32,64 --seed $seed --repeats 2 \
      --out $variant-seed$seed > $variant-seed$seed.txt 2>&1
  done
done
date -u >> started.txt
