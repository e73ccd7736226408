#!/usr/bin/env python3
"""colt's strategies against MetaSchedule@64, from the bench JSONs and the peer JSONs.

    cd bench/vs-metaschedule/zen3-2026-12-02 && python3 ../summary.py model-free-1/bench.json model-free-2/bench.json

(or from any of the machine folders beside it, with that folder's bench JSONs)

Per workload: each strategy's best ms at 64 trials (median of the repeats, as
`colt bench` reports it), its ratio to MetaSchedule@64 (the better of the
peer's two timings of its best kernel, as colt-report reads it), the trials
its repeats needed to reach that latency (median; '-' where a repeat never
did), and the median wall time of one job.
"""
import json
import statistics
import sys

peers = {}
for arg in sys.argv[1:]:
    report = json.load(open(arg))
    for p in report.get("peers", []):
        peers[p["workload"]] = p

print("| workload | strategy | best ms @64 | / MetaSchedule@64 | trials to MetaSchedule@64 (each repeat) | wall s per job (median) |")
print("|---|---|--:|--:|--:|--:|")
best_free = {}
for arg in sys.argv[1:]:
    for w in json.load(open(arg))["workloads"]:
        name = w["workload"]
        ms = peers[name]["best_ms"]
        for s in w["strategies"]:
            if not s["runs"]:
                continue
            curves = [[c for c in r["curve"][:64] if c is not None] for r in s["runs"]]
            best = statistics.median(min(c) for c in curves if c)
            # A curve is the best so far after each trial: the first trial at or under ms.
            reach = [next((i + 1 for i, c in enumerate(r["curve"][:64]) if c is not None and c <= ms), None) for r in s["runs"]]
            walls = statistics.median(r["wall_s"] for r in s["runs"])
            reach_text = ", ".join("-" if t is None else str(t) for t in reach)
            print(f"| {name} | {s['strategy']} | {best:.3f} | {best / ms:.2f} | {reach_text} | {walls:.0f} |")
            if not s["strategy"].startswith("colt") and (name not in best_free or best < best_free[name][1]):
                best_free[name] = (s["strategy"], best, reach)
        print(f"| {name} | MetaSchedule@64 | {ms:.3f} | 1.00 | | {peers[name]['tuning_wall_s']:.0f} (tuning) |")

print()
print("| workload | best model-free strategy | best ms @64 | / MetaSchedule@64 |")
print("|---|---|--:|--:|")
for name, (strategy, best, _) in best_free.items():
    print(f"| {name} | {strategy} | {best:.3f} | {best / peers[name]['best_ms']:.2f} |")
