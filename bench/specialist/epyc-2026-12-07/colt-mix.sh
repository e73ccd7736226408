#!/bin/sh
# The default `colt` strategy (each round 4 model expansions and 32 random
# edits) with the Xeon's specialist as its roster, on the six suite
# workloads, no probes measured: for the comparison with compare.sh's
# evolutionary jobs of the same seed. Usage: colt-mix.sh [TRIALS] [SEED] [SUFFIX]
# (defaults 64, 1, none): one JSON summary and report per workload in
# colt-TRIALS[SUFFIX]/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
trials=${1:-64}; seed=${2:-1}; suffix=${3:-}
folder="$here/colt-$trials$suffix"
mkdir -p "$folder"
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --strategy colt --models "$here/../xeon-2026-12-07/specialist.gguf" --trials "$trials" \
    --seed "$seed" --db "$here/compare.db" --out "${TMPDIR:-/tmp}/colt-mix/$w" --json --fresh > "$folder/$w.json"
  cp "${TMPDIR:-/tmp}/colt-mix/$w/report.md" "$folder/$w.report.md"
done
