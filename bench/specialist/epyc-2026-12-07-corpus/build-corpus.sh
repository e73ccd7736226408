#!/bin/sh
# Tunes the corpus programs `corpus-<family>-<seed>` for seeds FIRST..LAST-1
# (colt-ir's corpus: twelve families, never a suite program) with the default
# strategy into corpus.db: the measured half of the specialist's corpus.
# Usage: build-corpus.sh [FIRST] [LAST] [TRIALS]   (defaults 1000 1048 32)
set -e
here=$(dirname "$0")
first=${1:-1000}; last=${2:-1048}; trials=${3:-32}
families="matmul bmm matvec attention causal-attention window-attention swiglu geglu conv3x3 conv1x1 depthwise rows"
seed=$first
while [ "$seed" -lt "$last" ]; do
  family=$(echo $families | cut -d' ' -f$((seed % 12 + 1)))
  colt tune "corpus-$family-$seed" --trials "$trials" --db "$here/corpus.db" --out "${TMPDIR:-/tmp}/colt-corpus/$seed"
  seed=$((seed + 1))
done
