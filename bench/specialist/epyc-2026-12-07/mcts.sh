#!/bin/sh
# `mcts` (the tree with random-edit expansions only, no model: the ablation
# of colt-mix.sh's specialist), on the six suite
# workloads, no probes measured: for the comparison with compare.sh's
# evolutionary jobs of the same seed. Usage: mcts.sh [TRIALS] [SEED] [SUFFIX]
# (defaults 64, 1, none): one JSON summary and report per workload in
# mcts-TRIALS[SUFFIX]/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
trials=${1:-64}; seed=${2:-1}; suffix=${3:-}
folder="$here/mcts-$trials$suffix"
mkdir -p "$folder"
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --strategy mcts --trials "$trials" \
    --seed "$seed" --db "$here/compare.db" --out "${TMPDIR:-/tmp}/colt-mcts/$w" --json --fresh > "$folder/$w.json"
  cp "${TMPDIR:-/tmp}/colt-mcts/$w/report.md" "$folder/$w.report.md"
done
