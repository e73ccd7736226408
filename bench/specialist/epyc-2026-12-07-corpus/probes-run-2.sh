#!/bin/sh
# Probes at many calls a job (16 specialist calls a round, no model-time
# budget, beside the 32 random-edit expansions), 32 trials, seed 0: the
# new specialist at temperatures 0.7, 0.3 and 0, and the Xeon's at 0.7.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
wide="--expansions 16"
date -u +%H:%M > "$here/probes-wide-started.txt"
for t in 0.3 0.7 0; do
  "$here/probes.sh" 32 0 "probes-wide-t$t" "colt:model-share=none:specialist-temperature=$t" "$here/specialist.gguf" $wide
  date -u +%H:%M >> "$here/probes-wide-started.txt"
done
"$here/probes.sh" 32 0 probes-wide-xeon-t0.7 "colt:model-share=none:specialist-temperature=0.7" \
  "$here/../xeon-2026-12-07/specialist.gguf" $wide
date -u +%H:%M >> "$here/probes-wide-started.txt"
