#!/bin/sh
# The tree expanded by the specialist alone (no random-edit expansions, no
# model-time budget, 32 model expansions a round) on the six suite
# workloads, for the comparison with evolutionary.sh's jobs.
# Usage: specialist-tree.sh [TRIALS] [SEED] [FOLDER] (defaults 64, 1, specialist-tree-64)
set -e
here=$(dirname "$0")
trials=${1:-64}; seed=${2:-1}; folder=${3:-specialist-tree-64}
mkdir -p "$here/$folder"
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --strategy colt:cheap=0:model-share=none --expansions 32 --models "$here/specialist.gguf" \
    --trials "$trials" --seed "$seed" --db "$here/specialist-tree.db" \
    --out "${TMPDIR:-/tmp}/colt-specialist-tree/$folder/$w" --json --fresh > "$here/$folder/$w.json"
done
