#!/bin/bash
# Warm start of the sixth workload (SIXTH, default flux-conv): its first
# measured round with a database holding the other five workloads'
# trials, against an empty one.
#
#   bash bench/vs-metaschedule/warm-first-round.sh [BENCH_DB...]
#
# Needs colt built (cargo build --release) and bench databases that hold
# the other workloads (not committed: run their benches first). Default:
# the two of model-free-1/ and model-free-2/ (the Zen 3 runs).
# STRATEGIES (default "mcts evolutionary random") and SEEDS (default
# "1 2") choose the jobs, SIXTH the workload left out and tuned; each
# runs warm and empty, with its own empty
# kernel cache so that neither reuses the other's builds.
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root
sources=("$@")
if [ ${#sources[@]} -eq 0 ]; then
  sources=(bench/vs-metaschedule/zen3-2026-12-02/model-free-1/bench.db bench/vs-metaschedule/zen3-2026-12-02/model-free-2/bench.db)
fi
W=${WARM_DIR:-/tmp/warm}; rm -rf $W; mkdir -p $W
SIXTH=${SIXTH:-flux-conv}
for db in "${sources[@]}"; do sqlite3 "$db" "pragma wal_checkpoint(truncate)" >/dev/null; done
cp "${sources[0]}" $W/warm.db
sqlite3 $W/warm.db "delete from trials where job in (select id from jobs where workload = '$SIXTH'); delete from jobs where workload = '$SIXTH'; delete from snapshots;"
offset=100000
for db in "${sources[@]:1}"; do
  sqlite3 $W/warm.db <<SQL
attach '$db' as two;
insert into jobs select id+$offset, workload, workload_text, workload_fingerprint, target, strategy, trials, seed, options_json, state, error, created_unix, updated_unix, baseline_ms from two.jobs where workload != '$SIXTH';
insert into trials (job, workload_fingerprint, target, seed, edits, decisions, source_hash, fingerprint, verified, median_ms, min_ms, max_ms, runs, failure, strategy, model, trial_index, created_unix, sampler)
  select job+$offset, workload_fingerprint, target, seed, edits, decisions, source_hash, fingerprint, verified, median_ms, min_ms, max_ms, runs, failure, strategy, model, trial_index, created_unix, sampler from two.trials where job in (select id from two.jobs where workload != '$SIXTH');
SQL
  offset=$((offset + 100000))
done
sqlite3 $W/warm.db "select workload, count(*) from trials t join jobs j on t.job=j.id where verified=1 group by workload"
for s in ${STRATEGIES:-mcts evolutionary random}; do for seed in ${SEEDS:-1 2}; do for db in warm empty; do
  cp $W/$db.db $W/run.db 2>/dev/null || rm -f $W/run.db
  rm -rf $W/cache; COLT_CACHE_DIR=$W/cache target/release/colt tune $SIXTH --strategy $s --trials 16 --seed $seed --db $W/run.db --out $W/out-$s-$seed-$db --json > $W/out-$s-$seed-$db.json 2>$W/out-$s-$seed-$db.err
  r=$(sqlite3 $W/run.db "select round(min(case when trial_index<8 then median_ms end),3), round(min(median_ms),3) from trials t join jobs j on t.job=j.id where j.workload='$SIXTH' and verified=1")
  echo "$s seed=$seed $db first8|first16: $r"
done; done; done
