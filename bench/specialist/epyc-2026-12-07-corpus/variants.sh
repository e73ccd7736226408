#!/bin/sh
# Two variants of the specialist's training on the same two corpora as
# train.sh, each probed like probes-wide-t0.3 (16 calls a round, no model
# budget, temperature 0.3, 32 trials, seed 0):
# - min-gain: improvements only where the child measured 3% faster or more;
# - no-pretrain: no pretraining phase (measured examples, a quarter as many screened mixed in).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
date -u +%H:%M > variants-started.txt
colt train --db ../xeon-2026-12-07/corpus.db --db corpus.db --out specialist-min-gain.gguf --min-gain 0.03 --quiet > train-min-gain.txt
date -u +%H:%M >> variants-started.txt
colt train --db ../xeon-2026-12-07/corpus.db --db corpus.db --out specialist-no-pretrain.gguf --pretrain-steps 0 --quiet > train-no-pretrain.txt
date -u +%H:%M >> variants-started.txt
for v in min-gain no-pretrain; do
  ./probes.sh 32 0 "probes-wide-t0.3-$v" colt:model-share=none:specialist-temperature=0.3 "$here/specialist-$v.gguf" --expansions 16
  date -u +%H:%M >> variants-started.txt
done
