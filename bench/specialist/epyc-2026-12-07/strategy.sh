#!/bin/sh
# One strategy at TRIALS on the six suite workloads, no probes measured,
# for the comparison with compare.sh's evolutionary jobs of the same seed:
# `colt` (its default mix: each round 4 model expansions and 32 random
# edits) with the Xeon's specialist as its roster, or `mcts` (the tree with
# random-edit expansions only: colt's ablation).
# Usage: strategy.sh colt|mcts [TRIALS] [SEED] [SUFFIX] (defaults 64, 1,
# none): one JSON summary and report per workload in STRATEGY-TRIALS[SUFFIX]/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
strategy=$1; trials=${2:-64}; seed=${3:-1}; suffix=${4:-}
case "$strategy" in
  colt) models="--models $here/../xeon-2026-12-07/specialist.gguf" ;;
  mcts) models="" ;;
  *) echo "strategy.sh: colt or mcts, not \`$strategy\`" >&2; exit 2 ;;
esac
folder="$here/$strategy-$trials$suffix"
mkdir -p "$folder"
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  # $models is one flag and a path without spaces, or nothing.
  # shellcheck disable=SC2086
  colt tune "$w" --strategy "$strategy" $models --trials "$trials" --seed "$seed" --db "$here/compare.db" \
    --out "${TMPDIR:-/tmp}/colt-$strategy/$w" --json --fresh > "$folder/$w.json"
  cp "${TMPDIR:-/tmp}/colt-$strategy/$w/report.md" "$folder/$w.report.md"
done
