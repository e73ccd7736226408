#!/bin/sh
# The specialist alone in the tree on the six suite workloads (none is in
# its corpus), every model call measured against a random edit set at the
# same node (--measure-probes): the measured win rate is in each summary's
# proposal_quality. Usage: probes.sh [TRIALS] [SEED] [FOLDER]
# (defaults 32, 0, probes): one JSON summary per workload in FOLDER.
set -e
here=$(dirname "$0")
trials=${1:-32}; seed=${2:-0}; folder=${3:-probes}
mkdir -p "$here/$folder"
colt machine --db "$here/probes.db" > /dev/null
for w in gemm-512 llama3-8b-attn deepseek-r1-moe flux-attn flux-conv llama4-scout-mlp; do
  colt tune "$w" --strategy colt --models "$here/specialist.gguf" --trials "$trials" --seed "$seed" \
    --measure-probes --db "$here/probes.db" --out "${TMPDIR:-/tmp}/colt-probes/$folder/$w" --json --fresh \
    > "$here/$folder/$w.json"
done
