#!/bin/sh
# The Xeon's specialist in the tree (the default `colt` mix) on the six
# suite workloads on this machine, every model call measured against a
# random edit set at the same node (--measure-probes), as
# ../xeon-2026-12-07/probes.sh did there. Usage: probes.sh [TRIALS] [SEED] [FOLDER]
# (defaults 32, 0, probes): one JSON summary per workload in FOLDER; the
# table from ../xeon-2026-12-07/winrate.py FOLDER...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
trials=${1:-32}; seed=${2:-0}; folder=${3:-probes}
mkdir -p "$here/$folder"
colt machine --db "$here/probes.db" > /dev/null
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --strategy colt --models "$here/../xeon-2026-12-07/specialist.gguf" --trials "$trials" \
    --seed "$seed" --measure-probes --db "$here/probes.db" --out "${TMPDIR:-/tmp}/colt-probes/$folder/$w" \
    --json --fresh > "$here/$folder/$w.json"
done
