#!/bin/sh
# evolutionary@TRIALS (the default strategy) on the six suite workloads, run
# right after probes.sh on the same machine, for the comparison with the
# specialist's search. Usage: evolutionary.sh [TRIALS] [SEED] [FOLDER]
# (defaults 64, 1, evolutionary-64).
set -e
here=$(dirname "$0")
trials=${1:-64}; seed=${2:-1}; folder=${3:-evolutionary-64}
mkdir -p "$here/$folder"
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --trials "$trials" --seed "$seed" --db "$here/evolutionary.db" \
    --out "${TMPDIR:-/tmp}/colt-evolutionary/$folder/$w" --json --fresh > "$here/$folder/$w.json"
done
