#!/usr/bin/env bash
# Every strategy on every suite workload at one trial budget, one `colt
# tune` each (fresh database per run, so no run starts from another's
# records), then a markdown table of the JSON summaries.
#
#   bash bench/suite-64.sh [TRIALS] [OUT]      (defaults: 64, bench/suite-64)
#
# Needs `cargo build --release -p colt-bin` and the default models
# (`bash scripts/fetch-models.sh`). Runs one job at a time: measurements
# must not overlap. Takes about two hours on 2 cores. COLT=path/to/colt
# runs another binary (a copy, so that rebuilding meanwhile changes nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-64}
OUT=${2:-bench/suite-$TRIALS}
STRATEGIES=${STRATEGIES:-colt single mcts evolutionary random}
COLT=${COLT:-./target/release/colt}
WORKLOADS=${WORKLOADS:-$("$COLT" workloads | cut -f1)}
mkdir -p "$OUT"
for w in $WORKLOADS; do
  for s in $STRATEGIES; do
    run="$OUT/$w-$s"
    if [ -s "$run.json" ]; then continue; fi
    rm -rf "$run" "$run.db"*
    "$COLT" tune "$w" --trials "$TRIALS" --strategy "$s" --seed 1 \
      --db "$run.db" --out "$run" --fresh --json > "$run.json.tmp" 2> "$run.log"
    mv "$run.json.tmp" "$run.json"
    echo "$w $s: $(cat "$run.json")"
  done
done
python3 - "$OUT" $STRATEGIES <<'PY'
import json, sys, pathlib
out, strategies = pathlib.Path(sys.argv[1]), sys.argv[2:]
metaschedule = {"gemm-512": 1.21, "llama3-8b-attn": 5.65, "deepseek-r1-moe": 2.09,
                "flux-attn": 17.3, "flux-conv": 1.34, "llama4-scout-mlp": 6.13}
rows = {}
for f in sorted(out.glob("*.json")):
    s = json.loads(f.read_text().strip().splitlines()[-1])
    rows.setdefault(s["workload"], {})[s["strategy"]] = s
lines = ["| workload | naive ms | " + " | ".join(f"{s} ms (x)" for s in strategies)
         + " | MetaSchedule@64 ms | largest-model share (colt) | wall s (colt) |",
         "|---|--:|" + "--:|" * len(strategies) + "--:|--:|--:|"]
for w, by in rows.items():
    naive = next(iter(by.values()))["naive_ms"]
    cells = []
    for s in strategies:
        r = by.get(s)
        cells.append("—" if not r or r["best_ms"] is None else f'{r["best_ms"]:.3f} ({r["speedup"]:.1f}x)')
    colt = by.get("colt", {})
    share = colt.get("largest_model_share")
    lines.append(f"| {w} | {naive:.1f} | " + " | ".join(cells)
                 + f' | {metaschedule.get(w, float("nan"))} | {"—" if share is None else f"{share:.0%}"}'
                 + f' | {colt.get("wall_s", 0):.0f} |')
table = "\n".join(lines) + "\n"
(out / "table.md").write_text(table)
print(table)
PY
