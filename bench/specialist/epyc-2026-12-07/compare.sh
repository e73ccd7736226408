#!/bin/sh
# On the six suite workloads, one after the other: evolutionary@TRIALS (the
# default strategy), then the tree expanded by the specialist alone
# (`colt:cheap=0:model-share=none`, EXPANSIONS model calls a round, the
# best of ANSWERS answers a call by the cost model), with the specialist
# trained on the Xeon corpus (../xeon-2026-12-07/specialist.gguf).
# Usage: compare.sh [TRIALS] [SEED] [EXPANSIONS] [ANSWERS] [SUFFIX] (defaults 64 1 16 4 and
# none): the JSON goes to evolutionary-TRIALS[SUFFIX]/ and specialist-tree-TRIALS[SUFFIX]/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
trials=${1:-64}; seed=${2:-1}; expansions=${3:-16}; answers=${4:-4}; suffix=${5:-}
model="$here/../xeon-2026-12-07/specialist.gguf"
out=${TMPDIR:-/tmp}/colt-compare
mkdir -p "$here/evolutionary-$trials$suffix" "$here/specialist-tree-$trials$suffix"
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --trials "$trials" --seed "$seed" --db "$here/compare.db" \
    --out "$out/evolutionary/$w" --json --fresh > "$here/evolutionary-$trials$suffix/$w.json"
  colt tune "$w" --strategy colt:cheap=0:model-share=none --expansions "$expansions" --answers "$answers" \
    --models "$model" --trials "$trials" --seed "$seed" --db "$here/compare.db" \
    --out "$out/specialist-tree/$w" --json --fresh > "$here/specialist-tree-$trials$suffix/$w.json"
  cp "$out/specialist-tree/$w/report.md" "$here/specialist-tree-$trials$suffix/$w.report.md"
done
