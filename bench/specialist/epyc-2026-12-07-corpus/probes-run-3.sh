#!/bin/sh
# The two best-placed temperatures again, at seed 1 (other nodes, other
# random edit sets), like probes-run-2.sh: 16 calls a round, no model-time
# budget, 32 trials.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
date -u +%H:%M > "$here/probes-seed1-started.txt"
for t in 0.3 0.7; do
  "$here/probes.sh" 32 1 "probes-wide-t$t-seed1" "colt:model-share=none:specialist-temperature=$t" "$here/specialist.gguf" --expansions 16
  date -u +%H:%M >> "$here/probes-seed1-started.txt"
done
