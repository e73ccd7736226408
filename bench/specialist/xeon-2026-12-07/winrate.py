#!/usr/bin/env python3
"""The specialist's measured win rate against random edit sets at the same
nodes, per workload and over all, from the JSON summaries of probes.sh
(one folder or several). Usage: winrate.py FOLDER [FOLDER...]"""
import glob, json, math, sys

def wilson(wins, n, z=1.96):
    if n == 0:
        return (float("nan"), float("nan"))
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half

total_wins = total_n = 0
print("| folder | workload | best ms | calls | measured wins / probes | rate [95%] | mean gain | job wall s |")
print("|---|---|--:|--:|--:|--:|--:|--:|")
for folder in sys.argv[1:]:
    for path in sorted(glob.glob(f"{folder}/*.json")):
        d = json.load(open(path))
        q = d["proposal_quality"][0]
        m = q["measured"]
        low, high = wilson(m["wins"], m["n"])
        print(f"| {folder} | {d['workload']} | {d['best_ms']:.3f} | {q['calls']} | {m['wins']:.0f} / {m['n']} | "
              f"{m['rate']:.2f} [{low:.2f}–{high:.2f}] | {q['measured_gain']:.2f} | {d['wall_s']:.0f} |")
        total_wins += m["wins"]
        total_n += m["n"]
low, high = wilson(total_wins, total_n)
print(f"\nAll: {total_wins:.0f} wins of {total_n} measured probes = {total_wins / total_n:.3f}, "
      f"95% Wilson interval [{low:.3f}, {high:.3f}]")
