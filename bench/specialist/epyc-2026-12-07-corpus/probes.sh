#!/bin/sh
# This folder's specialist in the tree on the six suite workloads, every
# model call measured against a random edit set at the same node
# (--measure-probes). Usage: probes.sh [TRIALS] [SEED] [FOLDER] [STRATEGY]
# (defaults 32, 0, probes, colt: the default mix; e.g.
# colt:specialist-temperature=0.3): one JSON summary per workload in
# FOLDER; the table from ../xeon-2026-12-07/winrate.py FOLDER...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
trials=${1:-32}; seed=${2:-0}; folder=${3:-probes}; strategy=${4:-colt}; model=${5:-$here/specialist.gguf}
shift $(($# < 5 ? $# : 5))
mkdir -p "$here/$folder"
colt machine --db "$here/probes.db" > /dev/null
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --strategy "$strategy" --models "$model" --trials "$trials" "$@" \
    --seed "$seed" --measure-probes --db "$here/probes.db" --out "${TMPDIR:-/tmp}/colt-probes/$folder/$w" \
    --json --fresh > "$here/$folder/$w.json"
done
