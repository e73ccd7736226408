#!/bin/bash
# Issue 39's measurement on a Zen 5 EPYC: peak, limits, torch eager and
# torch.compile, then colt's default strategy on the suite and the four
# workloads beyond it, then main before issue 39 (f2c850d) on the suite.
# Run from this folder; COLT is this commit's binary, COLT_PRE39 f2c850d's.
set -e
COLT=${COLT:-/tmp/colt-bin/colt}
COLT_PRE39=${COLT_PRE39:-/tmp/colt-bin/colt-pre39}
ROOT=../../..
B=$ROOT/workloads/beyond-suite
export COLT_CACHE_DIR=/tmp/cache-zen5-issue39    # a fresh kernel cache, and limits measured anew
rm -rf $COLT_CACHE_DIR
date -u > started.txt
lscpu > lscpu.txt
gcc -O3 -march=native -fopenmp $ROOT/../shared/peers/peak.c -o /tmp/peak && /tmp/peak 2 100000000 > peak.txt
$COLT machine --db /tmp/zen5-issue39-machine.db --remeasure > machine.txt
/work/torchenv/bin/python $ROOT/../shared/peers/torch_peer.py --threads 2 --compile --results-dir peers > torch.txt 2>&1
/work/torchenv/bin/python $ROOT/bench/peers/torch-beyond-suite.py --threads 2 --compile --results-dir peers >> torch.txt 2>&1
date -u >> started.txt
$COLT bench --workloads gemm-512,llama3-8b-attn,deepseek-r1-moe,flux-attn,flux-conv,llama4-scout-mlp,$B/matvec.colt,$B/rmsnorm-rows.colt,$B/attn-odd.colt,$B/bmm-prime.colt \
  --strategies evolutionary --trials 16,32,64 --repeats 2 --out evolutionary --peer-results peers > bench.txt 2>&1
date -u >> started.txt
$COLT_PRE39 bench --workloads all --strategies evolutionary --trials 16,32,64 --repeats 2 --out before-issue39 --peer-results peers > before-issue39.txt 2>&1
date -u >> started.txt
