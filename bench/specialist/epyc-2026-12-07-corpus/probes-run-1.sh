#!/bin/sh
# The first probe runs, one after the other: the default temperature (0.7)
# and 0.3, at 32 trials, seed 0.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
date -u +%H:%M > "$here/probes-started.txt"
"$here/probes.sh" 32 0 probes colt
date -u +%H:%M >> "$here/probes-started.txt"
"$here/probes.sh" 32 0 probes-t0.3 colt:specialist-temperature=0.3
date -u +%H:%M >> "$here/probes-started.txt"
